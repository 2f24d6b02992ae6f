"""The orders the resection check recognises (ServiceRequest/Procedure.code in ``context.draftOrders``).

Two kinds of code:

- **ours**, ``primary-tumour-resection``: the order is the resection of the primary neuroblastic tumour, whatever
  else it says. An EHR maps its surgical order catalogue entries to it (docs/ehr-integration.md).
- **a generic tumour excision** in SNOMED CT, ``370612006 |Excision of neoplasm|``: it names neither the tumour
  nor the site, so it counts as the primary's resection only when the order does not place it elsewhere (see
  ``TUMOUR_EXCISION_CODINGS``). No SNOMED CT code for adrenalectomy or for the excision of an adrenal or
  retroperitoneal tumour could be verified (codes.py says where we looked), so none is listed.
"""

from __future__ import annotations

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.model import CodingKey, Concept, LocalCodeSystem, ValueSetDef

PROCEDURES = LocalCodeSystem(
    name="procedure",
    title="Neuroblastoma procedures",
    description="Orders the neuroblastoma resection check recognises in context.draftOrders.",
    concepts=(
        Concept("primary-tumour-resection", "Resection of the primary neuroblastic tumour",
                "Surgical resection (complete or partial) of the primary neuroblastic tumour. Before it is signed "
                "the service checks that MIBG imaging was done and warns when IDRFs are present (Monclair 2009; "
                "Brisse 2011)."),
    ),
)

#: Orders that are the resection of the primary tumour by their code alone.
PRIMARY_RESECTION_CODINGS: frozenset[CodingKey] = frozenset(code.key for code in PROCEDURES.codes())

#: Generic excisions of a tumour. One is the primary's resection when the order names no body site, or a body site
#: of a neuroblastoma primary (one the body-compartment ValueSet maps: e.g. SNOMED CT adrenal structure), or the
#: neuroblastoma as its reason (``reasonCode``); an excision placed elsewhere (skin, a limb) is not.
TUMOUR_EXCISION_CODINGS: frozenset[CodingKey] = frozenset({std.SCT_EXCISION_OF_NEOPLASM.key})

RESECTION_ORDER_VS = ValueSetDef(
    "resection-order", "Primary tumour resection orders",
    "ServiceRequest.code or Procedure.code values that denote resection of the primary tumour. Ours always does; "
    "SNOMED CT 370612006 (Excision of neoplasm) does unless the order's bodySite places it outside the "
    "neuroblastoma's body compartments (and its reasonCode is not the neuroblastoma).",
    (*PROCEDURES.codes(), std.SCT_EXCISION_OF_NEOPLASM),
)
RESECTION_ORDER_CODINGS = RESECTION_ORDER_VS.keys()
