"""INSS (Brodeur 1993) in parallel with INRGSS: every stage and every edge, table-driven; the table is total and
disjoint; before surgery it is open with the facts it awaits (never missing data); and it is monotone."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings

from neuroblastoma.anatomy import Compartment, Laterality
from neuroblastoma.biology import MycnStatus, ResectionExtent
from neuroblastoma.case import (
    Case,
    FactKey,
    FunctionalImaging,
    ImagingModality,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    MetastaticSite,
    PrimaryTumour,
)
from neuroblastoma.classification import STAGING_SYSTEMS, classify
from neuroblastoma.facts import Presence
from neuroblastoma.inss import (
    CONTRALATERAL,
    EXCISION,
    IPSILATERAL,
    LOCOREGIONAL_ROWS,
    MIDLINE,
    PRIMARY_3_ROWS,
    InssStage,
    assign_inss,
)
from neuroblastoma.summary import classification_summary
from tests.neuroblastoma.case_strategies import Refinement, cases, every_refinement, near_edge_cases, refinements

P, A, U = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
COMPLETE, INCOMPLETE, NOT_RESECTED = ResectionExtent.COMPLETE, ResectionExtent.INCOMPLETE, ResectionExtent.NOT_RESECTED
S1, S2A, S2B, S3, S4, S4S = InssStage
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PRIMARY = PrimaryTumour(Compartment.ABDOMEN, Laterality.LEFT, idrf_summary=A, label="left adrenal mass")
LOCALIZED = Case("p", age_days=800, primaries=(PRIMARY,), metastatic_survey=A, mycn=MycnStatus.NOT_AMPLIFIED)
# An MS-like infant: liver metastases, marrow 5 %, MIBG negative in bone and marrow, the primary not across the
# midline and no contralateral nodes (so no surgery is needed to call it "as for 1, 2A or 2B").
INFANT_4S = Case(
    "p", age_days=200, primaries=(PRIMARY,), metastatic_survey=P, primary_mibg_avid=P,
    metastases=(MetastasisFinding(MetastaticSite.LIVER, P), MetastasisFinding(MetastaticSite.BONE, A)),
    bone_marrow=MarrowAssessment(P, 5.0, MarrowMethod.MORPHOLOGY),
    functional_imaging=(FunctionalImaging(ImagingModality.MIBG, A, A),),
    midline_infiltration=A, nodes_contralateral=A)


def _case(base: Case, **changes: Any) -> Case:
    return dataclasses.replace(base, **changes)


# ---- The locoregional table (Brodeur 1993): one row per printed clause, total and disjoint -------------------

def test_every_combination_of_the_surgical_facts_matches_exactly_one_row() -> None:
    factors = (EXCISION, IPSILATERAL, CONTRALATERAL, MIDLINE)
    for rows in (LOCOREGIONAL_ROWS, PRIMARY_3_ROWS):
        for values in itertools.product(*(sorted(f.domain, key=str) for f in factors)):
            possible = {f: frozenset({v}) for f, v in zip(factors, values, strict=True)}
            matching = [row.label for row in rows if row.could_match(possible)]
            assert len(matching) == 1, (values, matching)


def test_the_stage_3_question_agrees_with_the_table() -> None:
    factors = (EXCISION, IPSILATERAL, CONTRALATERAL, MIDLINE)
    for values in itertools.product(*(sorted(f.domain, key=str) for f in factors)):
        possible = {f: frozenset({v}) for f, v in zip(factors, values, strict=True)}
        [stage] = [row.outcome for row in LOCOREGIONAL_ROWS if row.could_match(possible)]
        [is_three] = [row.outcome for row in PRIMARY_3_ROWS if row.could_match(possible)]
        assert is_three == (stage is S3)


# ---- Every stage, table-driven --------------------------------------------------------------------------------

LOCOREGIONAL_CASES = [
    # excision, ipsilateral, contralateral, midline -> stage
    pytest.param(COMPLETE, A, A, A, S1, id="1: complete gross excision, nodes negative"),
    pytest.param(COMPLETE, A, A, U, S1, id="1: complete excision, the midline does not matter"),
    pytest.param(COMPLETE, A, A, P, S1, id="1: completely excised across the midline is not unresectable"),
    pytest.param(INCOMPLETE, A, A, A, S2A, id="2A: incomplete gross excision, nodes negative"),
    pytest.param(COMPLETE, P, A, A, S2B, id="2B: complete excision, ipsilateral non-adherent nodes positive"),
    pytest.param(INCOMPLETE, P, A, A, S2B, id="2B: incomplete excision, ipsilateral nodes positive"),
    pytest.param(COMPLETE, P, A, P, S2B, id="2B: resected across the midline, ipsilateral nodes positive"),
    pytest.param(INCOMPLETE, A, A, P, S3, id="3: unresectable across the midline"),
    pytest.param(INCOMPLETE, P, A, P, S3, id="3: across the midline, with or without regional nodes"),
    pytest.param(COMPLETE, A, P, A, S3, id="3: contralateral regional nodes positive"),
    pytest.param(COMPLETE, P, P, A, S3, id="3: contralateral nodes positive beat 2B"),
    pytest.param(None, U, P, U, S3, id="3: contralateral nodes positive need no surgery"),
]


@pytest.mark.parametrize(("excision", "ipsilateral", "contralateral", "midline", "stage"), LOCOREGIONAL_CASES)
def test_locoregional_stage(excision: ResectionExtent | None, ipsilateral: Presence, contralateral: Presence,
                            midline: Presence, stage: InssStage) -> None:
    case = _case(LOCALIZED, resection=excision or ResectionExtent.UNKNOWN, nodes_ipsilateral=ipsilateral,
                 nodes_contralateral=contralateral, midline_infiltration=midline)
    result = assign_inss(case)
    assert result.stage is stage, result.trace.steps
    assert result.trace.rule == f"INSS-{stage.value}"
    assert "Brodeur 1993" in result.trace.citation
    assert result.trace.missing == () and result.trace.awaiting == ()


def test_microscopic_residual_after_complete_gross_excision_is_still_stage_1() -> None:
    case = _case(LOCALIZED, resection=COMPLETE, microscopic_residual=P, nodes_ipsilateral=A, nodes_contralateral=A)
    result = assign_inss(case)
    assert result.stage is S1
    assert any("Microscopic residual" in step for step in result.trace.steps)


METASTATIC_CASES = [
    pytest.param({}, S4S, id="4S: under 1 year, liver and marrow 5 %, MIBG negative, localized primary"),
    pytest.param({"age_days": 364}, S4S, id="4S: day 364"),
    pytest.param({"age_days": 365}, S4, id="4: day 365 is 1 year (COG INSS-era < 365 d)"),
    pytest.param({"bone_marrow": MarrowAssessment(P, 9.99, MarrowMethod.MORPHOLOGY)}, S4S, id="4S: marrow 9.99 %"),
    pytest.param({"bone_marrow": MarrowAssessment(P, 10.0, MarrowMethod.MORPHOLOGY)}, S4, id="4: marrow 10 %"),
    pytest.param({"metastases": (MetastasisFinding(MetastaticSite.BONE, P),)}, S4, id="4: bone metastasis"),
    pytest.param({"functional_imaging": (FunctionalImaging(ImagingModality.MIBG, A, P),)}, S4,
                 id="4: MIBG uptake in the marrow"),
    pytest.param({"functional_imaging": (), "primary_mibg_avid": U}, S4S,
                 id="4S: MIBG not performed (Brodeur: 'if performed')"),
    pytest.param({"midline_infiltration": P, "resection": INCOMPLETE}, S4, id="4: a stage 3 primary with a 4S pattern"),
    pytest.param({"nodes_contralateral": P}, S4, id="4: contralateral nodes positive"),
    pytest.param({"midline_infiltration": P, "resection": COMPLETE}, S4S, id="4S: resected across the midline"),
    pytest.param({"metastases": (MetastasisFinding(MetastaticSite.LUNG, P),)}, S4, id="4: lung"),
]


@pytest.mark.parametrize(("changes", "stage"), METASTATIC_CASES)
def test_metastatic_stage(changes: dict[str, Any], stage: InssStage) -> None:
    result = assign_inss(_case(INFANT_4S, **changes))
    assert result.stage is stage, result.trace.steps
    assert result.trace.missing == () and result.trace.awaiting == ()


def test_without_the_surgical_facts_a_4s_pattern_is_4_or_4s_awaiting_them() -> None:
    result = assign_inss(_case(INFANT_4S, midline_infiltration=U, nodes_contralateral=U))
    assert set(result.candidates) == {S4, S4S}
    assert {m.fact for m in result.trace.awaiting} == {FactKey.MIDLINE, FactKey.NODES_CONTRALATERAL,
                                                       FactKey.RESECTION}
    assert result.trace.missing == ()


def test_day_365_makes_a_4s_pattern_4_whatever_the_primary() -> None:
    result = assign_inss(_case(INFANT_4S, age_days=365, midline_infiltration=U, nodes_contralateral=U))
    assert result.stage is S4
    assert result.trace.awaiting == ()


def test_an_unknown_age_is_missing_not_awaited() -> None:
    result = assign_inss(_case(INFANT_4S, age_days=None))
    assert set(result.candidates) == {S4, S4S}
    assert [m.fact for m in result.trace.missing] == [FactKey.AGE]
    assert result.trace.awaiting == ()


# ---- Before surgery: open as expected, never missing data ------------------------------------------------------

def test_before_surgery_inss_is_open_and_awaits_the_surgical_facts() -> None:
    result = assign_inss(LOCALIZED)
    assert result.stage is None
    assert result.candidates == (S1, S2A, S2B, S3)
    assert result.trace.missing == ()
    assert {m.fact for m in result.trace.awaiting} == {FactKey.RESECTION, FactKey.NODES_IPSILATERAL,
                                                       FactKey.NODES_CONTRALATERAL, FactKey.MIDLINE}


def test_not_resected_yet_leaves_the_excision_open() -> None:
    result = assign_inss(_case(LOCALIZED, resection=NOT_RESECTED, nodes_ipsilateral=A, nodes_contralateral=A,
                               midline_infiltration=A))
    assert result.candidates == (S1, S2A)
    assert [m.fact for m in result.trace.awaiting] == [FactKey.RESECTION]


def test_inss_is_registered_in_parallel_and_never_decides_risk_or_missing_data() -> None:
    system = STAGING_SYSTEMS.get("inss")
    assert system.postsurgical and not STAGING_SYSTEMS.get("inrgss").postsurgical
    result = classify(LOCALIZED)
    assert result.stage.system == "inrgss"
    assert not any(m.fact in {FactKey.RESECTION, FactKey.NODES_IPSILATERAL, FactKey.NODES_CONTRALATERAL,
                              FactKey.MIDLINE} for m in result.missing)


def test_the_json_summary_carries_inss() -> None:
    summary = classification_summary(classify(_case(LOCALIZED, resection=INCOMPLETE, nodes_ipsilateral=A,
                                                    nodes_contralateral=A, midline_infiltration=A)))
    assert summary["inss"] == {"stage": "2A", "candidates": ["2A"]}
    assert summary["trace"]["inss"]["rule"] == "INSS-2A"
    before = classification_summary(classify(LOCALIZED))
    assert before["inss"]["stage"] is None
    assert before["inss"]["candidates"] == ["1", "2A", "2B", "3"]
    assert before["inss"]["awaiting"] == ["resection-extent", "ipsilateral-nodes-histology",
                                          "contralateral-nodes-histology", "midline-infiltration"]


# ---- Invariants ------------------------------------------------------------------------------------------------

def _conflicts(case: Case) -> set[str]:
    return {w.message for w in assign_inss(case).trace.warnings if w.code.startswith("conflict")}


def _assert_monotone(pair: Refinement) -> None:
    before, after = assign_inss(pair.original), assign_inss(pair.refined)
    if _conflicts(pair.refined) - _conflicts(pair.original):
        event("refinement contradicts the case")
        return
    assert set(after.candidates) <= set(before.candidates), (pair.fact, before.trace.steps, after.trace.steps)


@PROPERTY
@given(cases())
def test_total_and_open_only_with_a_reason(case: Case) -> None:
    result = assign_inss(case)
    assert result.candidates
    if result.determinate:
        assert result.trace.missing == () and result.trace.awaiting == ()
    else:
        assert len(result.candidates) >= 2
        assert result.trace.missing or result.trace.awaiting, result.trace.steps


@PROPERTY
@given(refinements())
def test_monotone_refining_an_unknown_never_adds_an_inss_stage(pair: Refinement) -> None:
    _assert_monotone(pair)


@PROPERTY
@given(every_refinement(cases() | near_edge_cases))
def test_monotone_for_every_unknown_fact(pairs: list[Refinement]) -> None:
    for pair in pairs:
        _assert_monotone(pair)
