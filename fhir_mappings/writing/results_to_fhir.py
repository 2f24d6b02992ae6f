"""Classification → FHIR: the INRGSS stage Observation (mCODE STU4 CancerStage style) and the INRG 2009
and COG 2021 risk Observations. Status ``preliminary``: a suggestion until a clinician accepts it.

An indeterminate result carries no value: ``dataAbsentReason`` temp-unknown and a note listing what
is missing — never a made-up value. Out of scope (ganglioneuroma, mature) is ``not-applicable``.
For a reading with a patient, the resources have no empty members (no null, "", [] or {}): CDS Hooks
cards carry them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fhir_mappings.reading.case_reader import CaseReading
from fhir_mappings.results_codes import COG_2021_RISK_CODE, INRG_2009_RISK_CODE, STAGE_CODE
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.codes import SCT_INRGSS_METHOD
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.model import Code
from neuroblastoma.results import Classification, RiskLevel, Trace

MCODE_CANCER_STAGE = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-stage"
INRG_RISK_LEVEL_COMPONENT = OBSERVATION_CODES.code("inrg-2009-risk-level")


@dataclass(frozen=True)
class ResultResources:
    stage: dict[str, Any]
    inrg2009: dict[str, Any]
    cog2021: dict[str, Any]

    def all(self) -> tuple[dict[str, Any], ...]:
        return (self.stage, self.inrg2009, self.cog2021)


def _concept(*codes: Code, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [code.coding() for code in codes]}
    if text:
        concept["text"] = text
    return concept


def _note(trace: Trace, ruleset: str, sources: tuple[str, ...]) -> list[dict[str, str]]:
    parts = [f"{trace.rule} ({trace.citation}); rule set {ruleset}."]
    if trace.missing:
        needs = "; ".join(f"{m.fact.value} ({m.why})" for m in trace.missing)
        parts.append(f"Cannot be assigned yet; needs: {needs}.")
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
    reason = vs.ResultAbsence.OUT_OF_SCOPE if out_of_scope else vs.ResultAbsence.INDETERMINATE
    resource["dataAbsentReason"] = _concept(vs.DATA_ABSENT_REASON_FOR[reason])


def stage_observation(result: Classification, reading: CaseReading, effective: datetime) -> dict[str, Any]:
    method = _concept(SCT_INRGSS_METHOD, vs.METHOD_INRGSS,
                      text=f"INRGSS (Monclair 2009), nbcds rule set {result.ruleset}")
    resource = _base(reading, STAGE_CODE, method, effective, result.stage.trace, result.ruleset)
    resource["meta"] = {"profile": [MCODE_CANCER_STAGE]}
    if result.stage.stage:
        resource["valueCodeableConcept"] = _concept(vs.STAGE_CODING[result.stage.stage])
    else:
        _absent(resource, out_of_scope=False)
    return resource


def _risk_concept(own: Code, level: RiskLevel) -> dict[str, Any]:
    return _concept(own, vs.RISK_GENERIC_CODING[level])


def inrg_observation(result: Classification, reading: CaseReading, effective: datetime) -> dict[str, Any]:
    inrg = result.inrg2009
    method = _concept(vs.METHOD_INRG_2009, text=f"INRG 2009 (Cohn 2009), nbcds rule set {result.ruleset}")
    resource = _base(reading, INRG_2009_RISK_CODE, method, effective, inrg.trace, result.ruleset)
    if inrg.outcome:
        resource["valueCodeableConcept"] = _concept(vs.INRG_GROUP_CODING[inrg.outcome.group])
        resource["component"] = [{
            "code": _concept(INRG_RISK_LEVEL_COMPONENT),
            "valueCodeableConcept": _risk_concept(vs.INRG_2009_RISK_CODING[inrg.outcome.risk], inrg.outcome.risk),
        }]
    else:
        _absent(resource, inrg.out_of_scope)
    return resource


def cog_observation(result: Classification, reading: CaseReading, effective: datetime) -> dict[str, Any]:
    cog = result.cog2021
    method = _concept(vs.METHOD_COG_2021, text=f"COG 2021 (Irwin 2021), nbcds rule set {result.ruleset}")
    resource = _base(reading, COG_2021_RISK_CODE, method, effective, cog.trace, result.ruleset)
    if cog.risk:
        resource["valueCodeableConcept"] = _risk_concept(vs.COG_2021_RISK_CODING[cog.risk], cog.risk)
    else:
        _absent(resource, cog.out_of_scope)
    return resource


def result_resources(result: Classification, reading: CaseReading, effective: datetime) -> ResultResources:
    return ResultResources(
        stage_observation(result, reading, effective),
        inrg_observation(result, reading, effective),
        cog_observation(result, reading, effective),
    )
