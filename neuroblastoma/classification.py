"""Stage and both risk schemas for one case, together (product decision 10)."""

from __future__ import annotations

from neuroblastoma.case import Case
from neuroblastoma.cog2021 import classify_cog2021
from neuroblastoma.inrg2009 import classify_inrg2009
from neuroblastoma.results import Classification, Cog2021Result, Inrg2009Result, RiskLevel, RuleWarning
from neuroblastoma.sources import RULESET_VERSION
from neuroblastoma.staging import assign_stage


def _comparable(risk: RiskLevel) -> RiskLevel:
    """COG 2021 has no very-low group: INRG very low agrees with COG low."""
    return RiskLevel.LOW if risk is RiskLevel.VERY_LOW else risk


def schema_disagreement(inrg: Inrg2009Result, cog: Cog2021Result) -> tuple[RuleWarning, ...]:
    if inrg.risk is None or cog.risk is None or _comparable(inrg.risk) is _comparable(cog.risk):
        return ()
    return (RuleWarning(
        "schemas-disagree",
        f"The schemas disagree: INRG 2009 group {inrg.group} is {inrg.risk.value} risk, "
        f"COG 2021 is {cog.risk.value} risk.",
    ),)


def classify(case: Case) -> Classification:
    """Assign the INRGSS stage, then the INRG 2009 group and the COG 2021 risk from that stage."""
    stage = assign_stage(case)
    inrg = classify_inrg2009(case, stage)
    cog = classify_cog2021(case, stage)
    return Classification(case.patient, stage, inrg, cog, RULESET_VERSION, schema_disagreement(inrg, cog))
