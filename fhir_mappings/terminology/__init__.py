"""Terminology: the codes we read and write, and our own FHIR CodeSystems and ValueSets.

- ``systems``: code system URLs, including our one canonical base ``NBCDS_FHIR_BASE``.
- ``codes``: standard codes (SNOMED CT, LOINC, NCIt, ICD-10-CM, ICD-O-3, HGNC, UCUM, HL7) as
  ``Code`` constants, each with where it was verified (``VERIFIED_IN``).
- ``local_staging``, ``local_biology``, ``local_results``, ``local_observations``: our CodeSystems.
- ``value_sets``: one ValueSet per fact, and the O(1) ``*_BY_CODING`` lookups built from it.
- ``observation_kinds``: which fact an ``Observation.code`` denotes (``OBSERVATION_KIND_BY_CODING``).
- ``build``: ``python -m fhir_mappings.terminology.build`` regenerates the JSON shipped beside it.
"""

from __future__ import annotations

from fhir_mappings.terminology.model import Code, CodingKey, first_match
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING, ObservationKind
from fhir_mappings.terminology.systems import NBCDS_FHIR_BASE

__all__ = [
    "NBCDS_FHIR_BASE",
    "OBSERVATION_KIND_BY_CODING",
    "Code",
    "CodingKey",
    "ObservationKind",
    "first_match",
]
