"""Every registered staging system and risk schema for one case, together (product decision 10).

The registration lines: a new staging system or risk schema is one module plus one line here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import replace
from enum import Enum

from neuroblastoma import cog2021, disagreements, inrg2009, inss, staging
from neuroblastoma.case import Case, FactKey, SetAsideAge
from neuroblastoma.registry import Registry, RiskSchema, StagingSystem
from neuroblastoma.results import Classification, RiskLevel, RiskResult, RuleWarning, StageResult
from neuroblastoma.row_wording import RISK_WORDS
from neuroblastoma.sources import RULESET_VERSION

STAGING_SYSTEMS: Registry[StagingSystem] = Registry("staging system", (
    staging.INRGSS,
    inss.INSS,
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


def _results(case: Case) -> tuple[tuple[StageResult[Enum], ...], tuple[RiskResult, ...]]:
    stages: dict[str, StageResult[Enum]] = {system.id: system.assign(case) for system in STAGING_SYSTEMS}
    risks = tuple(schema.classify(case, stages[schema.staged_by]) for schema in RISK_SCHEMAS)
    return tuple(stages.values()), risks


def _outcome(stages: tuple[StageResult[Enum], ...], risks: tuple[RiskResult, ...]) -> Hashable:
    return (tuple((s.stage, s.candidates) for s in stages),
            tuple((r.outcome, r.candidates, r.out_of_scope) for r in risks))


def _described(stages: tuple[StageResult[Enum], ...], risks: tuple[RiskResult, ...]) -> str:
    """``stage M, INRG 2009 group P (high), COG 2021 high``; undetermined results by their candidates."""
    stage = stages[0]
    parts = [f"stage {stage.stage.value}" if stage.stage
             else "stage " + " or ".join(str(c.value) for c in stage.candidates)]
    for risk in risks:
        outcomes = (risk.outcome,) if risk.outcome else risk.candidates
        texts = [f"group {o.group} ({o.risk.value})" if o.group else o.risk.value for o in outcomes]
        parts.append(f"{RISK_SCHEMAS.get(risk.schema).title} " + (" or ".join(texts) or "not applicable"))
    return ", ".join(parts)


def _in_words(stages: tuple[StageResult[Enum], ...], risks: tuple[RiskResult, ...]) -> str:
    """``stage MS, INRG 2009 group C (very low risk), COG 2021 intermediate risk``: another reading's results."""
    stage = stages[0]
    parts = [f"stage {stage.stage.value}" if stage.stage
             else "stage " + " or ".join(str(c.value) for c in stage.candidates)]
    for risk in risks:
        outcomes = (risk.outcome,) if risk.outcome else risk.candidates
        texts = [f"group {o.group} ({RISK_WORDS[o.risk]} risk)" if o.group else f"{RISK_WORDS[o.risk]} risk"
                 for o in outcomes]
        parts.append(f"{RISK_SCHEMAS.get(risk.schema).title} " + (" or ".join(texts) or "not applicable"))
    return ", ".join(parts)


def _age_days_text(age: SetAsideAge) -> str:
    return f"{age.min_days} days" if age.min_days == age.max_days else f"{age.min_days}–{age.max_days} days"


def age_record_warnings(case: Case, stages: tuple[StageResult[Enum], ...],
                        risks: tuple[RiskResult, ...]) -> tuple[RuleWarning, ...]:
    """What the clinician must know about the age at diagnosis (product decision 1 and its refinements in
    docs/clinical-rules.md, "Several diagnoses on record" and "Implausible dates"):

    - dates that cannot be a diagnosis (before birth, in the future, an absurd age): the age is unknown;
    - onsets that disagree across a threshold that matters: the age spans them, the result is undetermined;
    - a record set aside by the rule (a later ``recordedDate`` beside an onset) that would change a result if
      it were used instead: the result follows the rule, and says so (Cohn 2009: age at *diagnosis*)."""
    warnings = []
    if case.age_problem:
        warnings.append(RuleWarning("implausible-date", f"Implausible date: {case.age_problem}. The age at "
                                                        f"diagnosis is not used until the record is corrected."))
    traces = (*(s.trace for s in stages), *(r.trace for r in risks))
    missing_age = any(m.fact is FactKey.AGE for trace in traces for m in trace.missing)
    if case.age_conflict and missing_age:
        warnings.append(RuleWarning("diagnosis-dates-disagree", f"Diagnosis dates disagree: {case.age_conflict}; "
                                                                f"the age-dependent result is left undetermined."))
    changing: dict[tuple[str, str], list[SetAsideAge]] = {}  # one warning per age and outcome, naming every record
    for age in case.set_aside_ages:
        other = _results(replace(case, age_days=age.min_days, age_days_max=age.max_days, set_aside_ages=(),
                                 age_conflict=None, age_problem=None))
        if _outcome(*other) != _outcome(stages, risks):
            changing.setdefault((_age_days_text(age), _described(*other)), []).append(age)
    for (days, described), ages in changing.items():
        records = "; ".join(f"{age.source} ({age.basis})" for age in ages)
        warnings.append(RuleWarning(
            "diagnosis-dates-disagree",
            f"Diagnosis dates disagree: the earliest onset on record gives {case.age}; {records} would give "
            f"{days}: {described}. The earliest onset is used (a later recorded date is when the diagnosis was "
            f"entered, not made)."))
    return tuple(warnings)


def classify(case: Case) -> Classification:
    """Assign every registered stage, then every registered risk schema from the stage it is built on."""
    stages, risks = disagreements.annotate(case, *_results(case), _results, _in_words)
    return Classification(case.patient, stages, risks, RULESET_VERSION,
                          (*schema_disagreement(risks), *age_record_warnings(case, stages, risks)))
