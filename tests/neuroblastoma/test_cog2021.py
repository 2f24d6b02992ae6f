"""COG 2021 (Irwin 2021 / PDQ Table 3): one test per row, the age edges and the product decisions."""

from __future__ import annotations

import pytest

from neuroblastoma.biology import HistologicCategory as H
from neuroblastoma.biology import InpcClass, MycnStatus, Ploidy, ResectionExtent
from neuroblastoma.case import FactKey
from neuroblastoma.cog2021 import ROWS, classify_cog2021
from neuroblastoma.facts import Presence
from neuroblastoma.results import RiskLevel as R
from neuroblastoma.results import Stage
from tests.neuroblastoma.risk_cases import AMP, DIPLOID, case

YES, NO, UNKNOWN = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
UH = InpcClass.UNFAVOURABLE

ROW_CASES = [
    # id, row label, stage, changes, risk
    ("M-18mo", "H1 M ≥18 mo", Stage.M, {"age_days": 547}, R.HIGH),
    ("M-under18-Amp", "H2 M <18 mo Amp", Stage.M, {"age_days": 546, "mycn": AMP}, R.HIGH),
    ("MS-Amp", "H3 MS Amp", Stage.MS, {"age_days": 100, "mycn": AMP}, R.HIGH),
    ("L2-Amp", "H3 L2 Amp", Stage.L2, {"age_days": 100, "mycn": AMP}, R.HIGH),
    ("L2-18mo-UH", "H4 L2 ≥18 mo UH", Stage.L2, {"age_days": 547, "inpc": UH}, R.HIGH),
    ("M-12to18-UH", "H5 M/MS 12-18 mo UH", Stage.M, {"age_days": 365, "inpc": UH}, R.HIGH),
    ("MS-12to18-SCA-1p", "H5 M/MS 12-18 mo SCA", Stage.MS, {"age_days": 400, "chr1p_aberration": YES}, R.HIGH),
    ("M-12to18-SCA-11q", "H5 M/MS 12-18 mo SCA", Stage.M, {"age_days": 400, "chr11q_aberration": YES}, R.HIGH),
    ("M-12to18-diploid", "H5 M/MS 12-18 mo diploid", Stage.M, {"age_days": 546, "ploidy": DIPLOID}, R.HIGH),
    ("L1-Amp-residual", "H6 L1 Amp residual", Stage.L1, {"mycn": AMP, "resection": ResectionExtent.INCOMPLETE}, R.HIGH),
    ("L1-NA", "L1 L1 NA", Stage.L1, {"mycn": MycnStatus.NOT_AMPLIFIED, "age_days": 3000, "inpc": UH}, R.LOW),
    ("L1-Amp-resected", "L2 L1 Amp resected", Stage.L1, {"mycn": AMP, "resection": ResectionExtent.COMPLETE}, R.LOW),
    ("MS-infant-favourable", "L3 MS <12 mo favourable", Stage.MS, {"age_days": 364}, R.LOW),
    ("MS-infant-hypodiploid-favourable", "L3 MS <12 mo favourable", Stage.MS,
     {"age_days": 100, "ploidy": Ploidy(dna_index=0.9)}, R.LOW),
    ("L2-under18", "I L2 <18 mo", Stage.L2, {"age_days": 546, "inpc": UH, "chr11q_aberration": YES}, R.INTERMEDIATE),
    ("L2-18mo-FH", "I L2 ≥18 mo FH", Stage.L2, {"age_days": 547}, R.INTERMEDIATE),
    ("M-under12", "I M <12 mo", Stage.M, {"age_days": 364, "inpc": UH, "ploidy": DIPLOID}, R.INTERMEDIATE),
    ("M-12to18-favourable", "I M/MS 12-18 mo favourable", Stage.M, {"age_days": 365}, R.INTERMEDIATE),
    ("MS-12to18-favourable", "I M/MS 12-18 mo favourable", Stage.MS, {"age_days": 500}, R.INTERMEDIATE),
    ("MS-infant-symptomatic", "I MS <12 mo symptomatic", Stage.MS, {"age_days": 100, "ms_symptoms": YES}, R.INTERMEDIATE),
    ("MS-infant-UH", "I MS <12 mo UH", Stage.MS, {"age_days": 100, "inpc": UH}, R.INTERMEDIATE),
    ("MS-infant-SCA", "I MS <12 mo SCA", Stage.MS, {"age_days": 100, "chr11q_aberration": YES}, R.INTERMEDIATE),
    ("MS-infant-diploid", "I MS <12 mo diploid", Stage.MS, {"age_days": 100, "ploidy": DIPLOID}, R.INTERMEDIATE),
]


@pytest.mark.parametrize(("label", "stage", "changes", "risk"), [c[1:] for c in ROW_CASES],
                         ids=[c[0] for c in ROW_CASES])
def test_each_row(label: str, stage: Stage, changes: dict, risk: R) -> None:
    result = classify_cog2021(case(**changes), stage)
    assert result.risk is risk, result.trace
    assert label in result.trace.rule
    assert "Irwin 2021" in result.trace.citation
    assert result.trace.missing == ()


def test_every_row_is_exercised() -> None:
    assert {c[1] for c in ROW_CASES} == {row.label for row in ROWS}


