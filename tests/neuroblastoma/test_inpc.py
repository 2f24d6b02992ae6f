"""The INPC class from its parts (Shimada 1999, PDQ Table 1; Peuchmaur 2003): every grade and MKI class at the
age edges, intervals that leave it open, and what COG 2021 does with a derived or a contradicted class."""

from __future__ import annotations

import itertools

import pytest

from neuroblastoma.ages import PartialDate
from neuroblastoma.biology import DifferentiationGrade as G
from neuroblastoma.biology import HistologicCategory as H
from neuroblastoma.biology import InpcClass
from neuroblastoma.biology import MkiClass as K
from neuroblastoma.case import FactKey
from neuroblastoma.cog2021 import classify_cog2021
from neuroblastoma.inpc import AGE, CATEGORY, GRADE, MKI, ROWS, derive_inpc, five_years_possible, inpc_ages
from neuroblastoma.results import RiskLevel as R
from neuroblastoma.results import Stage
from neuroblastoma.risk_table import match_table
from tests.neuroblastoma.risk_cases import case

FH, UH, UNKNOWN = InpcClass.FAVOURABLE, InpcClass.UNFAVOURABLE, InpcClass.UNKNOWN
U, PD, D = G.UNDIFFERENTIATED, G.POORLY_DIFFERENTIATED, G.DIFFERENTIATING
L, MID, HI = K.LOW, K.INTERMEDIATE, K.HIGH


def derived(days: int | None, grade: G, mki: K, histology: H = H.NEUROBLASTOMA) -> InpcClass | None:
    return derive_inpc(case(age_days=days, grade=grade, mki=mki, histology=histology, inpc=UNKNOWN)).inpc


# Every grade and MKI class of a neuroblastoma at the edges of the INPC age bands: day 546 (< 1.5 y), 547 (1.5 y,
# the service's 18 months), 1825 (under 5 y whatever the leap days) and 1827 (5 y or older whatever the leap days).
# PDQ Table 1: < 1.5 y FH = poorly differentiated or differentiating with low or intermediate MKI; 1.5-5 y FH =
# differentiating with low MKI; >= 5 y all UH.
EDGES = [
    # days, grade, MKI, class
    (546, U, L, UH), (546, U, MID, UH), (546, U, HI, UH),
    (546, PD, L, FH), (546, PD, MID, FH), (546, PD, HI, UH),
    (546, D, L, FH), (546, D, MID, FH), (546, D, HI, UH),
    (547, U, L, UH), (547, U, MID, UH), (547, U, HI, UH),
    (547, PD, L, UH), (547, PD, MID, UH), (547, PD, HI, UH),
    (547, D, L, FH), (547, D, MID, UH), (547, D, HI, UH),
    (1825, D, L, FH), (1825, D, MID, UH), (1825, PD, L, UH),
    (1827, D, L, UH), (1827, D, MID, UH), (1827, PD, HI, UH), (1827, U, L, UH),
    (0, PD, MID, FH), (364, D, MID, FH), (365, D, MID, FH),
]


@pytest.mark.parametrize(("days", "grade", "mki", "inpc"), EDGES,
                         ids=[f"{d}d-{g.value}-{m.value}" for d, g, m, _ in EDGES])
def test_neuroblastoma_by_grade_mki_and_age(days: int, grade: G, mki: K, inpc: InpcClass) -> None:
    assert derived(days, grade, mki) is inpc


@pytest.mark.parametrize(("days", "grade", "mki", "inpc"), EDGES,
                         ids=[f"{d}d-{g.value}-{m.value}" for d, g, m, _ in EDGES])
def test_a_nodular_ganglioneuroblastoma_is_judged_by_its_nodule(days: int, grade: G, mki: K, inpc: InpcClass) -> None:
    """Peuchmaur 2003 / Umehara 2000: the nodule by the neuroblastoma criteria (favourable and unfavourable subsets)."""
    assert derived(days, grade, mki, H.GANGLIONEUROBLASTOMA_NODULAR) is inpc


