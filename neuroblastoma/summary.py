"""A classification as plain JSON-ready data: the CLI's ``--json`` output, logs and docs share it.

The INRGSS stage is ``stage``/``stage_candidates``; every other staging system (``inss``: ``{"stage": "1" |
"2A" | "2B" | "3" | "4" | "4S" | null, "candidates": [...], "awaiting": [...]}``) and every risk schema has its
own key (its id), in registration order. Each trace carries its warnings.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from neuroblastoma.classification import RISK_SCHEMAS
from neuroblastoma.results import Classification, RiskOutcome, RiskResult, StageResult, Trace


def _trace(trace: Trace) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "rule": trace.rule,
        "citation": trace.citation,
        "decidedBy": [fact.value for fact in trace.decided_by],
        "steps": list(trace.steps),
        "warnings": [{"code": w.code, "message": w.message} for w in trace.warnings],
    }
    if trace.awaiting:
        summary["awaiting"] = [{"fact": m.fact.value, "why": m.why} for m in trace.awaiting]
    return summary


def _stage(result: StageResult[Enum]) -> dict[str, Any]:
    """``{"stage": "2A" | None, "candidates": [...]}``; a postsurgical system open before surgery also names
    the facts it waits for (``awaiting``: never missing data)."""
    summary: dict[str, Any] = {"stage": result.stage.value if result.stage else None,
                               "candidates": [stage.value for stage in result.candidates]}
    if result.trace.awaiting:
        summary["awaiting"] = [m.fact.value for m in result.trace.awaiting]
    return summary


def _risk(result: RiskResult, groups: bool) -> dict[str, Any]:
    def candidate(outcome: RiskOutcome) -> Any:
        return {"group": outcome.group, "risk": outcome.risk.value} if groups else outcome.risk.value

    summary: dict[str, Any] = {"group": result.group} if groups else {}
    summary["risk"] = result.risk.value if result.risk else None
    summary["candidates"] = [candidate(outcome) for outcome in result.candidates]
    summary["out_of_scope"] = result.out_of_scope
    return summary


def classification_summary(result: Classification, *, with_trace: bool = True) -> dict[str, Any]:
    """The documented summary: patient, stages, every risk schema, missing inputs, warnings, rule set."""
    primary, *parallel = result.stages
    summary: dict[str, Any] = {"patient": result.patient, "stage": _stage(primary)["stage"],
                               "stage_candidates": _stage(primary)["candidates"]}
    summary.update({stage.system: _stage(stage) for stage in parallel})
    summary.update({risk.schema: _risk(risk, RISK_SCHEMAS.get(risk.schema).groups) for risk in result.risks})
    summary["missing"] = [{"fact": m.fact.value, "why": m.why} for m in result.missing]
    summary["warnings"] = [{"code": w.code, "message": w.message} for w in result.all_warnings]
    summary["ruleset"] = result.ruleset
    if with_trace:
        summary["trace"] = {"stage": _trace(primary.trace),
                            **{stage.system: _trace(stage.trace) for stage in parallel},
                            **{risk.schema: _trace(risk.trace) for risk in result.risks}}
    return summary
