"""ValueSets of the pathology facts added for the INPC from its parts (issue 18), and their lookups.

Built as in ``value_sets``: one list of (code, value) pairs gives the published ValueSet, the ``*_BY_CODING``
lookup the readers use and the ``*_CODING`` table the encoder writes. No standard code for the MKI class was
found (LOINC none; NCIt C106317 names the index, not its classes), so only ours.
"""

from __future__ import annotations

from collections.abc import Mapping

from fhir_mappings.terminology.local_biology import MKI_CLASS
from fhir_mappings.terminology.model import Code, CodingKey, lookup_table
from fhir_mappings.terminology.value_sets import _known, ours, reverse_table, value_set
from neuroblastoma.biology import MkiClass

_MKI = ours(MKI_CLASS, _known(MkiClass))
MKI_BY_CODING: Mapping[CodingKey, MkiClass] = lookup_table(_MKI)
MKI_CODING: Mapping[MkiClass, Code] = reverse_table(_MKI, MKI_CLASS)
MKI_VS = value_set("mki-class", "Mitosis-karyorrhexis index class",
                   "The pathologist's MKI class (low, intermediate, high); with the category, grade and age it decides "
                   "the INPC class when the call is not reported (Shimada 1999).", _MKI)

__all__ = ["MKI_BY_CODING", "MKI_CODING", "MKI_VS"]
