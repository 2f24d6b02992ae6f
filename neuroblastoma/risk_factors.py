"""The factors both risk schemas share (stage, age band, MYCN) and the trace they render."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

from neuroblastoma.ages import ALL_AGE_BANDS, AgeBand
from neuroblastoma.biology import HistologicCategory, MycnStatus
from neuroblastoma.case import Case, FactKey
from neuroblastoma.results import MissingInput, RiskOutcome, RuleWarning, Stage, StageResult, Trace
from neuroblastoma.risk_table import Factor, TableMatch
from neuroblastoma.row_wording import RISK_WORDS, describe_row, describe_values

STAGE = Factor("INRG stage", FactKey.STAGE, frozenset(Stage),
               "the INRG stage selects the block of the risk table")
AGE = Factor("age at diagnosis", FactKey.AGE, ALL_AGE_BANDS,
             "the age band (< 12, 12 to < 18, ≥ 18 months) changes the risk group")
MYCN = Factor("MYCN", FactKey.MYCN, frozenset({MycnStatus.AMPLIFIED, MycnStatus.NOT_AMPLIFIED}),
              "MYCN amplification makes the tumour high risk in most stages")

UNDER_18_MONTHS = frozenset({AgeBand.UNDER_12_MONTHS, AgeBand.FROM_12_TO_18_MONTHS})

StageInput = Stage | StageResult[Stage]


def possible_stages(stage: StageInput) -> frozenset[Stage]:
    if isinstance(stage, Stage):
        return frozenset({stage})
    return frozenset(stage.candidates)


def possible_ages(case: Case, stages: frozenset[Stage]) -> frozenset[AgeBand]:
    """Age bands consistent with the record; MS is by definition under 18 months (Monclair 2009)."""
    age = case.age
    bands = age.possible_bands() if age is not None else ALL_AGE_BANDS
    if stages == {Stage.MS}:
        bands = bands & UNDER_18_MONTHS
    return bands


def shared_factors(case: Case, stage: StageInput) -> dict[Factor, frozenset[Hashable]]:
    """The possible values of the factors both schemas read: stage, age band and MYCN."""
    stages = possible_stages(stage)
    return {STAGE: stages, AGE: possible_ages(case, stages), MYCN: possible_mycn(case)}


def possible_mycn(case: Case) -> frozenset[Hashable]:
    """The lab's call; MYCN gain counts as not amplified (clinical-rules §3.2)."""
    if case.mycn is MycnStatus.UNKNOWN:
        return MYCN.domain
    if case.mycn is MycnStatus.GAIN:
        return frozenset({MycnStatus.NOT_AMPLIFIED})
    return frozenset({case.mycn})


def mycn_gain_warning(case: Case) -> tuple[RuleWarning, ...]:
    if case.mycn is MycnStatus.GAIN:
        return (RuleWarning("mycn-gain", "MYCN gain (not amplification) is counted as not amplified."),)
    return ()


def is_mature_ganglioneuroma(case: Case) -> bool:
    """Ganglioneuroma, mature subtype, is benign and outside both schemas (product decision 3)."""
    return case.histology is HistologicCategory.GANGLIONEUROMA_MATURE


def out_of_scope_trace(schema: str, source_key: str) -> Trace:
    """The trace of a mature ganglioneuroma: benign, so the schema does not classify it (decision 3)."""
    return Trace(
        f"{schema} out-of-scope",
        f"{source_key}: ganglioneuroma, mature subtype, is benign and not risk-classified",
        (FactKey.HISTOLOGY,),
        steps=(f"ganglioneuroma, mature: benign, outside the {schema} schema",),
    )


def table_trace(
    schema: str,
    match: TableMatch[Any],
    possible: Mapping[Factor, frozenset[Hashable]],
    warnings: tuple[RuleWarning, ...],
) -> Trace:
    """Render a table match as a trace: the row(s), their citations, deciding and missing inputs."""
    named = {factor for row in match.rows for factor in row.when}
    used = [factor for factor in possible if factor in named]
    steps = tuple(_step(factor, possible[factor]) for factor in used)
    if match.determinate:
        labels = " / ".join(dict.fromkeys(row.label for row in match.rows))
        citations = "; ".join(dict.fromkeys(row.citation for row in match.rows))
        decided = tuple(dict.fromkeys(f.fact for f in used if len(possible[f]) == 1))
        basis = tuple(dict.fromkeys(describe_row(row) for row in match.rows))
        return Trace(f"{schema} {labels}", citations, decided, (), warnings,
                     (*steps, "matches: " + " or ".join(basis)), basis)
    if not match.rows:
        return Trace(f"{schema} no-row", "no printed row covers these inputs", (), (), warnings, steps)
    labels = ", ".join(dict.fromkeys(row.label for row in match.rows))
    citations = "; ".join(dict.fromkeys(row.citation for row in match.rows))
    missing = tuple(MissingInput(factor.fact, factor.why) for factor in match.missing)
    decided = tuple(dict.fromkeys(f.fact for f in used if len(possible[f]) == 1))
    basis = tuple(dict.fromkeys(f"{describe_row(row)} → {_outcome_words(row.outcome)}" for row in match.rows))
    return Trace(f"{schema} indeterminate", citations, decided, missing, warnings,
                 (*steps, "could match: " + "; ".join(basis)), basis)


def _step(factor: Factor, values: frozenset[Hashable]) -> str:
    """``MYCN not amplified``; ``MYCN: unknown``; ``age at diagnosis: under 18 months, band undecided``."""
    if len(values) == 1:
        return describe_values(factor, values)
    if factor.fact in (FactKey.AGE, FactKey.STAGE) and values != factor.domain:
        return f"{factor.name}: {describe_values(factor, values)}, not decided"
    return f"{factor.name}: unknown"


def _outcome_words(outcome: object) -> str:
    """``group D, low risk`` or ``intermediate risk`` (a row's outcome)."""
    if isinstance(outcome, RiskOutcome):
        group = f"group {outcome.group}, " if outcome.group else ""
        return f"{group}{RISK_WORDS[outcome.risk]} risk"
    return str(outcome)
