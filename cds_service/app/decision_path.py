"""The decision path as the app shows it: facts → extent → stage → table row, for every staging system and risk
schema registered, each fact with its source resources and dates, and what would decide what is still open.

A view model only: every step, row and missing input is the domain's trace (``Classification``); this module
arranges them for the page and adds the sources (``CaseEvidence``) and the test for each missing input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from cds_service.services.cards.attention import Attention, attention_items
from cds_service.services.evidence import CaseEvidence
from fhir_mappings.reading.case_reader import CaseReading
from neuroblastoma.case import FactKey
from neuroblastoma.classification import RISK_SCHEMAS, STAGING_SYSTEMS
from neuroblastoma.deciding_tests import DECIDING_TESTS
from neuroblastoma.fact_descriptions import DESCRIBERS, fact_label, fact_value, recorded_inputs
from neuroblastoma.result_wording import risk_headline, risks_in_order, stage_title
from neuroblastoma.results import Classification, RiskResult, StageResult, Trace

_CITED = re.compile(r"\s*\[([A-Za-z]+/[^\]\s]+)\]$")


@dataclass(frozen=True)
class FactRow:
    fact: str
    label: str
    value: str
    date: str | None
    sources: tuple[str, ...]
    preliminary: bool
    contested: bool
    decides: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    text: str
    source: str | None  # the resource a reasoning line rests on, when it names one


@dataclass(frozen=True)
class Missing:
    label: str
    why: str
    test: str | None
    who: str | None


@dataclass(frozen=True)
class ResultPath:
    kind: str  # "stage" or "risk"
    name: str  # "INRGSS", "COG 2021"
    headline: str
    decided: bool
    steps: tuple[Step, ...]
    basis: tuple[str, ...]
    citation: str
    decided_by: tuple[str, ...]
    missing: tuple[Missing, ...]
    candidates: tuple[str, ...]


@dataclass(frozen=True)
class DecisionPath:
    patient: str
    attention: tuple[Attention, ...]
    facts: tuple[FactRow, ...]
    results: tuple[ResultPath, ...]
    ruleset: str


def _steps(trace: Trace) -> tuple[Step, ...]:
    steps = []
    for text in trace.steps:
        if text.startswith(("matches: ", "could match: ")):
            continue  # the matched or remaining rows are shown as such
        match = _CITED.search(text)
        steps.append(Step(text[: match.start()] if match else text, match.group(1) if match else None))
    return tuple(steps)


def _missing(trace: Trace) -> tuple[Missing, ...]:
    """What would decide an open result: the missing inputs, then those a later step of care supplies (a
    postsurgical system's operative and pathology facts), each with its test."""
    found = []
    for item in (*trace.missing, *trace.awaiting):
        if item.fact is FactKey.STAGE:
            continue
        test = DECIDING_TESTS.get(item.fact)
        why = f"after surgery: {item.why}" if item in trace.awaiting else item.why
        found.append(Missing(fact_label(item.fact), why, test.name_for((item.fact,)) if test else None,
                             test.who if test else None))
    return tuple(found)


def _decided_by(trace: Trace) -> tuple[str, ...]:
    return tuple(fact_label(f) for f in recorded_inputs(trace.decided_by))


def _stage_path(stage: StageResult[Enum]) -> ResultPath:
    return ResultPath("stage", STAGING_SYSTEMS.get(stage.system).title, stage_title(stage), stage.determinate,
                      _steps(stage.trace), stage.trace.basis, stage.trace.citation, _decided_by(stage.trace),
                      _missing(stage.trace), tuple(s.value for s in stage.candidates))


def _risk_path(risk: RiskResult) -> ResultPath:
    basis = risk.trace.basis
    return ResultPath("risk", RISK_SCHEMAS.get(risk.schema).title, risk_headline(risk), risk.outcome is not None,
                      _steps(risk.trace), basis, risk.trace.citation, _decided_by(risk.trace), _missing(risk.trace),
                      basis if risk.outcome is None else ())


def _names(result: Classification) -> list[tuple[str, Trace]]:
    return [*((STAGING_SYSTEMS.get(s.system).stage_label, s.trace) for s in result.stages),
            *((RISK_SCHEMAS.get(r.schema).title, r.trace) for r in result.risks)]


def decision_path(result: Classification, reading: CaseReading, evidence: CaseEvidence,
                  primary_schema: str) -> DecisionPath:
    names = _names(result)
    facts = []
    for fact in DESCRIBERS:
        found = evidence.of(fact)
        decides = tuple(name for name, trace in names if fact in recorded_inputs(trace.decided_by))
        facts.append(FactRow(fact.value, fact_label(fact), fact_value(reading.case, fact), found.date, found.sources,
                             found.preliminary, found.contested, decides))
    results = (*(_stage_path(s) for s in result.stages), *(_risk_path(r) for r in risks_in_order(result,
                                                                                                   primary_schema)))
    return DecisionPath(result.patient, tuple(attention_items(result, reading, evidence)), tuple(facts), results,
                        result.ruleset)
