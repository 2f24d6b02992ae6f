"""A classification as plain JSON-ready data: the CLI's ``--json`` output, logs and docs share it."""

from __future__ import annotations

from typing import Any

from neuroblastoma.results import Classification, Trace


def _trace(trace: Trace) -> dict[str, Any]:
    return {
        "rule": trace.rule,
        "citation": trace.citation,
        "decidedBy": [fact.value for fact in trace.decided_by],
        "steps": list(trace.steps),
    }


def classification_summary(result: Classification, *, with_trace: bool = True) -> dict[str, Any]:
    """The documented summary: patient, stage, both schemas, missing inputs, warnings, rule set."""
    summary: dict[str, Any] = {
        "patient": result.patient,
        "stage": result.stage.stage.value if result.stage.stage else None,
        "stage_candidates": [stage.value for stage in result.stage.candidates],
        "inrg2009": {
            "group": result.inrg2009.group,
            "risk": result.inrg2009.risk.value if result.inrg2009.risk else None,
            "candidates": [{"group": c.group, "risk": c.risk.value} for c in result.inrg2009.candidates],
            "out_of_scope": result.inrg2009.out_of_scope,
        },
        "cog2021": {
            "risk": result.cog2021.risk.value if result.cog2021.risk else None,
            "candidates": [risk.value for risk in result.cog2021.candidates],
            "out_of_scope": result.cog2021.out_of_scope,
        },
        "missing": [{"fact": m.fact.value, "why": m.why} for m in result.missing],
        "warnings": [{"code": w.code, "message": w.message} for w in result.all_warnings],
        "ruleset": result.ruleset,
    }
    if with_trace:
        summary["trace"] = {
            "stage": _trace(result.stage.trace),
            "inrg2009": _trace(result.inrg2009.trace),
            "cog2021": _trace(result.cog2021.trace),
        }
    return summary
