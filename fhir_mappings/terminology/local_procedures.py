"""Our procedure codes: the orders the resection check recognises (ServiceRequest/Procedure.code).

No SNOMED CT procedure code for "resection of a primary neuroblastoma" was verified (adrenalectomy or
generic excision codes name neither the tumour nor the primary), so orders are recognised by our
code; an EHR maps its surgical order catalogue entries to it (docs/implementation-guide.md).
"""

from __future__ import annotations

from fhir_mappings.terminology.model import Concept, LocalCodeSystem, ValueSetDef

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

RESECTION_ORDER_VS = ValueSetDef(
    "resection-order", "Primary tumour resection orders",
    "ServiceRequest.code or Procedure.code values that denote resection of the primary tumour.",
    PROCEDURES.codes(),
)
RESECTION_ORDER_CODINGS = RESECTION_ORDER_VS.keys()
