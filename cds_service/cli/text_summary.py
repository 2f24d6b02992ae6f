"""A classification as a few readable lines, for the terminal."""

from __future__ import annotations

from enum import Enum

from neuroblastoma.classification import STAGING_SYSTEMS
from neuroblastoma.result_wording import outcome_text, risk_title, schema_of
from neuroblastoma.results import Classification, RiskResult, StageResult


def _stage_line(stage: StageResult[Enum], label: str) -> str:
    if stage.stage:
        return f"{label} {stage.stage.value}  ({stage.trace.rule}; {stage.trace.citation})"
    candidates = ", ".join(s.value for s in stage.candidates)
    system = STAGING_SYSTEMS.get(stage.system)
    if system.postsurgical and stage.trace.awaiting:  # expected before surgery: said plainly, not as missing
        needs = ", ".join(m.fact.value for m in (*stage.trace.missing, *stage.trace.awaiting))
        return f"{system.title}: after surgery (candidates {candidates}; needs {needs})"
    return f"{label} cannot be assigned: candidates {candidates}"


def _risk_line(risk: RiskResult) -> str:
    title = schema_of(risk).title
    if risk.out_of_scope:
        return f"{title}: outside the schema (ganglioneuroma, mature)"
    if risk.outcome:
        return f"{risk_title(risk)}  ({risk.trace.citation})"
    candidates = ", ".join(outcome_text(risk, c) for c in risk.candidates) or "none"
    return f"{title} cannot be assigned: candidates {candidates}"


def render_text_summary(result: Classification) -> str:
    lines = [result.patient]
    lines += [f"  {_stage_line(stage, STAGING_SYSTEMS.get(stage.system).stage_label)}" for stage in result.stages]
    lines += [f"  {_risk_line(risk)}" for risk in result.risks]
    lines += [f"  needs {m.fact.value}: {m.why}" for m in result.missing]
    lines += [f"  warning: {w.message}" for w in result.all_warnings]
    lines.append(f"  rule set {result.ruleset}")
    return "\n".join(lines)