@pytest.mark.parametrize("histology", [H.GANGLIONEUROBLASTOMA_INTERMIXED, H.GANGLIONEUROMA_MATURING])
@pytest.mark.parametrize("days", [0, 546, 547, 1826, 6000, None])
def test_stroma_rich_tumours_are_favourable_at_any_age(histology: H, days: int | None) -> None:
    result = derive_inpc(case(age_days=days, histology=histology, grade=G.UNKNOWN, mki=K.UNKNOWN, inpc=UNKNOWN))
    assert result.inpc is FH and result.decided_by == (FactKey.HISTOLOGY,)


UNDECIDED = [
    # days, grade, MKI, the part that would decide
    (600, D, K.UNKNOWN, FactKey.MKI),  # 1.5-5 y differentiating: low MKI FH, else UH
    (100, PD, K.UNKNOWN, FactKey.MKI),  # < 1.5 y: high MKI UH, else FH
    (100, G.UNKNOWN, L, FactKey.GRADE),  # undifferentiated UH, else FH
    (1826, D, L, FactKey.AGE),  # day 1,826 without dates: 4 y 364 d or the fifth birthday
    (None, D, L, FactKey.AGE),
]


@pytest.mark.parametrize(("days", "grade", "mki", "missing"), UNDECIDED,
                         ids=[f"{d}d-{g.value}-{m.value}" for d, g, m, _ in UNDECIDED])
def test_parts_that_do_not_decide_leave_both_classes_and_name_what_would(days, grade, mki, missing) -> None:
    result = derive_inpc(case(age_days=days, grade=grade, mki=mki, inpc=UNKNOWN))
    assert result.inpc is None and result.classes == {FH, UH}
    assert missing in result.missing


def test_what_decides_whatever_the_rest() -> None:
    assert derived(None, U, K.UNKNOWN) is UH  # undifferentiated: unfavourable at any age
    assert derived(700, PD, K.UNKNOWN) is UH  # 1.5-5 y poorly differentiated whatever the MKI
    assert derived(3000, G.UNKNOWN, K.UNKNOWN) is UH  # >= 5 y: all neuroblastomas
    assert derived(100, D, HI) is UH and derived(100, G.UNKNOWN, HI) is UH  # high MKI at any age


@pytest.mark.parametrize(("interval", "inpc"), [
    ((540, 560, D, MID), None),  # straddles 547: FH under 18 months, UH at 18 months or older
    ((540, 560, PD, HI), UH),  # unfavourable on both sides
    ((547, 3000, PD, L), UH),  # 18 months to 5 years and older: both unfavourable
    ((547, 3000, D, L), None),  # differentiating low MKI: FH before the fifth birthday, UH after
    ((1000, 1500, D, L), FH),
])
def test_age_intervals_decide_only_when_every_age_agrees(interval, inpc) -> None:
    low, high, grade, mki = interval
    result = derive_inpc(case(age_days=low, age_days_max=high, grade=grade, mki=mki, inpc=UNKNOWN))
    assert result.inpc is inpc
    if inpc is None:
        assert FactKey.AGE in result.missing


def test_the_fifth_birthday_from_exact_dates() -> None:
    before = case(age_days=None, birth_date=PartialDate(2020, 3, 1), diagnosis_date=PartialDate(2025, 2, 28))
    on = case(age_days=None, birth_date=PartialDate(2020, 3, 1), diagnosis_date=PartialDate(2025, 3, 1))
    assert five_years_possible(before) == {False} and five_years_possible(on) == {True}
    assert on.age is not None and on.age.min_days == 1826
    leap = case(age_days=None, birth_date=PartialDate(2020, 2, 29), diagnosis_date=PartialDate(2025, 2, 28))
    assert five_years_possible(leap) == {False, True}  # no single calendar answer for a 29 February birth
    assert five_years_possible(case(age_days=1825)) == {False}
    assert five_years_possible(case(age_days=1827)) == {True}


