"""The neuroblastoma CDS services, declared next to the functions that answer them.

``neuroblastoma-staging`` (patient-view): stage and risk, missing data and work-up cards.
``neuroblastoma-resection-check`` (order-sign; order-select under its own id as well): warns before a
primary-tumour resection is signed without MIBG imaging, or with IDRFs present.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cds_service.protocol.registry import ServiceRegistry
from cds_service.protocol.service_call import ServiceAnswer, ServiceCall
from cds_service.services.cards import missing_data_card, resection_card, stage_risk_card, workup_card
from cds_service.services.cards.card_json import compact
from cds_service.services.data_notes import data_notes
from cds_service.services.prefetch_queries import STAGING_PREFETCH
from cds_service.store import IssuedCard
from fhir_mappings.reading.case_reader import CaseReading, read_case
from fhir_mappings.reading.values import codings
from fhir_mappings.terminology.local_procedures import RESECTION_ORDER_CODINGS
from fhir_mappings.writing.results_to_fhir import result_resources
from fhir_mappings.writing.updates import ResultAction, plan_result
from neuroblastoma.case_json import case_to_json
from neuroblastoma.classification import classify
from neuroblastoma.results import Classification
from neuroblastoma.sources import RULESET_VERSION
from neuroblastoma.workup import missing_pretreatment_assessments

REGISTRY = ServiceRegistry()

STAGING_ID = "neuroblastoma-staging"
RESECTION_ID = "neuroblastoma-resection-check"
USAGE = ("Needs read access to Patient, Condition and Observation (SMART patient/*.read or patient/*.rs). "
         "Inputs are coded as in docs/implementation-guide.md; cards are suggestions for clinicians.")


# json.dumps with these options, without building an encoder per call.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def inputs_digest(reading: CaseReading) -> str:
    """A digest of the mapped inputs and the rule set: the same data always gives the same digest."""
    payload = _CANONICAL_JSON.encode(
        {"case": case_to_json(reading.case), "sources": reading.sources, "ruleset": RULESET_VERSION})
    return hashlib.sha256(payload.encode()).hexdigest()


def _read(call: ServiceCall) -> CaseReading:
    return read_case(call.data.all_resources(), call.request.patient_id)


def _call_key(call: ServiceCall) -> tuple[str, ...]:
    return (call.service_id, call.request.hook_instance, call.request.patient_id)


def _action(plan: ResultAction, label: str) -> dict[str, Any] | None:
    """The card action for a plan, without empty members (CDS Hooks G2): a created Observation is ours and
    has none (results_to_fhir); an updated one is a record from the EHR, so its empty members are dropped."""
    if plan.kind == "create":
        return {"type": "create", "description": f"Record {label} (preliminary)", "resource": plan.resource}
    if plan.kind == "update":
        changes = ", ".join(f"{op['op']} {op['path']}" for op in plan.patch)
        return {"type": "update", "description": f"Update the recorded {label} (JSON Patch: {changes})",
                "resource": compact(plan.resource)}
    return None


def _actions(result: Classification, reading: CaseReading, call: ServiceCall) -> list[dict[str, Any]]:
    actions = []
    for proposed in result_resources(result, reading, call.received_at):
        plan = plan_result(proposed.resource, reading.existing_results)
        if plan.kind == "create" and not proposed.determinate:
            continue  # nothing to record yet: the missing-data card says what is needed
        action = _action(plan, proposed.title)
        if action:
            actions.append(action)
    return actions


@REGISTRY.service(
    id=STAGING_ID,
    hook="patient-view",
    title="Neuroblastoma INRG stage and risk group",
    description=("Assigns the INRG stage (L1, L2, M, MS) and the pretreatment risk group (INRG 2009 and COG 2021) "
                 "of a child's neuroblastoma from FHIR data, explains every input that decided it, and says what "
                 "data is missing."),
    prefetch=STAGING_PREFETCH,
    usage_requirements=USAGE,
)
def staging(call: ServiceCall) -> ServiceAnswer:
    reading = _read(call)
    if not reading.has_neuroblastoma:
        return ServiceAnswer(cards=(), outcome="no-neuroblastoma", inputs_digest=inputs_digest(reading))
    result = classify(reading.case)
    key = _call_key(call)
    card, suggestions = stage_risk_card.stage_risk_card(
        result, reading.case, primary_schema=call.settings.primary_schema, call_key=key,
        actions=_actions(result, reading, call), notes=data_notes(reading))
    cards: list[tuple[dict[str, Any], str, tuple[str, ...]]] = [(card, stage_risk_card.KIND, suggestions)]
    missing = missing_data_card.missing_data_card(result, call_key=key)
    if missing:
        cards.append((missing, missing_data_card.KIND, ()))
    workup = workup_card.workup_card(missing_pretreatment_assessments(reading.case), call_key=key)
    if workup:
        cards.append((workup, workup_card.KIND, ()))
    outcome = "determinate" if result.stage.determinate and not result.missing else "indeterminate"
    return ServiceAnswer(
        cards=tuple(c for c, _, _ in cards),
        issued=tuple(IssuedCard(c["uuid"], kind, s) for c, kind, s in cards),
        classification=result, outcome=outcome, inputs_digest=inputs_digest(reading))


def _resection_orders(call: ServiceCall) -> list[str]:
    context = call.request.context
    selected = set(context.get("selections") or []) if call.request.hook == "order-select" else None
    orders = []
    for entry in context["draftOrders"].get("entry") or []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") not in ("ServiceRequest", "Procedure"):
            continue
        ref = f"{resource['resourceType']}/{resource.get('id', '?')}"
        if selected is not None and ref not in selected:
            continue
        if any(key in RESECTION_ORDER_CODINGS for key in codings(resource.get("code"))):
            orders.append(ref)
    return orders


def _resection_check(call: ServiceCall) -> ServiceAnswer:
    orders = _resection_orders(call)
    if not orders:
        return ServiceAnswer(cards=(), outcome="no-resection-order")
    reading = _read(call)
    if not reading.has_neuroblastoma:
        return ServiceAnswer(cards=(), outcome="no-neuroblastoma", inputs_digest=inputs_digest(reading))
    result = classify(reading.case)
    card = resection_card.resection_card(reading.case, result, orders, call_key=_call_key(call))
    if card is None:
        return ServiceAnswer(cards=(), classification=result, outcome="resection-ok",
                             inputs_digest=inputs_digest(reading))
    return ServiceAnswer(cards=(card,), issued=(IssuedCard(card["uuid"], resection_card.KIND),),
                         classification=result, outcome="resection-warning", inputs_digest=inputs_digest(reading))


_RESECTION_DESCRIPTION = ("Before a resection of the primary neuroblastoma is signed, warns when MIBG imaging has not "
                          "been done and when image-defined risk factors are present (consider neoadjuvant therapy).")

REGISTRY.service(
    id=RESECTION_ID, hook="order-sign", title="Neuroblastoma resection check", description=_RESECTION_DESCRIPTION,
    prefetch=STAGING_PREFETCH, usage_requirements=USAGE, also_accepts=("order-select",),
)(_resection_check)
REGISTRY.service(
    id=f"{RESECTION_ID}-select", hook="order-select", title="Neuroblastoma resection check (order selection)",
    description=_RESECTION_DESCRIPTION, prefetch=STAGING_PREFETCH, usage_requirements=USAGE,
)(_resection_check)
