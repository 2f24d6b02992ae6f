"""INRG 2009 (Cohn 2009 Table 2): one test per printed row, plus the edges and the product decisions."""

from __future__ import annotations

import pytest

from neuroblastoma.biology import DifferentiationGrade as G
from neuroblastoma.biology import HistologicCategory as H
from neuroblastoma.biology import MycnStatus, Ploidy
from neuroblastoma.case import FactKey
from neuroblastoma.facts import Presence
from neuroblastoma.inrg2009 import ROWS, classify_inrg2009
from neuroblastoma.results import RiskLevel as R
from neuroblastoma.results import Stage
from tests.neuroblastoma.risk_cases import AMP, DIPLOID, HYPERDIPLOID, NA, case

YES, NO = Presence.PRESENT, Presence.ABSENT

ROW_CASES = [
    # id, stage, case changes, group, risk
    ("A-L1-GN-maturing", Stage.L1, {"histology": H.GANGLIONEUROMA_MATURING}, "A", R.VERY_LOW),
    ("A-L2-GNB-intermixed", Stage.L2, {"histology": H.GANGLIONEUROBLASTOMA_INTERMIXED, "age_days": 900}, "A", R.VERY_LOW),
    ("B-L1-NA", Stage.L1, {"mycn": NA}, "B", R.VERY_LOW),
    ("B-L1-gain-counts-as-NA", Stage.L1, {"mycn": MycnStatus.GAIN}, "B", R.VERY_LOW),
    ("K-L1-Amp", Stage.L1, {"mycn": AMP}, "K", R.HIGH),
    ("D-L2-under18-11q-no", Stage.L2, {"age_days": 546, "chr11q_aberration": NO}, "D", R.LOW),
    ("G-L2-under18-11q-yes", Stage.L2, {"age_days": 100, "chr11q_aberration": YES}, "G", R.INTERMEDIATE),
    ("E-L2-18mo-differentiating-11q-no", Stage.L2, {"age_days": 547, "grade": G.DIFFERENTIATING}, "E", R.LOW),
    ("E-L2-GNB-nodular", Stage.L2, {"age_days": 900, "histology": H.GANGLIONEUROBLASTOMA_NODULAR}, "E", R.LOW),
    ("H-L2-18mo-differentiating-11q-yes", Stage.L2, {"age_days": 547, "chr11q_aberration": YES}, "H", R.INTERMEDIATE),
    ("H-L2-18mo-poorly-differentiated", Stage.L2, {"age_days": 700, "grade": G.POORLY_DIFFERENTIATED}, "H", R.INTERMEDIATE),
    ("H-L2-18mo-undifferentiated-11q-unknown", Stage.L2,
     {"age_days": 700, "grade": G.UNDIFFERENTIATED, "chr11q_aberration": Presence.UNKNOWN}, "H", R.INTERMEDIATE),
    ("N-L2-Amp-infant", Stage.L2, {"age_days": 100, "mycn": AMP}, "N", R.HIGH),
    ("N-L2-Amp-older", Stage.L2, {"age_days": 2000, "mycn": AMP}, "N", R.HIGH),
    ("F-M-under18-hyperdiploid", Stage.M, {"age_days": 546, "ploidy": HYPERDIPLOID}, "F", R.LOW),
    ("I-M-under12-diploid", Stage.M, {"age_days": 364, "ploidy": DIPLOID}, "I", R.INTERMEDIATE),
    ("I-M-hypodiploid-counts-as-diploid", Stage.M, {"age_days": 200, "ploidy": Ploidy(dna_index=0.9)}, "I", R.INTERMEDIATE),
    ("J-M-12to18-diploid", Stage.M, {"age_days": 365, "ploidy": DIPLOID}, "J", R.INTERMEDIATE),
    ("J-M-DI-exactly-1", Stage.M, {"age_days": 500, "ploidy": Ploidy(dna_index=1.0)}, "J", R.INTERMEDIATE),
    ("O-M-under18-Amp", Stage.M, {"age_days": 100, "mycn": AMP}, "O", R.HIGH),
    ("P-M-18mo", Stage.M, {"age_days": 547}, "P", R.HIGH),
    ("P-M-older-unknown-biology", Stage.M,
     {"age_days": 3000, "mycn": MycnStatus.UNKNOWN, "ploidy": Ploidy()}, "P", R.HIGH),
    ("C-MS-NA-11q-no", Stage.MS, {"age_days": 300}, "C", R.VERY_LOW),
    ("Q-MS-NA-11q-yes", Stage.MS, {"age_days": 300, "chr11q_aberration": YES}, "Q", R.HIGH),
    ("R-MS-Amp", Stage.MS, {"age_days": 300, "mycn": AMP}, "R", R.HIGH),
]


