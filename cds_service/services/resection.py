"""``neuroblastoma-resection-check`` (order-sign; order-select under its own id as well): warns before a
primary-tumour resection is signed without MIBG imaging, or with IDRFs present."""

from __future__ import annotations

from typing import Any

from cds_service.protocol.registry import ServiceAnswer, ServiceCall
from cds_service.services.assessment import assess
from cds_service.services.cards import resection_card
from fhir_mappings.reading.values import codings
from fhir_mappings.terminology.local_procedures import RESECTION_ORDER_CODINGS

ID = "neuroblastoma-resection-check"
TITLE = "Neuroblastoma resection check"
DESCRIPTION = ("Before a resection of the primary neuroblastoma is signed, warns when MIBG imaging has not "
               "been done and when image-defined risk factors are present (consider neoadjuvant therapy).")


def order_name(resource: dict[str, Any]) -> str:
    """What the clinician called the order: its ``code.text``, else its first coding's display."""
    code: dict[str, Any] = resource["code"] if isinstance(resource.get("code"), dict) else {}
    text = code.get("text")
    if isinstance(text, str) and text.strip():
        return text.strip()
    displays = [c.get("display") for c in code.get("coding") or () if isinstance(c, dict)]
    return next((d.strip() for d in displays if isinstance(d, str) and d.strip()), "the resection order")


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
        if any(key in RESECTION_ORDER_CODINGS for key in codings(resource.get("code"))):
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
