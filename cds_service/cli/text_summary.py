"""A classification as a few readable lines, for the terminal."""

from __future__ import annotations

from neuroblastoma.results import Classification


def _stage_line(result: Classification) -> str:
    stage = result.stage
    if stage.stage:
        return f"INRG stage {stage.stage.value}  ({stage.trace.rule}; {stage.trace.citation})"
    candidates = ", ".join(s.value for s in stage.candidates)
    return f"INRG stage cannot be assigned: candidates {candidates}"


def _inrg_line(result: Classification) -> str:
    inrg = result.inrg2009
    if inrg.out_of_scope:
        return "INRG 2009: outside the schema (ganglioneuroma, mature)"
    if inrg.outcome:
        return f"INRG 2009: group {inrg.group}, {inrg.outcome.risk.value} risk  ({inrg.trace.citation})"
    candidates = ", ".join(f"{c.group} ({c.risk.value})" for c in inrg.candidates) or "none"
    return f"INRG 2009 cannot be assigned: candidates {candidates}"


def _cog_line(result: Classification) -> str:
    cog = result.cog2021
    if cog.out_of_scope:
        return "COG 2021: outside the schema (ganglioneuroma, mature)"
    if cog.risk:
        return f"COG 2021: {cog.risk.value} risk  ({cog.trace.citation})"
    candidates = ", ".join(r.value for r in cog.candidates) or "none"
    return f"COG 2021 cannot be assigned: candidates {candidates}"


def render_text_summary(result: Classification) -> str:
    lines = [result.patient, *(f"  {line(result)}" for line in (_stage_line, _inrg_line, _cog_line))]
    lines += [f"  needs {m.fact.value}: {m.why}" for m in result.missing]
    lines += [f"  warning: {w.message}" for w in result.all_warnings]
    lines.append(f"  rule set {result.ruleset}")
    return "\n".join(lines)
