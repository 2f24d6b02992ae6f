"""Every registered staging system and risk schema for one case, together (product decision 10).

The registration lines: a new staging system or risk schema is one module plus one line here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from neuroblastoma import cog2021, inrg2009, staging
from neuroblastoma.case import Case
from neuroblastoma.registry import Registry, RiskSchema, StagingSystem
from neuroblastoma.results import Classification, RiskLevel, RiskResult, RuleWarning, StageResult
from neuroblastoma.row_wording import RISK_WORDS
from neuroblastoma.sources import RULESET_VERSION

STAGING_SYSTEMS: Registry[StagingSystem] = Registry("staging system", (
    staging.INRGSS,
))
RISK_SCHEMAS: Registry[RiskSchema] = Registry("risk schema", (
    inrg2009.SCHEMA,
    cog2021.SCHEMA,
))


def _comparable(risk: RiskLevel) -> RiskLevel:
    """COG 2021 has no very-low group: very low agrees with low."""
    return RiskLevel.LOW if risk is RiskLevel.VERY_LOW else risk


def describe_risk(schema: RiskSchema, result: RiskResult) -> str:
    """``INRG 2009 group D is low risk``, ``COG 2021 is intermediate risk``."""
    group = f" group {result.group}" if schema.groups and result.group else ""
    level = RISK_WORDS[result.risk] if result.risk else "undetermined"
    return f"{schema.title}{group} is {level} risk"


def schema_disagreement(risks: Iterable[RiskResult]) -> tuple[RuleWarning, ...]:
    """A warning when two determinate schemas give different risk levels (very low and low agree)."""
    determinate = [r for r in risks if r.risk is not None]
    if len({_comparable(r.risk) for r in determinate if r.risk is not None}) <= 1:
        return ()
    parts = ", ".join(describe_risk(RISK_SCHEMAS.get(r.schema), r) for r in determinate)
    return (RuleWarning("schemas-disagree", f"The schemas disagree: {parts}."),)


def classify(case: Case) -> Classification:
    """Assign every registered stage, then every registered risk schema from the stage it is built on."""
    stages: dict[str, StageResult[Enum]] = {system.id: system.assign(case) for system in STAGING_SYSTEMS}
    risks = tuple(schema.classify(case, stages[schema.staged_by]) for schema in RISK_SCHEMAS)
    return Classification(case.patient, tuple(stages.values()), risks, RULESET_VERSION,
                          schema_disagreement(risks))
