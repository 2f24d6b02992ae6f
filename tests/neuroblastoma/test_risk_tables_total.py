"""The two risk tables are total and non-overlapping over every consistent input, and monotone.

Exhaustive over the factor domains (a few thousand combinations), plus hypothesis over partial
knowledge for the matcher's monotonicity.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroblastoma import cog2021, inrg2009
from neuroblastoma.ages import AgeBand
from neuroblastoma.biology import MycnStatus
from neuroblastoma.results import RiskLevel, Stage
from neuroblastoma.risk_factors import AGE, MYCN, STAGE
from neuroblastoma.risk_table import Factor, Row, match_table

TABLES = {
    "inrg2009": (inrg2009.ROWS, (STAGE, AGE, inrg2009.HISTOLOGY, inrg2009.GRADE, MYCN, inrg2009.CHR_11Q,
                                 inrg2009.PLOIDY)),
    "cog2021": (cog2021.ROWS, (STAGE, AGE, MYCN, cog2021.INPC, cog2021.SCA, cog2021.PLOIDY, cog2021.SYMPTOMS,
                               cog2021.RESECTION)),
}


def _consistent(assignment: Mapping[Factor, Hashable]) -> bool:
    """MS exists only under 18 months (Monclair 2009): other combinations are not real patients."""
    return not (assignment[STAGE] is Stage.MS and assignment[AGE] is AgeBand.FROM_18_MONTHS)


def _all_assignments(factors: tuple[Factor, ...]):
    for values in itertools.product(*(sorted(f.domain, key=str) for f in factors)):
        assignment = dict(zip(factors, values, strict=True))
        if _consistent(assignment):
            yield assignment


def _outcome_risk(outcome: object) -> RiskLevel:
    return outcome.risk if hasattr(outcome, "risk") else outcome  # type: ignore[return-value]


@pytest.mark.parametrize("name", TABLES)
def test_every_consistent_input_matches_exactly_one_row(name: str) -> None:
    rows, factors = TABLES[name]
    for assignment in _all_assignments(factors):
        possible = {f: frozenset({v}) for f, v in assignment.items()}
        matching = [row for row in rows if row.could_match(possible)]
        assert len(matching) == 1, (assignment, [r.label for r in matching])


@pytest.mark.parametrize("name", TABLES)
def test_mycn_amplification_never_lowers_risk(name: str) -> None:
    rows, factors = TABLES[name]
    for assignment in _all_assignments(factors):
        if assignment[MYCN] is not MycnStatus.NOT_AMPLIFIED:
            continue
        amplified = {**assignment, MYCN: MycnStatus.AMPLIFIED}
        before = match_table(rows, {f: frozenset({v}) for f, v in assignment.items()})
        after = match_table(rows, {f: frozenset({v}) for f, v in amplified.items()})
        assert _outcome_risk(after.outcomes[0]).rank >= _outcome_risk(before.outcomes[0]).rank, assignment


@st.composite
def _partial_knowledge(draw: st.DrawFn, factors: tuple[Factor, ...]) -> tuple[dict, dict]:
    """Possible-value sets (each unknown or one value), and the same with one more factor learnt."""
    truth = {f: draw(st.sampled_from(sorted(f.domain, key=str))) for f in factors}
    if truth[STAGE] is Stage.MS:
        truth[AGE] = draw(st.sampled_from([AgeBand.UNDER_12_MONTHS, AgeBand.FROM_12_TO_18_MONTHS]))
    unknown = draw(st.sets(st.sampled_from(factors), min_size=1))
    possible = {f: (f.domain if f in unknown else frozenset({truth[f]})) for f in factors}
    learnt = draw(st.sampled_from(sorted(unknown, key=lambda f: f.name)))
    refined = {**possible, learnt: frozenset({truth[learnt]})}
    return possible, refined


def _check_monotone(rows: tuple[Row, ...], possible: dict, refined: dict) -> None:
    before, after = match_table(rows, possible), match_table(rows, refined)
    assert after.outcomes, "a consistent truth always matches a row"
    assert set(after.outcomes) <= set(before.outcomes)
    if before.determinate:
        assert after.outcomes == before.outcomes
    else:
        assert before.missing, "an indeterminate result names what is missing"


@settings(max_examples=300, deadline=None)
@given(_partial_knowledge(TABLES["inrg2009"][1]))
def test_inrg2009_learning_a_fact_never_contradicts(pair: tuple[dict, dict]) -> None:
    _check_monotone(TABLES["inrg2009"][0], *pair)


@settings(max_examples=300, deadline=None)
@given(_partial_knowledge(TABLES["cog2021"][1]))
def test_cog2021_learning_a_fact_never_contradicts(pair: tuple[dict, dict]) -> None:
    _check_monotone(TABLES["cog2021"][0], *pair)
