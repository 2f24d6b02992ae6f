"""The stage and risk card: the result, every input that decided it with its source, and the references."""

from __future__ import annotations

from typing import Literal

from cds_service.protocol.cards import Action, Card, Suggestion
from cds_service.services.cards.card_json import (
    card_source,
    fit_summary,
    override_reasons,
    reference_links,
    stable_uuid,
)
from cds_service.services.cards.markdown import escape_markdown as md
from neuroblastoma.case import Case, FactKey
from neuroblastoma.fact_descriptions import describe_facts
from neuroblastoma.result_wording import risk_summary_part, risk_title, risks_in_order, schema_of, stage_title
from neuroblastoma.results import Classification, RiskLevel, Trace

KIND = "stage-risk"


# Warnings a clinician must see before opening the card: they qualify the result itself (the diagnosis
# date it rests on). Shown in the summary, right after the stage.
SUMMARY_WARNINGS = {"diagnosis-dates-disagree": "⚠ diagnosis dates disagree",
                    "implausible-date": "⚠ implausible date on record"}


def stage_risk_summary(result: Classification, primary_schema: str) -> str:
    stage = result.stage.stage
    stage_part = f"INRG stage {stage.value}" if stage else "INRG stage undetermined"
    flags = dict.fromkeys(SUMMARY_WARNINGS[w.code] for w in result.all_warnings if w.code in SUMMARY_WARNINGS)
    if flags:
        stage_part = " · ".join([stage_part, *flags])
    if all(risk.out_of_scope for risk in result.risks):
        schemas = " and ".join(schema_of(risk).short_title for risk in result.risks)
        return fit_summary(f"{stage_part} · ganglioneuroma (mature): benign, outside {schemas} risk schemas")
    parts = [risk_summary_part(risk) for risk in risks_in_order(result, primary_schema)]
    return fit_summary(" · ".join([stage_part, *parts]))


def _indicator(result: Classification) -> Literal["info", "warning"]:
    high = any(risk.risk is RiskLevel.HIGH for risk in result.risks)
    disagree = any(w.code == "schemas-disagree" for w in result.warnings)
    return "warning" if high or disagree else "info"


def _sources_cell(case: Case, facts: tuple[FactKey, ...]) -> str:
    """The FHIR resources behind facts, as a table cell."""
    refs = case.sources_of(*facts)
    return ", ".join(md(ref) for ref in refs) if refs else "—"


def _trace_block(title: str, trace: Trace, case: Case) -> list[str]:
    lines = [f"**{title}** — {md(trace.rule)}; {md(trace.citation)}"]
    lines += [f"- {md(step)}" for step in trace.steps]
    if trace.decided_by:
        decided = ", ".join([md(f.value) for f in trace.decided_by])
        lines.append(f"- decided by: {decided} (sources: {_sources_cell(case, trace.decided_by)})")
    return lines


def stage_risk_detail(result: Classification, case: Case, primary_schema: str, notes: tuple[str, ...] = ()) -> str:
    lines: list[str] = []
    for stage in result.stages:
        lines += [*(("",) if lines else ()), *_trace_block(stage_title(stage), stage.trace, case)]
    for risk in risks_in_order(result, primary_schema):
        lines += ["", *_trace_block(risk_title(risk), risk.trace, case)]
    lines += ["", "| Input | Value | Source |", "|---|---|---|"]
    for facts, label, value in describe_facts(case):
        lines.append(f"| {md(label)} | {md(value)} | {_sources_cell(case, facts)} |")
    warnings = result.all_warnings
    if warnings:
        lines += ["", "**Warnings**", *[f"- {md(w.message)}" for w in warnings]]
    if notes:
        lines += ["", "**About the data**", *[f"- {md(note)}" for note in notes]]
    lines += ["", f"Rule set {md(result.ruleset)}. A suggestion, not a diagnosis: a clinician confirms the "
                  "stage and risk group (status preliminary until then)."]
    return "\n".join(lines)


def stage_risk_card(
    result: Classification, case: Case, *, primary_schema: str, call_key: tuple[str, ...],
    actions: list[Action], notes: tuple[str, ...] = (),
) -> Card:
    """The card; ``call_key`` (service, hook instance, patient) makes its uuids stable. Its one suggestion
    records the determinate results (``actions``), when there is something to record."""
    suggestions = None
    if actions:
        suggestions = [Suggestion(label="Record the stage and risk groups (preliminary)",
                                  uuid=stable_uuid(*call_key, KIND, "record"), is_recommended=False, actions=actions)]
    return Card(
        uuid=stable_uuid(*call_key, KIND),
        summary=stage_risk_summary(result, primary_schema),
        indicator=_indicator(result),
        detail=stage_risk_detail(result, case, primary_schema, notes),
        source=card_source(),
        suggestions=suggestions,
        selection_behavior="at-most-one" if suggestions else None,
        override_reasons=override_reasons(),
        links=reference_links(),
    )