@pytest.mark.parametrize(("stage", "changes", "group", "risk"), [c[1:] for c in ROW_CASES],
                         ids=[c[0] for c in ROW_CASES])
def test_each_printed_row(stage: Stage, changes: dict, group: str, risk: R) -> None:
    result = classify_inrg2009(case(**changes), stage)
    assert (result.group, result.risk) == (group, risk), result.trace
    assert f"row {group}" in result.trace.rule
    assert "Cohn 2009" in result.trace.citation
    assert result.trace.missing == ()


def test_every_group_letter_is_reachable_by_a_test() -> None:
    assert {c[3] for c in ROW_CASES} == {row.outcome.group for row in ROWS}
    assert {row.outcome.group for row in ROWS} == set("ABCDEFGHIJKNOPQR")


INDETERMINATE_CASES = [
    ("L1-MYCN-unknown", Stage.L1, {"mycn": MycnStatus.UNKNOWN}, {"B", "K"}, {FactKey.MYCN}),
    ("L2-11q-unknown-under18", Stage.L2, {"age_days": 400, "chr11q_aberration": Presence.UNKNOWN}, {"D", "G"},
     {FactKey.CHR_11Q}),
    ("L2-18mo-grade-unknown", Stage.L2, {"age_days": 600, "grade": G.UNKNOWN}, {"E", "H"}, {FactKey.GRADE}),
    ("L2-histology-unknown", Stage.L2, {"histology": H.UNKNOWN}, {"A", "D"}, {FactKey.HISTOLOGY}),
    ("M-under18-ploidy-unknown", Stage.M, {"age_days": 400, "ploidy": Ploidy()}, {"F", "J"}, {FactKey.PLOIDY}),
    ("M-age-unknown", Stage.M, {"age_days": None}, {"F", "P"}, {FactKey.AGE}),
    ("MS-11q-unknown", Stage.MS, {"age_days": 300, "chr11q_aberration": Presence.UNKNOWN}, {"C", "Q"},
     {FactKey.CHR_11Q}),
]


@pytest.mark.parametrize(("stage", "changes", "groups", "missing"), [c[1:] for c in INDETERMINATE_CASES],
                         ids=[c[0] for c in INDETERMINATE_CASES])
def test_indeterminate_names_candidates_and_missing(stage, changes, groups, missing) -> None:
    result = classify_inrg2009(case(**changes), stage)
    assert result.outcome is None
    assert {c.group for c in result.candidates} == groups
    assert {m.fact for m in result.trace.missing} == missing
    assert all(m.why for m in result.trace.missing)


def test_row_a_with_mycn_amplification_warns() -> None:
    result = classify_inrg2009(case(histology=H.GANGLIONEUROMA_MATURING, mycn=AMP), Stage.L1)
    assert result.group == "A"
    assert "inrg-row-a-mycn-amplified" in {w.code for w in result.trace.warnings}


def test_mature_ganglioneuroma_is_out_of_scope() -> None:
    result = classify_inrg2009(case(histology=H.GANGLIONEUROMA_MATURE), Stage.L1)
    assert result.out_of_scope and result.outcome is None and result.candidates == ()


def test_hypodiploid_carries_the_ploidy_convention_warning() -> None:
    result = classify_inrg2009(case(age_days=200, ploidy=Ploidy(dna_index=0.88)), Stage.M)
    assert "ploidy-convention" in {w.code for w in result.trace.warnings}


def test_stage_candidates_carry_through() -> None:
    from neuroblastoma.results import StageResult, Trace
    stage = StageResult("inrgss", None, (Stage.M, Stage.MS), Trace("x", "y"), "v")
    result = classify_inrg2009(case(age_days=300, mycn=AMP), stage)
    assert {c.group for c in result.candidates} == {"O", "R"}
    assert {c.risk for c in result.candidates} == {R.HIGH}
    # Both candidates are high risk but are different groups: the group stays indeterminate.
    assert result.outcome is None


def test_month_precision_dates_straddling_18_months_are_indeterminate() -> None:
    from neuroblastoma.ages import PartialDate
    straddling = case(age_days=None, birth_date=PartialDate(2024, 5), diagnosis_date=PartialDate(2025, 11))
    result = classify_inrg2009(straddling, Stage.M)
    assert result.outcome is None
    assert FactKey.AGE in {m.fact for m in result.trace.missing}
