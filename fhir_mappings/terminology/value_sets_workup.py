"""ValueSets of the facts added for INSS and the pretreatment work-up, and their lookups.

Built as in ``value_sets``: one list of (code, value) pairs gives the published ValueSet, the ``*_BY_CODING``
lookup the readers use and the ``*_CODING`` table the encoder writes. The tumour-size units are UCUM cm and mm
(mCODE TumorSizeUnitsVS); an adrenal primary is SNOMED CT 23451007 (mCODE RadiotherapyTreatmentLocationVS).
"""

from __future__ import annotations

from collections.abc import Mapping

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.local_biology import ALK_STATUS
from fhir_mappings.terminology.model import Code, CodingKey, ValueSetDef, lookup_table
from fhir_mappings.terminology.value_sets import _known, ours, reverse_table, value_set
from neuroblastoma.biology import AlkStatus

_ALK = ours(ALK_STATUS, _known(AlkStatus))
ALK_BY_CODING: Mapping[CodingKey, AlkStatus] = lookup_table(_ALK)
ALK_CODING: Mapping[AlkStatus, Code] = reverse_table(_ALK, ALK_STATUS)
ALK_VS = value_set("alk-status", "ALK status", "ALK mutation, amplification or none; shown and asked for in the "
                   "work-up, never a risk input (Irwin 2021).", _ALK)

#: UCUM length unit of a tumour size -> factor to centimetres.
_SIZE_UNITS = ((std.UCUM_CM, 1.0), (std.UCUM_MM, 0.1))
SIZE_UNIT_TO_CM: Mapping[CodingKey, float] = lookup_table(_SIZE_UNITS)
SIZE_UNIT_VS = value_set("tumour-size-unit", "Tumour size unit", "UCUM cm or mm (mCODE TumorSizeUnitsVS).",
                         _SIZE_UNITS)

ADRENAL_VS = ValueSetDef(
    "adrenal-primary", "Adrenal primary",
    "A primary-site Observation (or the Condition's bodySite) with this coding marks an adrenal primary; it "
    "maps to the abdomen compartment.", (std.SCT_ADRENAL_STRUCTURE,))
ADRENAL_CODINGS: frozenset[CodingKey] = ADRENAL_VS.keys()

#: What the encoder writes for an adrenal primary, before the compartment coding.
ADRENAL_CODING = std.SCT_ADRENAL_STRUCTURE

__all__ = ["ADRENAL_CODING", "ADRENAL_CODINGS", "ADRENAL_VS", "ALK_BY_CODING", "ALK_CODING", "ALK_VS",
           "SIZE_UNIT_TO_CM", "SIZE_UNIT_VS"]
