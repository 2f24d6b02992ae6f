"""Invariants of INRGSS staging over random cases: totality, determinism, monotonicity, age threshold."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from neuroblastoma.ages import DAYS_18_MONTHS
from neuroblastoma.case import Case
from neuroblastoma.facts import Presence
from neuroblastoma.results import Stage, StageResult
from neuroblastoma.staging import assign_stage
from tests.neuroblastoma.case_strategies import (
    FIELD_STRATEGIES,
    Refinement,
    age_days,
    blurred_case,
    cases,
    edge_refinements,
    every_refinement,
    functional_imaging,
    near_edge_cases,
    primary_tumours,
    refinements,
    small_tuples,
)

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STAGE_ORDER = tuple(Stage)


def conflicts(result: StageResult) -> set[tuple[str, str]]:
    """The result's conflict warnings: inputs that contradict one another."""
    return {(w.code, w.message) for w in result.trace.warnings if w.code.startswith("conflict")}


@PROPERTY
@given(cases())
def test_total_determinate_or_indeterminate_with_missing_inputs(case: Case) -> None:
    result = assign_stage(case)
    assert result.candidates, "at least one stage is always possible"
    assert list(result.candidates) == sorted(result.candidates, key=STAGE_ORDER.index)
    assert len(set(result.candidates)) == len(result.candidates)
    if result.determinate:
        assert result.candidates == (result.stage,)
        assert result.trace.rule == f"INRGSS-{result.stage.value}"
        assert result.trace.missing == ()
    else:
        assert len(result.candidates) >= 2
        assert result.trace.missing, "an indeterminate result names what is missing"
        assert result.trace.rule == "INRGSS-INDETERMINATE"
    assert result.trace.citation
    assert result.trace.steps
    assert all(m.why for m in result.trace.missing)


@PROPERTY
@given(cases())
def test_deterministic(case: Case) -> None:
    assert assign_stage(case) == assign_stage(dataclasses.replace(case))


def assert_monotone(pair: Refinement) -> None:
    """Adding information narrows the candidates; it may widen them only by contradicting what the
    case already says, and then the refined result must say so with a new conflict warning."""
    before, after = assign_stage(pair.original), assign_stage(pair.refined)
    if conflicts(after) - conflicts(before):
        event("refinement contradicts the case")
        return
    assert set(after.candidates) <= set(before.candidates), (pair.fact, before.trace.steps, after.trace.steps)


@PROPERTY
@given(refinements())
def test_monotone_refining_an_unknown_never_adds_a_stage(pair: Refinement) -> None:
    event(pair.fact.split("[")[0].split(".")[0])
    assert_monotone(pair)


@PROPERTY
@given(every_refinement(cases() | near_edge_cases))
def test_monotone_for_every_unknown_fact_of_a_case(pairs: list[Refinement]) -> None:
    for pair in pairs:
        assert_monotone(pair)


@PROPERTY
@given(cases(), st.data())
def test_forgetting_facts_never_removes_a_stage(case: Case, data: st.DataObject) -> None:
    """Monotonicity over many facts at once: a vaguer copy of the case (any facts forgotten, any age
    widened) keeps every stage of the precise case still possible, unless the precise case holds a
    contradiction the vague one does not (and then says so)."""
    vague_case = data.draw(blurred_case(case), label="vaguer case")
    precise, vague = assign_stage(case), assign_stage(vague_case)
    if conflicts(precise) - conflicts(vague):
        return
    assert set(precise.candidates) <= set(vague.candidates), (case, precise.trace.steps, vague.trace.steps)


@settings(PROPERTY, max_examples=300)  # cheap, and the most likely to land on a rule's edge
@given(edge_refinements())
def test_monotone_at_every_edge_of_a_textbook_case(pairs: list[Refinement]) -> None:
    for pair in pairs:
        assert_monotone(pair)


# Cases without the summary facts that itemised facts can contradict (the overall IDRF call, the
# metastatic work-up conclusion, the multifocal flag) and with at most one scan.
consistent_cases = cases(
    metastatic_survey=st.just(Presence.UNKNOWN),
    multifocal=st.just(Presence.UNKNOWN),
    primaries=small_tuples(primary_tumours.map(lambda p: dataclasses.replace(p, idrf_summary=Presence.UNKNOWN))),
    functional_imaging=small_tuples(functional_imaging, max_size=1),
)
SUMMARY_FACTS = ("metastatic_survey", "multifocal", "idrf_summary")
# Contradictions a single fact can still create: an IDRF call against its own reported relation
# (assess_idrf) and marrow reports against each other.
INTRINSIC_CONFLICTS = {"conflict-idrf-call", "conflict-marrow"}


@PROPERTY
@given(every_refinement(consistent_cases))
def test_strictly_monotone_without_summary_facts(pairs: list[Refinement]) -> None:
    for pair in pairs:
        if pair.fact.endswith(SUMMARY_FACTS):
            continue
        before, after = assign_stage(pair.original), assign_stage(pair.refined)
        if {code for code, _ in conflicts(after) - conflicts(before)} & INTRINSIC_CONFLICTS:
            continue
        assert set(after.candidates) <= set(before.candidates), pair.fact


@PROPERTY
@given(every_refinement(cases() | near_edge_cases))
def test_a_determinate_stage_survives_any_consistent_refinement(pairs: list[Refinement]) -> None:
    for pair in pairs:
        before, after = assign_stage(pair.original), assign_stage(pair.refined)
        if before.determinate and not (conflicts(after) - conflicts(before)):
            assert after.stage is before.stage, pair.fact


@PROPERTY
@given(cases(age_days=age_days))
def test_ms_only_below_547_days(case: Case) -> None:
    result = assign_stage(case)
    if case.age.min_days >= DAYS_18_MONTHS:
        assert Stage.MS not in result.candidates
    if Stage.MS in result.candidates:
        assert case.age.min_days < DAYS_18_MONTHS
    if result.stage is Stage.MS:
        assert case.age.max_days < DAYS_18_MONTHS


BIOLOGY_FIELDS = ("histology", "grade", "inpc", "mycn", "chr11q_aberration", "chr1p_aberration", "ploidy",
                  "ms_symptoms", "resection", "other_scas")


@PROPERTY
@given(cases(), st.sampled_from(BIOLOGY_FIELDS), st.data())
def test_biology_does_not_change_the_stage(case: Case, name: str, data: st.DataObject) -> None:
    """INRGSS is anatomical: histology, genetics, symptoms and resection do not enter it (Monclair 2009)."""
    other = data.draw(FIELD_STRATEGIES[name])
    assert assign_stage(dataclasses.replace(case, **{name: other})) == assign_stage(case)
