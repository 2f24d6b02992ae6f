"""Classification → FHIR: one Observation per staging system (INRGSS in mCODE STU4 CancerStage style) and
one per risk schema, coded as ``results_codes`` says for its id. Status ``preliminary``: a suggestion
until a clinician accepts it.

An indeterminate result carries no value: ``dataAbsentReason`` temp-unknown and a note listing what
is missing — never a made-up value. Out of scope (ganglioneuroma, mature) is ``not-applicable``.
For a reading with a patient, the resources have no empty members (no null, "", [] or {}): CDS Hooks
cards carry them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from fhir_mappings.reading.case_reader import CaseReading
from fhir_mappings.results_codes import STAGE_CODINGS, risk_coding
from fhir_mappings.terminology import result_value_sets as rvs
from fhir_mappings.terminology.local_results import DATA_QUALITY
from fhir_mappings.terminology.model import Code
from neuroblastoma.classification import RISK_SCHEMAS, STAGING_SYSTEMS
from neuroblastoma.results import Classification, RiskResult, StageResult, Trace


@dataclass(frozen=True)
class ResultResource:
    """One result Observation, with the id of the staging system or risk schema it records."""

    result_id: str
    title: str
    resource: dict[str, Any]
    determinate: bool


def _concept(*codes: Code, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [code.coding() for code in codes]} if codes else {}
    if text:
        concept["text"] = text
    return concept


def _note(trace: Trace, ruleset: str, sources: tuple[str, ...]) -> list[dict[str, str]]:
    # The matched table row by its content ("L1, MYCN amplified, completely resected"), never its internal label.
    rule = " or ".join(trace.basis) if trace.basis else trace.rule
    parts = [f"{rule} ({trace.citation}); rule set {ruleset}."]
    if trace.missing:
        needs = "; ".join(f"{m.fact.value} ({m.why})" for m in trace.missing)
        parts.append(f"Cannot be assigned yet; needs: {needs}.")
    if trace.awaiting:
        after = ", ".join(m.fact.value for m in trace.awaiting)
        parts.append(f"After surgery (expected before it); needs: {after}.")
    if trace.warnings:
        parts.append("Warnings: " + " ".join(w.message for w in trace.warnings))
    others = [ref for ref in sources if not ref.startswith("Observation/")]
    if others:
        parts.append("Also decided by: " + ", ".join(others) + ".")
    return [{"text": " ".join(parts)}]


def _derived_from(sources: tuple[str, ...]) -> list[dict[str, str]]:
    """Observation.derivedFrom admits Observations (not Patient/Condition): those go in the note."""
    return [{"reference": ref} for ref in sources if ref.startswith("Observation/")]


def _base(reading: CaseReading, code: Code, method: dict[str, Any], effective: datetime, trace: Trace,
          ruleset: str) -> dict[str, Any]:
    sources = reading.case.sources_of(*trace.decided_by)  # the deciding facts' sources: derivedFrom or note
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "preliminary",
        "code": _concept(code),
        "subject": {"reference": reading.patient_ref},
        "effectiveDateTime": effective.isoformat(timespec="seconds"),
        "method": method,
        "note": _note(trace, ruleset, sources),
    }
    if reading.condition_ref:
        resource["focus"] = [{"reference": reading.condition_ref}]
    derived = _derived_from(sources)
    if derived:
        resource["derivedFrom"] = derived
    return resource


def _absent(resource: dict[str, Any], out_of_scope: bool) -> None:
    reason = rvs.ResultAbsence.OUT_OF_SCOPE if out_of_scope else rvs.ResultAbsence.INDETERMINATE
    resource["dataAbsentReason"] = _concept(rvs.DATA_ABSENT_REASON_FOR[reason])


def stage_observation(result: StageResult[Enum], reading: CaseReading, effective: datetime,
                      ruleset: str) -> dict[str, Any]:
    system = STAGING_SYSTEMS.get(result.system)
    coding = STAGE_CODINGS[result.system]
    method = _concept(*coding.method, text=f"{system.title} ({system.source.key}), nbcds rule set {ruleset}")
    resource = _base(reading, coding.code, method, effective, result.trace, ruleset)
    if coding.profile:
        resource["meta"] = {"profile": [coding.profile]}
    if result.stage:
        resource["valueCodeableConcept"] = _concept(*coding.value[result.stage])
    else:
        _absent(resource, out_of_scope=False)
    return resource


def risk_observation(result: RiskResult, reading: CaseReading, effective: datetime, ruleset: str) -> dict[str, Any]:
    schema = RISK_SCHEMAS.get(result.schema)
    coding = risk_coding(result.schema)
    method = _concept(*coding.method, text=f"{schema.title} ({schema.source.key}), nbcds rule set {ruleset}")
    resource = _base(reading, coding.code, method, effective, result.trace, ruleset)
    outcome = result.outcome
    if outcome is None:
        _absent(resource, result.out_of_scope)
        return resource
    group = f"group {outcome.group}, " if outcome.group and coding.component is None else ""
    text = None if coding.method else f"{schema.title}: {group}{outcome.risk.value} risk"
    resource["valueCodeableConcept"] = _concept(*coding.value(outcome), text=text)
    if coding.component:
        resource["component"] = [{"code": _concept(coding.component.code),
                                  "valueCodeableConcept": _concept(*coding.component.level(outcome))}]
    return resource


DATA_QUALITY_CODES = frozenset(concept.code for concept in DATA_QUALITY.concepts)


def _with_data_quality(resource: dict[str, Any], result: Classification) -> dict[str, Any]:
    """A result resting on a record with a data-quality problem says so: a ``meta.tag`` from our data-quality
    CodeSystem per problem, and its message in the note."""
    problems = [w for w in result.all_warnings if w.code in DATA_QUALITY_CODES]
    if problems:
        meta = resource.setdefault("meta", {})
        meta["tag"] = [DATA_QUALITY.code(code).coding() for code in dict.fromkeys(w.code for w in problems)]
        resource["note"][0]["text"] += " Data quality: " + " ".join(w.message for w in problems)
    return resource


def result_resources(result: Classification, reading: CaseReading, effective: datetime) -> tuple[ResultResource, ...]:
    """One Observation per staging system, then one per risk schema, in registration order."""
    stages = tuple(ResultResource(stage.system, STAGING_SYSTEMS.get(stage.system).stage_label,
                                  _with_data_quality(stage_observation(stage, reading, effective, result.ruleset),
                                                     result), stage.determinate)
                   for stage in result.stages)
    risks = tuple(ResultResource(risk.schema, f"{RISK_SCHEMAS.get(risk.schema).title} risk group",
                                 _with_data_quality(risk_observation(risk, reading, effective, result.ruleset), result),
                                 risk.outcome is not None)
                  for risk in result.risks)
    return (*stages, *risks)
