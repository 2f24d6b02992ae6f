"""``neuroblastoma-resection-check`` (order-sign; order-select under its own id as well): warns before a
primary-tumour resection is signed without MIBG imaging, or with IDRFs present."""

from __future__ import annotations

from typing import Any

from cds_service.protocol.registry import ServiceAnswer, ServiceCall
from cds_service.services.assessment import assess
from cds_service.services.cards import resection_card
from fhir_mappings.reading.values import codings
from fhir_mappings.terminology.local_procedures import (
    PRIMARY_RESECTION_CODINGS,
    PROCEDURES,
    TUMOUR_EXCISION_CODINGS,
)
from fhir_mappings.terminology.value_sets import COMPARTMENT_BY_CODING, NEUROBLASTOMA_CONDITION_CODINGS

ID = "neuroblastoma-resection-check"
TITLE = "Neuroblastoma resection check"
DESCRIPTION = ("Before a resection of the primary neuroblastoma is signed, warns when MIBG imaging has not "
               "been done and when image-defined risk factors are present (consider neoadjuvant therapy). "
               f"Recognises orders (ServiceRequest or Procedure) coded {PROCEDURES.url}|primary-tumour-resection, "
               "or SNOMED CT 370612006 (Excision of neoplasm) unless their bodySite lies outside the "
               "neuroblastoma's body compartments; other orders get no card.")


def order_name(resource: dict[str, Any]) -> str:
    """What the clinician called the order: its ``code.text``, else its first coding's display."""
    code: dict[str, Any] = resource["code"] if isinstance(resource.get("code"), dict) else {}
    text = code.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    displays = [c.get("display") for c in code.get("coding") or () if isinstance(c, dict)]
    return next((d.strip() for d in displays if isinstance(d, str) and d.strip()), "the resection order")


def is_primary_resection(order: dict[str, Any]) -> bool:
    """Whether a draft order resects the primary tumour (fhir_mappings/terminology/local_procedures.py).

    Our code says so by itself. A generic SNOMED CT excision of a neoplasm does unless the order places it
    elsewhere: it names body sites and none is a neuroblastoma primary's body compartment (SNOMED CT adrenal or
    mediastinal structure, or ours), and its reason is not the neuroblastoma.
    """
    code = set(codings(order.get("code")))
    if code & PRIMARY_RESECTION_CODINGS:
        return True
    if not code & TUMOUR_EXCISION_CODINGS:
        return False
    sites = set(codings(order.get("bodySite")))
    reasons = set(codings(order.get("reasonCode")))
    return not sites or any(site in COMPARTMENT_BY_CODING for site in sites) or bool(
        reasons & NEUROBLASTOMA_CONDITION_CODINGS)


def resection_orders(call: ServiceCall) -> list[str]:
    """The names of the draft orders (selected ones, for order-select) that resect the primary tumour."""
    context = call.request.context
    selected = set(context.selections or []) if call.request.hook == "order-select" else None
    orders = []
    for entry in (context.draft_orders or {}).get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") not in ("ServiceRequest", "Procedure"):
            continue
        ref = f"{resource['resourceType']}/{resource.get('id', '?')}"
        if selected is not None and ref not in selected:
            continue
        if is_primary_resection(resource):
            orders.append(order_name(resource))
    return orders


def answer_resection_check(call: ServiceCall) -> ServiceAnswer:
    orders = resection_orders(call)
    if not orders:
        return ServiceAnswer(outcome="no-resection-order")
    assessment = assess(call)
    result = assessment.classification
    if result is None:
        return ServiceAnswer(outcome="no-neuroblastoma", inputs_digest=assessment.digest, notes=assessment.notes)
    card = resection_card.resection_card(assessment.reading.case, result, orders, call_key=call.key)
    if card is None:
        return ServiceAnswer((), result, "resection-ok", assessment.digest, assessment.notes)
    return ServiceAnswer(((card, resection_card.KIND),), result, "resection-warning", assessment.digest,
                         assessment.notes)
