"""Why the stage and each risk group are what they are, in a few sentences, and the table of deciding inputs.

One sentence for the stage (its deciding facts → the stage), one per risk schema (the table row that matched,
named by its content), all generic over the registered staging systems and risk schemas. The table lists the
inputs that decided a result or would decide one (missing), with the date of the report behind each.
"""

from __future__ import annotations

from enum import Enum

from cds_service.services.cards.markdown import escape_inline as md
from cds_service.services.evidence import CaseEvidence, InputEvidence
from neuroblastoma.case import Case, FactKey
from neuroblastoma.classification import STAGING_SYSTEMS
from neuroblastoma.fact_descriptions import (
    NOT_RECORDED,
    fact_label,
    fact_phrase,
    fact_value,
    lower_first,
    recorded_inputs,
)
from neuroblastoma.result_wording import risk_headline, stage_title
from neuroblastoma.results import Classification, RiskResult, StageResult


def _missing_names(trace_missing: tuple[FactKey, ...]) -> str:
    return ", ".join(dict.fromkeys(lower_first(fact_label(f)) for f in recorded_inputs(trace_missing)))


def awaiting_sentence(stage: StageResult[Enum]) -> str | None:
    """A postsurgical system (INSS) open before surgery, said plainly, never as missing data:
    ``**INSS: after surgery** (candidates 1, 2A, 2B or 3; needs resection, ipsilateral nodes (histology), …).``"""
    system = STAGING_SYSTEMS.get(stage.system)
    if stage.stage is not None or not stage.trace.awaiting or not system.postsurgical:
        return None
    *first, last = [s.value for s in stage.candidates]
    candidates = f"{', '.join(first)} or {last}" if first else last
    needs = _missing_names(tuple(m.fact for m in (*stage.trace.missing, *stage.trace.awaiting)))
    return f"**{md(system.title)}: after surgery** (candidates {md(candidates)}; needs {md(needs)})."


def stage_sentence(stage: StageResult[Enum], case: Case, named: frozenset[FactKey] = frozenset()) -> str:
    """``**INRG stage MS** — age 151 days (4 months), liver metastases, marrow 5 % tumour cells, ….``; the facts in
    ``named`` were said in an earlier sentence: ``**INSS stage 4** — from the findings above.``"""
    if (after_surgery := awaiting_sentence(stage)) is not None:
        return after_surgery
    deciding = recorded_inputs(stage.trace.decided_by)
    phrases = [fact_phrase(case, fact) for fact in deciding if fact not in named]
    title = stage_title(stage)
    if deciding and not phrases:
        phrases = ["from the findings above"]
    sentence = f"**{md(title)}** — {md('; '.join(phrases))}" if phrases else f"**{md(title)}**"
    missing = tuple(m.fact for m in stage.trace.missing)
    if missing:
        sentence += f"; not decided without: {md(_missing_names(missing))}"
    return sentence + "."


def risk_sentence(risk: RiskResult) -> str:
    """``**COG 2021: intermediate risk** — L2, under 18 months, MYCN not amplified.``"""
    headline = md(risk_headline(risk))
    if risk.out_of_scope:
        return f"**{headline}** — {md(risk.trace.steps[0] if risk.trace.steps else risk.trace.citation)}."
    if risk.outcome is None:
        missing = tuple(m.fact for m in risk.trace.missing if m.fact is not FactKey.STAGE)
        depends = _missing_names(missing) or "the stage"
        return f"**{headline}** — depends on {md(depends)}."
    basis = " or ".join(risk.trace.basis) if risk.trace.basis else "; ".join(risk.trace.steps)
    return f"**{headline}** — {md(basis)}." if basis else f"**{headline}**."


def why_sentences(result: Classification, case: Case, risks: list[RiskResult]) -> list[str]:
    """One sentence per staging system (a later one names only the facts the first did not), one per risk schema."""
    first = frozenset(recorded_inputs(result.stage.trace.decided_by))
    stages = [stage_sentence(stage, case, first if index else frozenset())
              for index, stage in enumerate(result.stages)]
    return [*stages, *(risk_sentence(r) for r in risks)]


def _deciding_inputs(result: Classification) -> tuple[FactKey, ...]:
    traces = (*(s.trace for s in result.stages), *(r.trace for r in result.risks))
    facts = [fact for trace in traces for fact in (*trace.decided_by, *(m.fact for m in trace.missing))]
    return recorded_inputs(facts)


def _value_cell(case: Case, found: InputEvidence) -> str:
    value = fact_value(case, found.fact)
    if value.endswith(NOT_RECORDED):
        return f"**{md(value)}**"
    flags = [flag for flag, on in (("preliminary", found.preliminary), ("conflicting reports", found.contested))
             if on]
    return md(value) + (f" (**{', '.join(flags)}**)" if flags else "")


def inputs_table(result: Classification, evidence: CaseEvidence) -> list[str]:
    """``| Input | Value | Date |`` rows of every input that decided or would decide a result. When every dated
    input has the same date, the date is said once in the header and the table has two columns (narrow panels)."""
    found = [evidence.of(fact) for fact in _deciding_inputs(result)]
    dates = {item.date for item in found if item.date}
    if len(dates) == 1:
        rows = [f"| Input | Value (reported {dates.pop()}) |", "|---|---|"]
        return [*rows, *(f"| {md(fact_label(item.fact))} | {_value_cell(evidence.case, item)} |" for item in found)]
    rows = ["| Input | Value | Date |", "|---|---|---|"]
    return [*rows, *(f"| {md(fact_label(item.fact))} | {_value_cell(evidence.case, item)} | {item.date or '—'} |"
                     for item in found)]
