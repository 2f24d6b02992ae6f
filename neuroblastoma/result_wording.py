"""How results are named in words, the same in every renderer (cards, the CLI's text summary).

Each wording loops over the registered staging systems and risk schemas, so a new one is named
without a line here: ``COG 2021: intermediate risk``, ``INRG 2009: group D, low risk``, ``COG
intermediate risk`` / ``INRG group D (low)`` in a card summary.
"""

from __future__ import annotations

from typing import Any

from neuroblastoma.classification import RISK_SCHEMAS, STAGING_SYSTEMS
from neuroblastoma.registry import RiskSchema
from neuroblastoma.results import Classification, RiskOutcome, RiskResult, StageResult
from neuroblastoma.row_wording import RISK_WORDS


def schema_of(result: RiskResult) -> RiskSchema:
    return RISK_SCHEMAS.get(result.schema)


def risks_in_order(result: Classification, primary_schema: str) -> list[RiskResult]:
    """The risk results with the deployment's primary schema first, then the others in registration order."""
    return sorted(result.risks, key=lambda risk: risk.schema != primary_schema)


def outcome_text(result: RiskResult, outcome: RiskOutcome) -> str:
    """``D (low)`` for a schema with groups, ``low`` for one without; ``very low``, never the enum value."""
    words = RISK_WORDS[outcome.risk]
    return f"{outcome.group} ({words})" if schema_of(result).groups else words


def stage_title(result: StageResult[Any]) -> str:
    """``INRG stage L2``; undecided, the stages still possible: ``INRG stage M or MS``."""
    label = STAGING_SYSTEMS.get(result.system).stage_label
    if result.stage is not None:
        return f"{label} {result.stage.value}"
    if result.candidates:
        return f"{label} {' or '.join(stage.value for stage in result.candidates)}"
    return f"{label} undetermined"


def risk_title(result: RiskResult) -> str:
    """``INRG 2009: group D, low risk``, ``COG 2021: intermediate risk``, ``COG 2021: undetermined``."""
    title = schema_of(result).title
    if result.outcome is not None:
        group = f"group {result.outcome.group}, " if result.outcome.group else ""
        return f"{title}: {group}{RISK_WORDS[result.outcome.risk]} risk"
    return f"{title}: not applicable" if result.out_of_scope else f"{title}: undetermined"


def open_outcomes(result: RiskResult) -> str:
    """The outcomes still possible: ``group F (low) or group P (high)``, ``high or intermediate``."""
    group = "group " if schema_of(result).groups else ""
    return " or ".join(dict.fromkeys(f"{group}{outcome_text(result, c)}" for c in result.candidates))


def risk_headline(result: RiskResult) -> str:
    """``COG 2021: intermediate risk``, ``INRG 2009: group D, low risk``, ``COG 2021: high or intermediate``."""
    if result.outcome is None and not result.out_of_scope and result.candidates:
        return f"{schema_of(result).title}: {open_outcomes(result)}"
    return risk_title(result)


def risk_summary_part(result: RiskResult) -> str:
    """A card summary's part: ``COG intermediate risk``, ``INRG group D (low)``, ``COG risk undetermined``."""
    schema = schema_of(result)
    noun = "group" if schema.groups else "risk"
    if result.out_of_scope:
        return f"{schema.short_title} {noun}: not applicable"
    if result.outcome is None:
        return f"{schema.short_title} {noun} undetermined"
    if schema.groups:
        return f"{schema.short_title} group {outcome_text(result, result.outcome)}"
    return f"{schema.short_title} {RISK_WORDS[result.outcome.risk]} risk"
