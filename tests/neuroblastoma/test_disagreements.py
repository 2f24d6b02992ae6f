"""Where the sources disagree (issue 18): the result follows the product rule, and the traces of the results
another reading would change carry a warning naming both readings (and, for COG, the alternative result).

Table-driven at the edges: days 364/365/546/547 (and intervals ending on them), COG L2 at 18 months to 5 years
and at 5 years or older by grade and INPC class, SCAs beyond 1p/11q by age and stage, evolving hepatomegaly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given

from neuroblastoma.biology import DifferentiationGrade as G
from neuroblastoma.biology import HistologicCategory as H
from neuroblastoma.biology import InpcClass, MkiClass, Ploidy
from neuroblastoma.case import Case, MarrowAssessment, MarrowMethod, MetastasisFinding, MetastaticSite
from neuroblastoma.classification import _results, classify
from neuroblastoma.disagreements import AGE_BOUNDARY, AGE_BOUNDARY_SAME, COG_L2, SCA_PANEL, nccn_l2_risk
from neuroblastoma.facts import Presence
from neuroblastoma.results import Classification, RiskLevel, Stage
from tests.neuroblastoma.case_strategies import cases
from tests.neuroblastoma.risk_cases import case
from tests.neuroblastoma.test_staging import L2_PRIMARY, localized, ms_infant

P, A = Presence.PRESENT, Presence.ABSENT
FH, UH, UNKNOWN = InpcClass.FAVOURABLE, InpcClass.UNFAVOURABLE, InpcClass.UNKNOWN
R = RiskLevel
BIOLOGY = ("histology", "grade", "mki", "inpc", "mycn", "chr11q_aberration", "chr1p_aberration", "ploidy",
           "ms_symptoms", "resection")


def codes(result: Classification) -> set[str]:
    return {w.code for w in result.all_warnings}


def warning(result: Classification, code: str) -> str:
    return next(w.message for w in result.all_warnings if w.code == code)


def _with_biology(staged: Case, **changes: object) -> Case:
    """A staged case with the favourable biology of ``risk_cases.case``, biology and other fields changed."""
    own = {name: value for name, value in changes.items() if name not in (*BIOLOGY, "other_scas")}
    biology = case(**{name: value for name, value in changes.items() if name not in own})
    return replace(staged, **{field: getattr(biology, field) for field in BIOLOGY}, other_scas=biology.other_scas,
                   **own)


def ms_pattern(days: int, days_max: int | None = None, **changes: object) -> Case:
    """Liver metastases, marrow clear, MIBG negative in bone and marrow: MS under 18 months, M after."""
    return _with_biology(ms_infant(age_days=days, age_days_max=days_max), **changes)


def m_diploid(days: int, days_max: int | None = None, **changes: object) -> Case:
    """Bone metastases and 30 % marrow: M at any age; diploid unless changed."""
    return replace(ms_pattern(days, days_max, **{"ploidy": Ploidy(dna_index=1.0), **changes}),
                   metastases=(MetastasisFinding(MetastaticSite.BONE, P),),
                   bone_marrow=MarrowAssessment(P, 30.0, MarrowMethod.MORPHOLOGY))


def l2(**changes: object) -> Case:
    return _with_biology(localized(primaries=(L2_PRIMARY,)), **changes)


# ---- day 365 and day 547 ----------------------------------------------------------------------------------------

BOUNDARY_CASES = [
    # id, case, stage, COG risk, warning code or None, what the other reading gives
    ("MS-pattern-546", ms_pattern(546), Stage.MS, R.INTERMEDIATE, None, None),
    ("MS-pattern-547", ms_pattern(547), Stage.M, R.HIGH, AGE_BOUNDARY, "stage MS, INRG 2009 group C (very low risk), "
                                                                       "COG 2021 intermediate risk"),
    ("MS-pattern-548", ms_pattern(548), Stage.M, R.HIGH, None, None),
    ("M-diploid-364", m_diploid(364), Stage.M, R.INTERMEDIATE, None, None),
    ("M-diploid-365", m_diploid(365), Stage.M, R.HIGH, AGE_BOUNDARY, "stage M, INRG 2009 group I (intermediate "
                                                                     "risk), COG 2021 intermediate risk"),
    ("M-diploid-366", m_diploid(366), Stage.M, R.HIGH, None, None),
    ("M-diploid-546", m_diploid(546), Stage.M, R.HIGH, None, None),
    ("M-diploid-547", m_diploid(547), Stage.M, R.HIGH, AGE_BOUNDARY, "INRG 2009 group J (intermediate risk)"),
    # an interval ending on day 547 is decided by the other reading; one starting on it is left open by it
    ("MS-pattern-540-547", ms_pattern(540, 547), None, None, AGE_BOUNDARY, "stage MS"),
    ("MS-pattern-547-560", ms_pattern(547, 560), Stage.M, R.HIGH, AGE_BOUNDARY, "stage M or MS"),
    ("MS-pattern-540-560", ms_pattern(540, 560), None, None, None, None),  # day 547 inside: nothing changes
]


@pytest.mark.parametrize(("subject", "stage", "cog", "code", "other"), [c[1:] for c in BOUNDARY_CASES],
                         ids=[c[0] for c in BOUNDARY_CASES])
def test_boundary_days_follow_the_product_rule_and_name_the_other_reading(subject, stage, cog, code, other) -> None:
    result = classify(subject)
    assert result.stage.stage is stage
    assert result.risk("cog2021").risk is cog
    if code is None:
        assert not codes(result) & {AGE_BOUNDARY, AGE_BOUNDARY_SAME}
        return
    message = warning(result, code)
    assert other in message
    day = "547" if "547" in message.split(":")[1] else "365"
    assert f"day {day} is counted as" in message
    cited = ("PDQ 2025", "ANBL1232", "Cohn 2009", "under 548 days") if day == "547" else ("PDQ 2025", "HR-NBL2")
    assert all(source in message for source in cited), message


def test_the_warning_is_on_every_result_the_other_reading_changes_and_no_other() -> None:
    result = classify(ms_pattern(547))  # M/P/high here; MS/C/intermediate the other way; INSS 4 either way
    with_warning = {name for name, trace in [("stage", result.stage.trace),
                                             *((r.schema, r.trace) for r in result.risks),
                                             *((s.system, s.trace) for s in result.stages[1:])]
                    if AGE_BOUNDARY in {w.code for w in trace.warnings}}
    assert with_warning == {"stage", "inrg2009", "cog2021"}


def test_a_boundary_day_that_changes_nothing_is_a_note_on_the_stage() -> None:
    result = classify(_with_biology(localized(age_days=547)))  # L1, MYCN not amplified: INRG B, COG low at any age
    assert result.stage.stage is Stage.L1
    assert AGE_BOUNDARY not in codes(result)
    assert "the results would be the same" in warning(result, AGE_BOUNDARY_SAME)
    assert AGE_BOUNDARY_SAME in {w.code for w in result.stage.trace.warnings}


# ---- COG 2021, L2, MYCN not amplified, 18 months or older -----------------------------------------------------

L2_CASES = [
    # id, changes, ours, NCCN, warning
    ("18mo-differentiating-MKI-intermediate", dict(age_days=700, grade=G.DIFFERENTIATING, mki=MkiClass.INTERMEDIATE,
                                                   inpc=UNKNOWN), R.HIGH, R.INTERMEDIATE, True),
    ("18mo-differentiating-reported-UH", dict(age_days=547, grade=G.DIFFERENTIATING, inpc=UH), R.HIGH,
     R.INTERMEDIATE, True),
    ("18mo-differentiating-FH", dict(age_days=700, grade=G.DIFFERENTIATING, inpc=FH), R.INTERMEDIATE,
     R.INTERMEDIATE, False),
    ("18mo-poorly-differentiated-UH", dict(age_days=700, grade=G.POORLY_DIFFERENTIATED, inpc=UH), R.HIGH, R.HIGH,
     False),
    ("5y-GNB-intermixed", dict(age_days=2000, histology=H.GANGLIONEUROBLASTOMA_INTERMIXED, grade=G.UNKNOWN, inpc=FH),
     R.INTERMEDIATE, R.HIGH, True),
    ("5y-GN-maturing", dict(age_days=2000, histology=H.GANGLIONEUROMA_MATURING, grade=G.UNKNOWN, inpc=FH),
     R.INTERMEDIATE, R.HIGH, True),
    ("5y-neuroblastoma-UH", dict(age_days=2000, grade=G.DIFFERENTIATING, inpc=UH), R.HIGH, R.HIGH, False),
    ("4y-GNB-intermixed", dict(age_days=1500, histology=H.GANGLIONEUROBLASTOMA_INTERMIXED, grade=G.UNKNOWN, inpc=FH),
     R.INTERMEDIATE, None, False),  # NCCN grades neuroblastoma only: no reading to compare
    ("546d-differentiating-UH", dict(age_days=546, grade=G.DIFFERENTIATING, inpc=UH), R.INTERMEDIATE, None, False),
]


@pytest.mark.parametrize(("changes", "ours", "nccn", "warned"), [c[1:] for c in L2_CASES], ids=[c[0] for c in L2_CASES])
def test_cog_l2_from_18_months_names_nccn_where_it_differs(changes, ours, nccn, warned) -> None:
    subject = l2(**changes)
    result = classify(subject)
    cog = result.risk("cog2021")
    assert result.stage.stage is Stage.L2 and cog.risk is ours
    assert nccn_l2_risk(subject, result.stage) is nccn
    assert (COG_L2 in codes(result)) is warned
    if warned:
        message = warning(result, COG_L2)
        assert "PDQ Table 3" in message and "Irwin 2021" in message and "NCCN v2.2026 NEUROB-2" in message
        assert f"{'high' if nccn is R.HIGH else 'intermediate'} risk" in message.split("NEUROB-2")[1]
        assert any(step.startswith("Alternative reading, NCCN v2.2026 NEUROB-2") for step in cog.trace.steps)


# ---- segmental aberrations beyond 1p and 11q --------------------------------------------------------------------

SCA_CASES = [
    # id, case, COG risk here, the wider definition's risk (None: no warning)
    ("MS-14mo-17q", ms_pattern(430, other_scas=("17q gain",)), R.INTERMEDIATE, R.HIGH),
    ("M-14mo-3p", m_diploid(430, ploidy=Ploidy(dna_index=1.4), other_scas=("3p loss",)), R.INTERMEDIATE, R.HIGH),
    ("MS-5mo-4p", ms_pattern(150, other_scas=("4p loss",)), R.LOW, R.INTERMEDIATE),
    ("M-8mo-17q", m_diploid(240, other_scas=("17q gain",)), R.INTERMEDIATE, None),  # M < 12 months
    ("MS-14mo-17q-1p", ms_pattern(430, other_scas=("17q gain",), chr1p_aberration=P), R.HIGH, None),
    ("MS-14mo-11q-label", ms_pattern(430, other_scas=("11q loss",)), R.INTERMEDIATE, None),  # not a wider SCA
]


@pytest.mark.parametrize(("subject", "ours", "wider"), [c[1:] for c in SCA_CASES], ids=[c[0] for c in SCA_CASES])
def test_a_wider_sca_definition_is_named_where_it_would_change_cog(subject, ours, wider) -> None:
    result = classify(subject)
    cog = result.risk("cog2021")
    assert cog.risk is ours
    if wider is None:
        assert SCA_PANEL not in codes(result)
        return
    message = warning(result, SCA_PANEL)
    assert f"counted, it would give {wider.value} risk" in message
    assert "ANBL1232" in message and "Irwin 2021" in message
    assert ("Schleiermacher 2012" in message) == ("17q gain" in subject.other_scas)
    assert "other-sca-recorded" not in {w.code for w in cog.trace.warnings}  # said once, with the alternative
    assert any(step.startswith("Alternative reading, wider SCA definition") for step in cog.trace.steps)


def test_other_scas_that_change_nothing_are_still_shown() -> None:
    result = classify(m_diploid(240, other_scas=("17q gain",)))
    assert "other-sca-recorded" in codes(result)


# ---- evolving hepatomegaly in an infant under 3 months ----------------------------------------------------------

def test_evolving_hepatomegaly_makes_a_favourable_ms_infant_intermediate() -> None:
    """Read from the symptom code `evolving-hepatomegaly-under-3-months` the infant is symptomatic (guide 6.21):
    COG 2021 intermediate (Irwin 2021 via PDQ: "younger than 3 months with evolving hepatomegaly")."""
    asymptomatic = ms_pattern(47)
    hepatomegaly = replace(asymptomatic, ms_symptoms=P)
    assert classify(asymptomatic).risk("cog2021").risk is R.LOW
    assert classify(hepatomegaly).risk("cog2021").risk is R.INTERMEDIATE
    assert classify(hepatomegaly).risk("inrg2009").group == "C"


# ---- the result itself never moves -------------------------------------------------------------------------------

@given(cases())
def test_the_other_readings_change_what_is_said_never_the_result(subject: Case) -> None:
    """Every disagreement is a warning (and a step) on the product rule's result, whatever the case."""
    stages, risks = _results(subject)
    result = classify(subject)
    assert [(s.stage, s.candidates) for s in result.stages] == [(s.stage, s.candidates) for s in stages]
    assert [(r.outcome, r.candidates, r.out_of_scope) for r in result.risks] == \
           [(r.outcome, r.candidates, r.out_of_scope) for r in risks]
    assert [r.trace.missing for r in result.risks] == [r.trace.missing for r in risks]