INDETERMINATE_CASES = [
    ("L1-Amp-pretreatment", Stage.L1, {"mycn": AMP, "resection": ResectionExtent.NOT_RESECTED},
     {R.LOW, R.HIGH}, {FactKey.RESECTION}),
    ("L1-Amp-resection-unknown", Stage.L1, {"mycn": AMP, "resection": ResectionExtent.UNKNOWN},
     {R.LOW, R.HIGH}, {FactKey.RESECTION}),
    ("MS-infant-symptoms-unknown", Stage.MS, {"age_days": 100, "ms_symptoms": UNKNOWN},
     {R.LOW, R.INTERMEDIATE}, {FactKey.SYMPTOMS}),
    # A differentiating neuroblastoma at 18 months to 5 years: its MKI class would decide the INPC class (inpc.py).
    ("L2-18mo-INPC-unknown", Stage.L2, {"age_days": 600, "inpc": InpcClass.UNKNOWN},
     {R.INTERMEDIATE, R.HIGH}, {FactKey.INPC, FactKey.MKI}),
    ("L2-MYCN-unknown", Stage.L2, {"age_days": 100, "mycn": MycnStatus.UNKNOWN},
     {R.INTERMEDIATE, R.HIGH}, {FactKey.MYCN}),
    ("M-12to18-SCA-unknown", Stage.M, {"age_days": 400, "chr1p_aberration": UNKNOWN},
     {R.INTERMEDIATE, R.HIGH}, {FactKey.SCA}),
    ("M-12to18-ploidy-unknown", Stage.M, {"age_days": 400, "ploidy": Ploidy()},
     {R.INTERMEDIATE, R.HIGH}, {FactKey.PLOIDY}),
]


@pytest.mark.parametrize(("stage", "changes", "risks", "missing"), [c[1:] for c in INDETERMINATE_CASES],
                         ids=[c[0] for c in INDETERMINATE_CASES])
def test_indeterminate_names_candidates_and_missing(stage, changes, risks, missing) -> None:
    result = classify_cog2021(case(**changes), stage)
    assert result.risk is None
    assert {c.risk for c in result.candidates} == risks
    assert {m.fact for m in result.trace.missing} == missing


def test_unknown_symptoms_do_not_matter_when_biology_is_unfavourable() -> None:
    result = classify_cog2021(case(age_days=100, ms_symptoms=UNKNOWN, inpc=UH), Stage.MS)
    assert result.risk is R.INTERMEDIATE


def test_sca_absent_needs_both_1p_and_11q() -> None:
    only_11q = case(age_days=100, chr1p_aberration=UNKNOWN)
    result = classify_cog2021(only_11q, Stage.MS)
    assert result.risk is None and {m.fact for m in result.trace.missing} == {FactKey.SCA}


def test_mature_ganglioneuroma_is_out_of_scope() -> None:
    result = classify_cog2021(case(histology=H.GANGLIONEUROMA_MATURE), Stage.L1)
    assert result.out_of_scope and result.risk is None


def test_hypodiploid_is_favourable_with_a_warning() -> None:
    result = classify_cog2021(case(age_days=400, ploidy=Ploidy(dna_index=0.8)), Stage.M)
    assert result.risk is R.INTERMEDIATE
    assert "ploidy-convention" in {w.code for w in result.trace.warnings}


def test_other_scas_are_recorded_but_decide_nothing() -> None:
    result = classify_cog2021(case(age_days=100, other_scas=("17q gain",)), Stage.MS)
    assert result.risk is R.LOW
    assert "other-sca-recorded" in {w.code for w in result.trace.warnings}


# ---- The unstable symptomatic MS infant (issue 14): practice guidance, the result stays undetermined -----------

UNSTABLE = {"ms_symptoms": YES, "mycn": MycnStatus.UNKNOWN}


@pytest.mark.parametrize(("stage", "changes", "found"), [
    pytest.param(Stage.MS, {"age_days": 35}, "if MYCN amplification is then found", id="MS, 35 days"),
    pytest.param(Stage.MS, {"age_days": 364}, "if MYCN amplification is then found", id="MS, 364 days"),
    pytest.param(Stage.MS, {"age_days": 365}, "MYCN amplification, unfavourable histology, a 1p/11q aberration or "
                 "a diploid tumour", id="MS, 365 days: more than MYCN can make it high"),
    pytest.param(Stage.MS, {"age_days": 365, "inpc": InpcClass.UNKNOWN}, "diploid tumour",
                 id="MS, 12-18 months, biology unknown"),
])
def test_the_unstable_ms_infant_gets_practice_guidance_and_stays_undetermined(stage: Stage, changes: dict,
                                                                              found: str) -> None:
    result = classify_cog2021(case(**UNSTABLE, **changes), stage)
    assert result.outcome is None
    assert {c.risk for c in result.candidates} == {R.INTERMEDIATE, R.HIGH}
    [guidance] = [w for w in result.trace.warnings if w.code == "unstable-ms-infant-practice"]
    assert guidance.message.startswith("Practice guidance (PDQ; COG ANBL0531)")
    assert found in guidance.message


@pytest.mark.parametrize(("stage", "changes"), [
    pytest.param(Stage.MS, {"ms_symptoms": NO, "mycn": MycnStatus.UNKNOWN}, id="asymptomatic"),
    pytest.param(Stage.MS, {"ms_symptoms": UNKNOWN, "mycn": MycnStatus.UNKNOWN}, id="symptoms not recorded"),
    pytest.param(Stage.MS, {"ms_symptoms": YES, "mycn": MycnStatus.NOT_AMPLIFIED}, id="MYCN known"),
    pytest.param(Stage.M, {"ms_symptoms": YES, "mycn": MycnStatus.UNKNOWN}, id="stage M"),
])
def test_no_guidance_outside_the_unstable_ms_infant(stage: Stage, changes: dict) -> None:
    result = classify_cog2021(case(age_days=100, **changes), stage)
    assert not [w for w in result.trace.warnings if w.code == "unstable-ms-infant-practice"]
