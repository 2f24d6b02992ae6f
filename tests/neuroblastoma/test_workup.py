"""The COG pretreatment work-up (issue 14), table-driven at its edges: each item asked for only where its
condition holds, naming exactly what is missing; the grade only where it decides (L2 at 18 months or older);
FDG-PET for a tumour that is not MIBG-avid, whatever SRC-A's exemption; the small-adrenal-mass criteria of
observation without biopsy on both sides of 3.1 cm / 5 cm / 25 % / 6 months; the spine MRI; ALK for induction."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from neuroblastoma.ages import PartialDate, younger_than_months
from neuroblastoma.anatomy import Compartment, Laterality
from neuroblastoma.biology import (
    AlkStatus,
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MkiClass,
    MycnStatus,
    Ploidy,
    PloidyCategory,
)
from neuroblastoma.case import (
    Case,
    FunctionalImaging,
    ImagingModality,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    MetastaticSite,
    MibgScore,
    MibgScoreMethod,
    PrimaryTumour,
)
from neuroblastoma.classification import classify
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode, IdrfFinding, StructureKind, StructureRelation
from neuroblastoma.workup import SRC_A_PET, Urgency, WorkupItem, pretreatment_workup, small_adrenal_mass

P, A, U = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
ADRENAL = PrimaryTumour(Compartment.ABDOMEN, Laterality.LEFT, idrf_summary=A, adrenal=P)
COMPLETE = dict(
    metastatic_survey=A, bone_marrow=MarrowAssessment(A, None, MarrowMethod.MORPHOLOGY), primary_mibg_avid=P,
    functional_imaging=(FunctionalImaging(ImagingModality.MIBG, A, A),), histology=HistologicCategory.NEUROBLASTOMA,
    grade=DifferentiationGrade.DIFFERENTIATING, inpc=InpcClass.FAVOURABLE, mycn=MycnStatus.NOT_AMPLIFIED,
    chr11q_aberration=A, chr1p_aberration=A, ploidy=Ploidy(1.4),
)
# A fully worked-up L1 child of 2 years: nothing is missing.
DONE = Case("p", age_days=800, primaries=(ADRENAL,), **COMPLETE)  # type: ignore[arg-type]
RENAL_CONTACT = IdrfFinding(IdrfCode.ABDOMEN_RENAL_PEDICLE, P, StructureKind.RENAL_VESSEL, StructureRelation.CONTACT)
L2 = dataclasses.replace(ADRENAL, idrf_summary=P, idrfs=(RENAL_CONTACT,))


def _items(case: Case) -> dict[str, WorkupItem]:
    return {item.key: item for item in pretreatment_workup(case, classify(case)).items}


def test_a_complete_work_up_lists_nothing() -> None:
    assert _items(DONE) == {}


# ---- The grade only where it decides; the wording names exactly what is missing ---------------------------------

@pytest.mark.parametrize(("stage_changes", "age_days", "grade_asked"), [
    pytest.param({}, 800, False, id="L1 at 2 years: grade decides nothing"),
    pytest.param({"primaries": (L2,)}, 800, True, id="L2 at 2 years: grade decides E versus H"),
    pytest.param({"primaries": (L2,)}, 546, False, id="L2 at 546 days: under 18 months"),
    pytest.param({"primaries": (L2,)}, 547, True, id="L2 at 547 days: 18 months or older"),
    pytest.param({"metastatic_survey": P, "metastases": (MetastasisFinding(MetastaticSite.BONE, P),)}, 800, False,
                 id="M: grade decides nothing"),
    pytest.param({"primaries": (L2,), "mycn": MycnStatus.AMPLIFIED}, 800, False,
                 id="L2 at 2 years, MYCN amplified: group N whatever the grade"),
    pytest.param({"primaries": (L2,), "chr11q_aberration": P}, 800, False,
                 id="L2 at 2 years, 11q aberration: group H whatever the grade"),
    pytest.param({"primaries": (L2,), "mycn": MycnStatus.UNKNOWN}, 800, True,
                 id="L2 at 2 years, MYCN unknown: the grade may still decide"),
])
def test_the_grade_is_asked_for_only_for_l2_at_18_months_or_older(stage_changes: dict[str, Any], age_days: int,
                                                                  grade_asked: bool) -> None:
    case = dataclasses.replace(DONE, age_days=age_days, grade=DifferentiationGrade.UNKNOWN, **stage_changes)
    items = _items(case)
    if grade_asked:
        assert items["histology"].what == "not recorded: grade of differentiation (it decides L2 at 18 months or older)"
    else:
        assert "histology" not in items


def test_the_histology_item_names_only_what_is_missing() -> None:
    items = _items(dataclasses.replace(DONE, inpc=InpcClass.UNKNOWN))  # differentiating NB at 2 years: MKI decides
    assert items["histology"].what == "not recorded: INPC favourable/unfavourable class"  # MKI decides nothing: L1
    l2 = dataclasses.replace(DONE, primaries=(L2,), inpc=InpcClass.UNKNOWN)  # L2 at 2 years: the INPC class decides COG
    assert _items(l2)["histology"].what == ("not recorded: MKI class (it decides the INPC class, which decides a risk "
                                            "group), INPC favourable/unfavourable class")
    items = _items(dataclasses.replace(DONE, inpc=InpcClass.UNKNOWN, mki=MkiClass.LOW))
    assert items["histology"].what == ("not recorded: INPC favourable/unfavourable class (derived from its parts: "
                                       "favourable)")
    items = _items(dataclasses.replace(DONE, inpc=InpcClass.UNKNOWN, mki=MkiClass.HIGH))
    assert items["histology"].what.endswith("(derived from its parts: unfavourable)")
    items = _items(dataclasses.replace(DONE, histology=HistologicCategory.UNKNOWN, grade=DifferentiationGrade.UNKNOWN))
    assert items["histology"].what == "not recorded: histologic category"


def test_a_mature_ganglioneuroma_needs_no_tumour_biology() -> None:
    case = dataclasses.replace(DONE, histology=HistologicCategory.GANGLIONEUROMA_MATURE, inpc=InpcClass.UNKNOWN,
                               mycn=MycnStatus.UNKNOWN, ploidy=Ploidy(), chr11q_aberration=U, chr1p_aberration=U)
    assert _items(case) == {}


# ---- Imaging ------------------------------------------------------------------------------------------------------

def test_mibg_is_due_before_any_resection() -> None:
    item = _items(dataclasses.replace(DONE, functional_imaging=()))["mibg"]
    assert item.urgency is Urgency.BEFORE_RESECTION


@pytest.mark.parametrize(("avid", "scans", "asked"), [
    pytest.param(P, (), False, id="MIBG-avid: no FDG-PET"),
    pytest.param(A, (), True, id="not avid: FDG-PET"),
    pytest.param(U, (), False, id="avidity unknown: not asked"),
    pytest.param(A, (FunctionalImaging(ImagingModality.FDG_PET, A, A),), False, id="not avid, FDG-PET done"),
    pytest.param(A, (FunctionalImaging(ImagingModality.MDP_BONE_SCAN, A, A),), True, id="not avid, bone scan only"),
])
def test_fdg_pet_when_the_primary_is_not_mibg_avid(avid: Presence, scans: tuple[FunctionalImaging, ...],
                                                    asked: bool) -> None:
    case = dataclasses.replace(DONE, primary_mibg_avid=avid,
                               functional_imaging=(FunctionalImaging(ImagingModality.MIBG, A, A), *scans))
    assert ("fdg-pet" in _items(case)) is asked


def test_the_mibg_score_is_asked_for_when_mibg_shows_bone_or_marrow_disease() -> None:
    metastatic = dataclasses.replace(DONE, metastatic_survey=P, functional_imaging=(
        FunctionalImaging(ImagingModality.MIBG, P, A),), metastases=(MetastasisFinding(MetastaticSite.BONE, P),))
    assert _items(metastatic)["mibg-score"].urgency is Urgency.AT_DIAGNOSIS
    scored = dataclasses.replace(metastatic, mibg_scores=(MibgScore(MibgScoreMethod.SIOPEN, 8),))
    assert "mibg-score" not in _items(scored)
    assert "mibg-score" not in _items(DONE)


@pytest.mark.parametrize(("paraspinal", "cord", "urgency"), [
    pytest.param(P, A, Urgency.BEFORE_TREATMENT, id="paraspinal primary"),
    pytest.param(U, P, Urgency.EMERGENCY, id="cord compression: an emergency"),
    pytest.param(A, A, None, id="neither: not asked"),
    pytest.param(U, U, None, id="not recorded: not asked"),
])
def test_spine_mri_for_a_paraspinal_primary_or_cord_compression(paraspinal: Presence, cord: Presence,
                                                                urgency: Urgency | None) -> None:
    item = _items(dataclasses.replace(DONE, paraspinal=paraspinal, cord_compression=cord)).get("spine-mri")
    assert (item.urgency if item else None) is urgency


def test_the_spine_mri_decides_when_the_idrf_call_is_open() -> None:
    """IDRF 19 (intraspinal extension) comes from the spine MRI: with no overall IDRF call it decides L1 or L2."""
    open_call = dataclasses.replace(DONE, paraspinal=P, cord_compression=P,
                                    primaries=(dataclasses.replace(ADRENAL, idrf_summary=U),))
    assert _items(open_call)["spine-mri"].decides
    assert not _items(dataclasses.replace(DONE, paraspinal=P))["spine-mri"].decides  # L1 decided: no IDRF


def test_the_spine_mri_is_done_when_the_spinal_canal_is_reported() -> None:
    intraspinal = IdrfFinding(IdrfCode.INTRASPINAL, A)
    case = dataclasses.replace(DONE, paraspinal=P, primaries=(dataclasses.replace(ADRENAL, idrfs=(intraspinal,)),))
    assert "spine-mri" not in _items(case)


# ---- ALK: never before treatment, and only for a high-risk result --------------------------------------------------

def test_alk_is_for_induction_when_a_risk_group_is_high() -> None:
    high = dataclasses.replace(DONE, metastatic_survey=P, metastases=(MetastasisFinding(MetastaticSite.BONE, P),),
                               functional_imaging=(FunctionalImaging(ImagingModality.MIBG, P, A),),
                               mibg_scores=(MibgScore(MibgScoreMethod.CURIE, 6),))
    items = _items(high)
    assert list(items) == ["alk"]
    assert items["alk"].urgency is Urgency.DURING_INDUCTION and not items["alk"].decides
    assert "alk" not in _items(dataclasses.replace(high, alk=AlkStatus.NOT_ALTERED))
    assert "alk" not in _items(DONE)  # L1, MYCN not amplified: low risk
    assert "alk" not in _items(dataclasses.replace(DONE, mycn=MycnStatus.UNKNOWN))  # high only possible


# ---- Observation without biopsy: the COG small-adrenal-mass criteria (PDQ; Nuchtern 2012) -----------------------

INFANT = Case("p", birth_date=PartialDate(2025, 2, 1), diagnosis_date=PartialDate(2025, 6, 1), primaries=(ADRENAL,),
              metastatic_survey=A, primary_diameter_cm=2.8, primary_cystic_percent=0.0)


@pytest.mark.parametrize(("changes", "presence"), [
    pytest.param({}, P, id="4 months, 2.8 cm solid"),
    pytest.param({"primary_diameter_cm": 3.0}, P, id="3.0 cm solid"),
    pytest.param({"primary_diameter_cm": 3.1}, U, id="3.1 cm solid: on the boundary (PDQ '<', SRC-A '≤')"),
    pytest.param({"primary_diameter_cm": 3.2}, A, id="3.2 cm solid"),
    pytest.param({"primary_diameter_cm": 4.9, "primary_cystic_percent": 25.0}, P, id="4.9 cm, 25 % cystic"),
    pytest.param({"primary_diameter_cm": 4.9, "primary_cystic_percent": 24.0}, A, id="4.9 cm, 24 %: solid"),
    pytest.param({"primary_diameter_cm": 5.0, "primary_cystic_percent": 40.0}, U, id="5.0 cm cystic: boundary"),
    pytest.param({"primary_diameter_cm": 5.1, "primary_cystic_percent": 40.0}, A, id="5.1 cm cystic"),
    pytest.param({"primary_cystic_percent": None}, P, id="2.8 cm, cystic fraction unknown: below 3.1 anyway"),
    pytest.param({"primary_diameter_cm": 4.0, "primary_cystic_percent": None}, U, id="4.0 cm: the fraction decides"),
    pytest.param({"primary_diameter_cm": 5.5, "primary_cystic_percent": None}, A, id="5.5 cm: above 5 anyway"),
    pytest.param({"primary_diameter_cm": None}, U, id="size not recorded"),
    pytest.param({"birth_date": PartialDate(2024, 12, 2)}, P, id="5 months 30 days"),
    pytest.param({"birth_date": PartialDate(2024, 12, 1)}, A, id="exactly 6 calendar months"),
    pytest.param({"primaries": (dataclasses.replace(ADRENAL, adrenal=U),)}, U, id="adrenal origin not recorded"),
    pytest.param({"primaries": (L2,)}, A, id="L2"),
])
def test_the_small_adrenal_mass_criteria_at_their_edges(changes: dict[str, Any], presence: Presence) -> None:
    case = dataclasses.replace(INFANT, **changes)
    assert small_adrenal_mass(case, classify(case)).presence is presence


def test_observation_defers_the_tissue_tests_and_keeps_fdg_pet_with_srca_note() -> None:
    case = dataclasses.replace(INFANT, primary_mibg_avid=A, bone_marrow=MarrowAssessment(A),
                               functional_imaging=(FunctionalImaging(ImagingModality.MIBG, A, A),))
    workup = pretreatment_workup(case, classify(case))
    items = {item.key: item for item in workup.items}
    assert {items[key].urgency for key in ("histology", "mycn", "ploidy", "sca")} == {Urgency.DEFERRED}
    assert items["fdg-pet"].urgency is Urgency.BEFORE_TREATMENT and items["fdg-pet"].note == SRC_A_PET
    [note] = workup.notes
    assert note.startswith("Observation without biopsy is an accepted approach for this infant")
    bigger = dataclasses.replace(case, primary_diameter_cm=3.2)
    workup = pretreatment_workup(bigger, classify(bigger))
    assert workup.notes == ()
    assert {item.key: item for item in workup.items}["fdg-pet"].note is None


def test_the_size_is_asked_for_in_a_young_infant_with_an_l1_adrenal_mass() -> None:
    assert _items(dataclasses.replace(INFANT, primary_diameter_cm=None, primary_cystic_percent=None))[
        "primary-size"].what == "not recorded: longest diameter, cystic fraction"
    assert "primary-size" not in _items(dataclasses.replace(INFANT, primary_cystic_percent=None,
                                                            birth_date=PartialDate(2024, 6, 1)))


@pytest.mark.parametrize(("birth", "diagnosis", "age_days", "months", "expected"), [
    (PartialDate(2025, 2, 1), PartialDate(2025, 8, 1), None, 6, False),
    (PartialDate(2025, 2, 1), PartialDate(2025, 7, 31), None, 6, True),
    (PartialDate(2024, 8, 31), PartialDate(2025, 2, 27), None, 6, True),
    (PartialDate(2024, 8, 31), PartialDate(2025, 2, 28), None, 6, False),  # the month's last day
    (None, None, 180, 6, True), (None, None, 182, 6, None), (None, None, 184, 6, False),
    (None, None, 88, 3, True), (None, None, 90, 3, None), (None, None, 92, 3, False),
    (PartialDate(2025, 2), PartialDate(2025, 8, 1), None, 6, None),
])
def test_calendar_months(birth: PartialDate | None, diagnosis: PartialDate | None, age_days: int | None,
                         months: int, expected: bool | None) -> None:
    case = Case("p", birth_date=birth, diagnosis_date=diagnosis, age_days=age_days)
    assert younger_than_months(case.birth_date, case.diagnosis_date, case.age, months) is expected


def test_the_unstable_ms_infant_may_have_the_biopsy_when_safe() -> None:
    infant = Case("p", age_days=40, primaries=(ADRENAL,), metastatic_survey=P,
                  metastases=(MetastasisFinding(MetastaticSite.LIVER, P),),
                  bone_marrow=MarrowAssessment(P, 2.0, MarrowMethod.MORPHOLOGY), primary_mibg_avid=P,
                  functional_imaging=(FunctionalImaging(ImagingModality.MIBG, A, A),), ms_symptoms=P)
    items = _items(infant)
    assert {items[key].urgency for key in ("histology", "mycn", "ploidy", "sca")} == {Urgency.WHEN_SAFE}
    assert items["mycn"].decides  # MYCN decides COG intermediate versus high


def test_ploidy_category_counts_as_done() -> None:
    assert "ploidy" not in _items(dataclasses.replace(DONE, ploidy=Ploidy(category=PloidyCategory.DIPLOID)))
