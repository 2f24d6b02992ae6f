"""``neuroblastoma-staging`` (patient-view): the stage and risk card, the missing-data card, the work-up card."""

from __future__ import annotations

from typing import Any

from cds_service.protocol.cards import Action, Card
from cds_service.protocol.registry import ServiceAnswer, ServiceCall
from cds_service.services.app_links import app_link
from cds_service.services.assessment import assess
from cds_service.services.cards import missing_data_card, stage_risk_card, workup_card
from cds_service.services.cards.card_json import compact
from cds_service.services.evidence import case_evidence
from fhir_mappings.reading.case_reader import CaseReading
from fhir_mappings.writing.results_to_fhir import result_resources
from fhir_mappings.writing.updates import ResultAction, plan_result
from neuroblastoma.facts import Presence
from neuroblastoma.results import Classification
from neuroblastoma.workup import pretreatment_workup

ID = "neuroblastoma-staging"
TITLE = "Neuroblastoma INRG stage and risk group"
DESCRIPTION = ("Assigns the INRG stage (L1, L2, M, MS) and the pretreatment risk group (INRG 2009 and COG 2021) "
               "of a child's neuroblastoma from FHIR data, explains every input that decided it, and says what "
               "data is missing.")


def _action(plan: ResultAction, label: str) -> Action | None:
    """The card action for a plan, without empty members (CDS Hooks G2): a created Observation is ours and
    has none (results_to_fhir); an updated one is a record from the EHR, so its empty members are dropped."""
    if plan.kind == "create":
        return Action(type="create", description=f"Record {label} (preliminary)", resource=plan.resource)
    if plan.kind == "update":
        changes = ", ".join(f"{op['op']} {op['path']}" for op in plan.patch)
        resource: dict[str, Any] = compact(plan.resource)
        return Action(type="update", description=f"Update the recorded {label} (JSON Patch: {changes})",
                      resource=resource)
    return None


def _actions(result: Classification, reading: CaseReading, call: ServiceCall) -> tuple[list[Action], bool]:
    """The actions recording the results, and whether every determinate result is already on record."""
    actions = []
    recorded = True
    for proposed in result_resources(result, reading, call.received_at):
        plan = plan_result(proposed.resource, reading.existing_results)
        if plan.kind == "create" and not proposed.determinate:
            continue  # nothing to record yet: the missing-data card says what is needed
        action = _action(plan, proposed.title)
        if action:
            actions.append(action)
            recorded = False
    return actions, recorded and bool(result.stage.determinate)


def answer_staging(call: ServiceCall) -> ServiceAnswer:
    assessment = assess(call)
    result = assessment.classification
    if result is None:
        return ServiceAnswer(outcome="no-neuroblastoma", inputs_digest=assessment.digest, notes=assessment.notes)
    reading = assessment.reading
    evidence = case_evidence(reading, call.data.all_resources())
    actions, recorded = _actions(result, reading, call)
    app_links = tuple(link for link in (app_link(call.base_url, "decision-path"), app_link(call.base_url, "family"))
                      if link)
    cards: list[tuple[Card, str]] = [(stage_risk_card.stage_risk_card(
        result, reading, evidence, primary_schema=call.settings.primary_schema, call_key=call.key,
        actions=actions, recorded=recorded, app_links=app_links), stage_risk_card.KIND)]
    workup_items = pretreatment_workup(reading.case, result)
    missing = missing_data_card.missing_data_card(result, call_key=call.key,
                                                  worksheet_link=app_link(call.base_url, "worksheet"),
                                                  observation=workup_items.observation is Presence.PRESENT)
    if missing:
        cards.append((missing, missing_data_card.KIND))
    requested = {test.key for test, _ in missing_data_card.requests(result)}
    workup = workup_card.workup_card(workup_items, call_key=call.key, already_requested=requested)
    if workup:
        cards.append((workup, workup_card.KIND))
    outcome = "determinate" if result.stage.determinate and not result.missing else "indeterminate"
    return ServiceAnswer(tuple(cards), result, outcome, assessment.digest, assessment.notes)