def test_mature_ganglioneuroma_has_no_inpc_group() -> None:
    assert derive_inpc(case(histology=H.GANGLIONEUROMA_MATURE)).inpc is None


def test_the_table_is_total_and_disjoint() -> None:
    """Every combination of category, INPC age band, grade and MKI matches exactly one printed row."""
    for values in itertools.product(CATEGORY.domain, AGE.domain, GRADE.domain, MKI.domain):
        possible = {factor: frozenset({value}) for factor, value in zip((CATEGORY, AGE, GRADE, MKI), values,
                                                                          strict=True)}
        match = match_table(ROWS, possible)
        assert len(match.rows) == 1, (values, [r.label for r in match.rows])


def test_inpc_ages_follow_the_age_interval() -> None:
    assert len(inpc_ages(case(age_days=None))) == 3
    assert len(inpc_ages(case(age_days=500, age_days_max=2000))) == 3


# ---- COG 2021 with a derived or a contradicted class --------------------------------------------------------


def test_cog_uses_a_derived_class_and_says_so() -> None:
    l2 = case(age_days=800, grade=PD, inpc=UNKNOWN)
    result = classify_cog2021(l2, Stage.L2)
    assert result.risk is R.HIGH
    note = next(w for w in result.trace.warnings if w.code == "inpc-derived")
    assert note.message.startswith("INPC unfavourable, derived: poorly differentiated neuroblastoma, aged 18 months")
    assert "Shimada 1999" in note.message
    assert result.trace.steps[0] == note.message.rstrip(".")
    assert {FactKey.INPC, FactKey.HISTOLOGY, FactKey.GRADE, FactKey.AGE} <= set(result.trace.decided_by)
    assert result.trace.basis == ("L2, 18 months or older, unfavourable histology (derived), MYCN not amplified",)


def test_a_derived_class_that_decides_nothing_is_not_mentioned() -> None:
    result = classify_cog2021(case(age_days=800, grade=PD, inpc=UNKNOWN), Stage.M)
    assert result.risk is R.HIGH  # M at 18 months or older, whatever the histology
    assert "inpc-derived" not in {w.code for w in result.trace.warnings}


def test_undecided_parts_ask_for_the_part_that_would_decide() -> None:
    result = classify_cog2021(case(age_days=800, grade=D, mki=K.UNKNOWN, inpc=UNKNOWN), Stage.L2)
    assert result.risk is None and {c.risk for c in result.candidates} == {R.INTERMEDIATE, R.HIGH}
    assert {m.fact for m in result.trace.missing} == {FactKey.INPC, FactKey.MKI}


@pytest.mark.parametrize(("stage", "code"), [(Stage.L2, "conflict-inpc-components"),
                                             (Stage.L1, "inpc-components-disagree")])
def test_a_reported_class_that_contradicts_its_parts_is_kept_and_named(stage: Stage, code: str) -> None:
    contradicted = case(age_days=800, grade=PD, mki=L, inpc=FH)  # poorly differentiated at 18 months+: UH
    result = classify_cog2021(contradicted, stage)
    assert result.risk is (R.INTERMEDIATE if stage is Stage.L2 else R.LOW)  # the reported FH is used
    warning = next(w for w in result.trace.warnings if w.code == code)
    assert "reported favourable" in warning.message and "parts give unfavourable" in warning.message
    assert "poorly differentiated neuroblastoma" in warning.message


def test_a_reported_class_that_agrees_with_its_parts_adds_nothing() -> None:
    result = classify_cog2021(case(age_days=800, grade=PD, inpc=UH), Stage.L2)
    assert not {w.code for w in result.trace.warnings} & {"inpc-derived", "conflict-inpc-components",
                                                           "inpc-components-disagree"}
