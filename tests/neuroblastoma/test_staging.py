"""INRGSS staging, rule by rule (Monclair 2009 Table 2; Brisse 2011; clinical-rules.md §1 and decisions 8–9).

Each row: a case built from a small base, the expected candidate stages (one = determinate), the exact
set of missing facts, and warning codes that must appear.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from neuroblastoma.ages import PartialDate
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.case import (
    Case,
    Effusion,
    EffusionKind,
    FactKey,
    FunctionalImaging,
    ImagingModality,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    MetastaticSite,
    NodalFinding,
    PrimaryTumour,
    TumourExtension,
)
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode, IdrfFinding, SpinalCanalFinding, StructureKind, StructureRelation
from neuroblastoma.results import Stage
from neuroblastoma.sources import RULESET_VERSION
from neuroblastoma.staging import assign_stage

P, A, U = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
L1, L2, M, MS = Stage.L1, Stage.L2, Stage.M, Stage.MS
ABDOMEN, CHEST, PELVIS, NECK = Compartment.ABDOMEN, Compartment.CHEST, Compartment.PELVIS, Compartment.NECK
LEFT, RIGHT, MIDLINE = Laterality.LEFT, Laterality.RIGHT, Laterality.MIDLINE
F = FactKey


def primary(compartment: Compartment | None = ABDOMEN, side: Laterality = LEFT, *,
            summary: Presence = A, idrfs: tuple[IdrfFinding, ...] = (),
            extensions: tuple[TumourExtension, ...] = (), label: str = "left adrenal") -> PrimaryTumour:
    return PrimaryTumour(compartment, side, extensions, idrfs, summary, label, "Condition/primary")


L1_PRIMARY = primary()
L2_PRIMARY = primary(summary=P, label="right adrenal", side=RIGHT)
UNKNOWN_PRIMARY = primary(summary=U, label="pelvic mass", compartment=PELVIS)
# A localized infant: L1 primary, negative metastatic work-up.
LOCALIZED = Case("localized", age_days=300, primaries=(L1_PRIMARY,), metastatic_survey=A)
MIBG_CLEAR = FunctionalImaging(ImagingModality.MIBG, bone=A, bone_marrow=A, source="DiagnosticReport/mibg")
MDP_CLEAR = FunctionalImaging(ImagingModality.MDP_BONE_SCAN, bone=A, bone_marrow=A)
PET_CLEAR = FunctionalImaging(ImagingModality.FDG_PET, bone=A, bone_marrow=A)
LIVER = MetastasisFinding(MetastaticSite.LIVER, P, source="Observation/liver")
SKIN = MetastasisFinding(MetastaticSite.SKIN, P)
MARROW_CLEAR = MarrowAssessment(A, 0.0, MarrowMethod.MORPHOLOGY)
# An MS infant: liver metastases, marrow clear, MIBG-avid primary with MIBG clear of bone and marrow.
MS_INFANT = Case("ms", age_days=300, primaries=(L1_PRIMARY,), metastases=(LIVER,), metastatic_survey=P,
                 bone_marrow=MARROW_CLEAR, functional_imaging=(MIBG_CLEAR,), primary_mibg_avid=P)


def localized(**changes: object) -> Case:
    return replace(LOCALIZED, **changes)


def ms_infant(**changes: object) -> Case:
    return replace(MS_INFANT, **changes)


def every_idrf(status: Presence = A, **overrides: IdrfFinding) -> tuple[IdrfFinding, ...]:
    """All 20 IDRFs itemised with one status, optionally replacing some by code value."""
    return tuple(overrides.get(c.name, IdrfFinding(c, status)) for c in IdrfCode)


@dataclass(frozen=True)
class Expect:
    stages: tuple[Stage, ...]
    missing: frozenset[FactKey] = frozenset()
    warnings: frozenset[str] = frozenset()
    step: str | None = None  # a substring that must appear in some reasoning line
    decided_by: frozenset[FactKey] = field(default_factory=frozenset)


def row(name: str, case: Case, stages: tuple[Stage, ...], *missing: FactKey,
        warnings: tuple[str, ...] = (), step: str | None = None,
        decided_by: tuple[FactKey, ...] = ()) -> pytest.param:
    return pytest.param(case, Expect(stages, frozenset(missing), frozenset(warnings), step, frozenset(decided_by)),
                        id=name)


def check(case: Case, expect: Expect) -> None:
    result = assign_stage(case)
    trace = result.trace
    assert result.candidates == expect.stages, trace.steps
    assert result.determinate is (len(expect.stages) == 1)
    assert result.stage is (expect.stages[0] if len(expect.stages) == 1 else None)
    assert {m.fact for m in trace.missing} == expect.missing, trace.missing
    assert expect.warnings <= {w.code for w in trace.warnings}, trace.warnings
    assert expect.decided_by <= set(trace.decided_by), trace.decided_by
    if expect.step is not None:
        assert any(expect.step in s for s in trace.steps), trace.steps


# --- L1 versus L2: the IDRFs (Monclair 2009 Tables 1–2; Brisse 2011) -------------------------------------

IDRF_15_CONTACT = IdrfFinding(IdrfCode.ABDOMEN_RENAL_PEDICLE, U, StructureKind.RENAL_VESSEL,
                              StructureRelation.CONTACT, source="Observation/idrf-15")
AORTA_CALL = IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, P)
AORTA_CONTACT = IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, U, StructureKind.ARTERY, StructureRelation.CONTACT)
AORTA_CONFLICT = IdrfFinding(IdrfCode.ABDOMEN_AORTA_CAVA, P, StructureKind.ARTERY, StructureRelation.CONTACT)
SPINAL_BELOW = IdrfFinding(IdrfCode.INTRASPINAL, U, spinal_canal=SpinalCanalFinding(0.2, U, A, A))

LOCOREGIONAL_ROWS = [
    row("l1-no-idrf", LOCALIZED, (L1,), step="Stage L1",
        decided_by=(F.PRIMARY_TUMOUR, F.IDRF, F.METASTATIC_SURVEY)),
    row("l2-overall-call-present", localized(primaries=(primary(summary=P),)), (L2,), decided_by=(F.IDRF,)),
    row("l2-itemised-idrf-present", localized(primaries=(primary(summary=U, idrfs=(AORTA_CALL,)),)), (L2,)),
    row("l2-renal-contact-counts", localized(primaries=(primary(summary=U, idrfs=(IDRF_15_CONTACT,)),)), (L2,),
        step="IDRF-15 present: contact with the renal vessels counts as an IDRF (Brisse 2011) "
             "[Observation/idrf-15]"),
    row("artery-contact-no-overall-call-undecided", localized(primaries=(primary(summary=U, idrfs=(AORTA_CONTACT,)),)),
        (L1, L2), F.IDRF),
    row("artery-contact-with-overall-none-l1", localized(primaries=(primary(summary=A, idrfs=(AORTA_CONTACT,)),)),
        (L1,)),
    row("all-twenty-itemised-absent-l1", localized(primaries=(primary(summary=U, idrfs=every_idrf()),)), (L1,),
        step="all 20 IDRFs reported absent"),
    row("all-twenty-absent-but-call-present-conflict", localized(primaries=(primary(summary=P, idrfs=every_idrf()),)),
        (L1, L2), F.IDRF, warnings=("conflict-idrf-summary",)),
    row("itemised-present-beats-overall-none", localized(primaries=(primary(summary=A, idrfs=(IDRF_15_CONTACT,)),)),
        (L2,), warnings=("conflict-idrf-summary",)),
    row("itemised-not-assessed-with-overall-none", localized(primaries=(primary(
        summary=A, idrfs=(IdrfFinding(IdrfCode.ABDOMEN_ILIAC_VESSELS, U),)),)), (L1, L2), F.IDRF),
    row("call-contradicts-relation-undecided", localized(primaries=(primary(summary=U, idrfs=(AORTA_CONFLICT,)),)),
        (L1, L2), F.IDRF, warnings=("conflict-idrf-call",)),
    row("intraspinal-extension-below-criteria-is-l1", localized(primaries=(primary(
        summary=U, idrfs=every_idrf(INTRASPINAL=SPINAL_BELOW)),)), (L1,)),
    row("no-idrf-information-undecided", localized(primaries=(primary(summary=U),)), (L1, L2), F.IDRF),
]


@pytest.mark.parametrize(("case", "expect"), LOCOREGIONAL_ROWS)
def test_locoregional_extent(case: Case, expect: Expect) -> None:
    check(case, expect)


# --- Extension across compartments (Monclair 2009 Table 1 row 1; Brisse 2011 §1.1) -----------------------

def extending(extension: TumourExtension, *, compartment: Compartment | None = ABDOMEN,
              side: Laterality = LEFT) -> Case:
    return localized(primaries=(primary(compartment, side, extensions=(extension,)),))


EXTENSION_ROWS = [
    row("ipsilateral-contiguous-chest-is-l2-idrf01", extending(TumourExtension(CHEST, LEFT, P)), (L2,),
        step="IDRF-01", decided_by=(F.EXTENSION,)),
    row("midline-primary-contiguous-extension-l2", extending(TumourExtension(CHEST, LEFT, P), side=MIDLINE), (L2,)),
    row("contralateral-chest-is-m", extending(TumourExtension(CHEST, RIGHT, P)), (M,),
        step="opposite side", decided_by=(F.EXTENSION,)),
    row("non-contiguous-lesion-is-m", extending(TumourExtension(CHEST, LEFT, A)), (M,)),
    row("contiguity-unknown-l2-or-m", extending(TumourExtension(CHEST, LEFT, U)), (L2, M), F.EXTENSION),
    row("extension-side-unknown-l2-or-m", extending(TumourExtension(CHEST, Laterality.UNKNOWN, P)), (L2, M),
        F.EXTENSION),
    row("primary-side-unknown-l2-or-m", extending(TumourExtension(CHEST, RIGHT, P), side=Laterality.UNKNOWN),
        (L2, M), F.PRIMARY_TUMOUR),
    row("extension-within-own-compartment-ignored", extending(TumourExtension(ABDOMEN, RIGHT, A)), (L1,)),
    row("primary-compartment-unknown-idrf01-undecided", extending(TumourExtension(CHEST, LEFT, P), compartment=None),
        (L1, L2), F.PRIMARY_TUMOUR),
]


@pytest.mark.parametrize(("case", "expect"), EXTENSION_ROWS)
def test_extension(case: Case, expect: Expect) -> None:
    check(case, expect)


# --- Multifocal primaries: greatest extent (decision 9; Brisse 2011) -------------------------------------

MULTIFOCAL_ROWS = [
    row("l1-plus-l2-is-l2", localized(primaries=(L1_PRIMARY, L2_PRIMARY)), (L2,), warnings=("multifocal",),
        decided_by=(F.MULTIFOCALITY,)),
    row("l1-plus-l1-is-l1", localized(primaries=(L1_PRIMARY, replace(L1_PRIMARY, label="right adrenal"))), (L1,),
        warnings=("multifocal",)),
    row("l1-plus-undecided-is-undecided", localized(primaries=(L1_PRIMARY, UNKNOWN_PRIMARY)), (L1, L2), F.IDRF),
    row("l2-plus-undecided-is-l2", localized(primaries=(L2_PRIMARY, UNKNOWN_PRIMARY)), (L2,)),
    row("multifocal-reported-one-l1-described", localized(multifocal=P), (L1, L2), F.PRIMARY_TUMOUR,
        warnings=("conflict-multifocal",)),
    row("multifocal-reported-one-l2-described", localized(multifocal=P, primaries=(L2_PRIMARY,)), (L2,)),
    row("no-primary-described", Case("empty"), (L1, L2, M, MS), F.PRIMARY_TUMOUR, F.METASTATIC_SURVEY,
        F.BONE_MARROW, F.FUNCTIONAL_IMAGING, F.MIBG_AVIDITY, F.AGE, F.METASTASES),
    row("no-primary-described-but-bone-metastases-m", Case("m", age_days=900, metastases=(
        MetastasisFinding(MetastaticSite.BONE, P),)), (M,)),
]


@pytest.mark.parametrize(("case", "expect"), MULTIFOCAL_ROWS)
def test_multifocal(case: Case, expect: Expect) -> None:
    check(case, expect)


# --- Distant disease: sites, nodes, effusions, the work-up (Brisse 2011; decision 8) ----------------------

def nodes(region: NodalRegion, status: Presence = P) -> tuple[NodalFinding, ...]:
    return (NodalFinding(region, status),)


PELVIC_PRIMARY = primary(PELVIS, label="pelvic primary")
NECK_PRIMARY = primary(NECK, label="cervical primary")
CHEST_PRIMARY = primary(CHEST, label="posterior mediastinal primary")
ABDOMINAL_INTO_CHEST = primary(extensions=(TumourExtension(CHEST, LEFT, P),))
EQUIVOCAL_BONE = MetastasisFinding(MetastaticSite.BONE, P, equivocal=True, source="ImagingStudy/mibg")
EQUIVOCAL_LIVER = MetastasisFinding(MetastaticSite.LIVER, U, equivocal=True)

DISTANT_ROWS = [
    row("single-equivocal-bone-focus-needs-confirmation", localized(metastases=(EQUIVOCAL_BONE,)), (L1, M),
        F.EQUIVOCAL_FOCUS, warnings=("equivocal-focus",), step="needs confirmation by other imaging or biopsy"),
    row("single-equivocal-liver-focus-infant", ms_infant(metastases=(EQUIVOCAL_LIVER,), metastatic_survey=A),
        (L1, MS), F.EQUIVOCAL_FOCUS, warnings=("equivocal-focus",)),
    row("equivocal-mibg-scan-alone", localized(functional_imaging=(
        FunctionalImaging(ImagingModality.MIBG, bone=P, bone_marrow=A, equivocal=True),)), (L1, M),
        F.EQUIVOCAL_FOCUS, warnings=("equivocal-focus",)),
    row("one-unequivocal-bone-site-is-m", localized(metastases=(MetastasisFinding(MetastaticSite.BONE, P),)),
        (M,), decided_by=(F.METASTASES,)),
    row("axillary-nodes-are-distant", localized(lymph_nodes=nodes(NodalRegion.AXILLARY)), (M,),
        decided_by=(F.LYMPH_NODES,)),
    row("mediastinal-nodes-abdominal-primary-distant", localized(lymph_nodes=nodes(NodalRegion.MEDIASTINAL)), (M,)),
    row("lower-mediastinal-nodes-abdominal-primary-regional", localized(
        lymph_nodes=nodes(NodalRegion.LOWER_MEDIASTINAL)), (L1,)),
    row("lower-mediastinal-nodes-pelvic-primary-distant", localized(
        primaries=(PELVIC_PRIMARY,), lymph_nodes=nodes(NodalRegion.LOWER_MEDIASTINAL)), (M,)),
    row("inguinal-nodes-pelvic-primary-regional", localized(
        primaries=(PELVIC_PRIMARY,), lymph_nodes=nodes(NodalRegion.INGUINAL)), (L1,)),
    row("inguinal-nodes-abdominal-primary-distant", localized(lymph_nodes=nodes(NodalRegion.INGUINAL)), (M,)),
    row("cervical-nodes-neck-primary-regional", localized(
        primaries=(NECK_PRIMARY,), lymph_nodes=nodes(NodalRegion.CERVICAL)), (L1,)),
    row("mediastinal-nodes-reached-by-ipsilateral-extension-regional", localized(
        primaries=(ABDOMINAL_INTO_CHEST,), lymph_nodes=nodes(NodalRegion.MEDIASTINAL)), (L2,)),
    row("distant-node-status-unknown", localized(lymph_nodes=nodes(NodalRegion.AXILLARY, U)), (L1, M),
        F.LYMPH_NODES),
    row("node-region-unknown-primary-compartment", localized(
        primaries=(primary(None),), lymph_nodes=nodes(NodalRegion.ABDOMINAL)), (L1, M), F.PRIMARY_TUMOUR),
    row("uninvolved-distant-nodes", localized(lymph_nodes=nodes(NodalRegion.AXILLARY, A)), (L1,)),
    row("remote-malignant-pleural-effusion-is-m", localized(
        effusions=(Effusion(EffusionKind.PLEURAL, P),)), (M,), warnings=("effusion-recorded",),
        decided_by=(F.EFFUSIONS,)),
    row("remote-pleural-effusion-cytology-unknown", localized(
        effusions=(Effusion(EffusionKind.PLEURAL, U),)), (L1, M), F.EFFUSIONS),
    row("remote-pleural-effusion-benign-recorded", localized(
        effusions=(Effusion(EffusionKind.PLEURAL, A),)), (L1,), warnings=("effusion-recorded",)),
    row("local-malignant-ascites-recorded-only", localized(
        effusions=(Effusion(EffusionKind.ASCITES, P),)), (L1,), warnings=("effusion-recorded",),
        step="ascites in the primary's compartment"),
    row("pelvic-primary-ascites-local", localized(
        primaries=(PELVIC_PRIMARY,), effusions=(Effusion(EffusionKind.ASCITES, P),)), (L1,)),
    row("chest-primary-pleural-effusion-local", localized(
        primaries=(CHEST_PRIMARY,), effusions=(Effusion(EffusionKind.PLEURAL, P),)), (L1,)),
    row("chest-primary-malignant-ascites-remote", localized(
        primaries=(CHEST_PRIMARY,), effusions=(Effusion(EffusionKind.ASCITES, P),)), (M,)),
    row("pleural-effusion-with-extension-into-chest-local", localized(
        primaries=(ABDOMINAL_INTO_CHEST,), effusions=(Effusion(EffusionKind.PLEURAL, P),)), (L2,)),
    row("work-up-reports-metastases-sites-unlisted-toddler", localized(age_days=900, metastatic_survey=P), (M,),
        decided_by=(F.METASTATIC_SURVEY, F.AGE)),
    row("work-up-reports-metastases-sites-unlisted-infant", localized(metastatic_survey=P, bone_marrow=MARROW_CLEAR,
        functional_imaging=(MIBG_CLEAR,), primary_mibg_avid=P), (M, MS), F.METASTASES),
    row("no-survey-mibg-and-marrow-clear-is-l1", localized(metastatic_survey=U, functional_imaging=(MIBG_CLEAR,),
        primary_mibg_avid=P, bone_marrow=MARROW_CLEAR), (L1,),
        decided_by=(F.FUNCTIONAL_IMAGING, F.BONE_MARROW, F.MIBG_AVIDITY)),
    row("no-survey-mibg-clear-marrow-not-assessed", localized(metastatic_survey=U, functional_imaging=(MIBG_CLEAR,),
        primary_mibg_avid=P), (L1, M, MS), F.METASTATIC_SURVEY, F.BONE_MARROW, F.METASTASES),
    row("no-work-up-at-all-toddler", localized(metastatic_survey=U, age_days=1000), (L1, M),
        F.METASTATIC_SURVEY, F.BONE_MARROW, F.FUNCTIONAL_IMAGING, F.MIBG_AVIDITY),
    row("negative-survey-but-liver-metastasis-conflict", ms_infant(metastatic_survey=A), (MS,),
        warnings=("conflict-metastatic-survey",)),
    row("marrow-percentage-implies-involvement", localized(age_days=900, bone_marrow=MarrowAssessment(
        U, 5.0, MarrowMethod.MORPHOLOGY)), (M,), decided_by=(F.BONE_MARROW,)),
    row("marrow-zero-percent-without-call-decides-nothing", localized(metastatic_survey=U, age_days=900,
        functional_imaging=(MIBG_CLEAR,), primary_mibg_avid=P, bone_marrow=MarrowAssessment(U, 0.0)),
        (L1, M), F.METASTATIC_SURVEY, F.BONE_MARROW),
]


@pytest.mark.parametrize(("case", "expect"), DISTANT_ROWS)
def test_distant_disease(case: Case, expect: Expect) -> None:
    check(case, expect)


# --- MS versus M (Monclair 2009 Table 2; Brisse 2011; decision 8) ----------------------------------------

def dated(birth: str, diagnosis: str) -> dict[str, object]:
    return {"age_days": None, "birth_date": PartialDate.parse(birth), "diagnosis_date": PartialDate.parse(diagnosis)}


def marrow(percent: float | None, method: MarrowMethod = MarrowMethod.MORPHOLOGY) -> MarrowAssessment:
    return MarrowAssessment(P, percent, method, "Observation/marrow")


NON_AVID = {"primary_mibg_avid": A}
MIBG_BONE_POSITIVE = FunctionalImaging(ImagingModality.MIBG, bone=P, bone_marrow=A)
MIBG_MARROW_POSITIVE = FunctionalImaging(ImagingModality.MIBG, bone=A, bone_marrow=P)
MDP_BONE_POSITIVE = FunctionalImaging(ImagingModality.MDP_BONE_SCAN, bone=P, bone_marrow=A)

MS_ROWS = [
    row("ms-liver-infant", MS_INFANT, (MS,), step="modality used: MIBG",
        decided_by=(F.AGE, F.METASTASES, F.BONE_MARROW, F.FUNCTIONAL_IMAGING)),
    row("ms-liver-and-skin", ms_infant(metastases=(LIVER, SKIN)), (MS,)),
    row("ms-skin-only", ms_infant(metastases=(SKIN,)), (MS,)),
    row("age-546-days-ms", ms_infant(age_days=546), (MS,)),
    row("age-547-days-m", ms_infant(age_days=547), (M,), decided_by=(F.AGE,)),
    row("age-unknown-m-or-ms", ms_infant(age_days=None), (M, MS), F.AGE),
    row("exact-dates-546-days-ms", ms_infant(**dated("2020-01-01", "2021-06-30")), (MS,)),
    row("exact-dates-547-days-m", ms_infant(**dated("2020-01-01", "2021-07-01")), (M,)),
    row("month-precision-straddles-547", ms_infant(**dated("2020-01", "2021-07")), (M, MS), F.AGE,
        step="straddles 547 days"),
    row("month-precision-below-547", ms_infant(**dated("2020-01", "2021-05")), (MS,)),
    row("month-precision-above-547", ms_infant(**dated("2020-01", "2021-09")), (M,)),
    row("marrow-9-percent-ms", ms_infant(bone_marrow=marrow(9.0)), (MS,)),
    row("marrow-9.99-percent-ms", ms_infant(bone_marrow=marrow(9.99)), (MS,)),
    row("marrow-10-percent-m", ms_infant(bone_marrow=marrow(10.0)), (M,), decided_by=(F.BONE_MARROW,)),
    row("marrow-involved-percent-unknown", ms_infant(bone_marrow=marrow(None)), (M, MS), F.BONE_MARROW),
    row("marrow-not-assessed", ms_infant(bone_marrow=MarrowAssessment()), (M, MS), F.BONE_MARROW),
    row("marrow-by-rt-pcr-only-warns", ms_infant(bone_marrow=marrow(0.0, MarrowMethod.RT_PCR)), (MS,),
        warnings=("marrow-non-morphological",)),
    row("mibg-positive-bone-is-m", ms_infant(functional_imaging=(MIBG_BONE_POSITIVE,)), (M,)),
    row("mibg-positive-marrow-is-m", ms_infant(functional_imaging=(MIBG_MARROW_POSITIVE,)), (M,)),
    row("lung-metastasis-is-m", ms_infant(metastases=(LIVER, MetastasisFinding(MetastaticSite.LUNG, P))), (M,)),
    row("distant-node-in-infant-is-m", ms_infant(lymph_nodes=nodes(NodalRegion.AXILLARY)), (M,)),
    row("possible-cns-metastasis-m-or-ms", ms_infant(metastases=(LIVER, MetastasisFinding(MetastaticSite.CNS, U))),
        (M, MS), F.METASTASES),
    row("non-avid-mdp-negative-ms", ms_infant(functional_imaging=(MDP_CLEAR,), **NON_AVID), (MS,),
        step="MDP bone scan or FDG-PET"),
    row("non-avid-fdg-pet-negative-ms", ms_infant(functional_imaging=(PET_CLEAR,), **NON_AVID), (MS,)),
    row("non-avid-only-mibg-negative", ms_infant(functional_imaging=(MIBG_CLEAR,), **NON_AVID), (M, MS),
        F.FUNCTIONAL_IMAGING),
    row("avidity-unknown-mibg-and-mdp-negative-ms", ms_infant(
        functional_imaging=(MIBG_CLEAR, MDP_CLEAR), primary_mibg_avid=U), (MS,)),
    row("avidity-unknown-only-mibg-negative", ms_infant(functional_imaging=(MIBG_CLEAR,), primary_mibg_avid=U),
        (M, MS), F.MIBG_AVIDITY, F.FUNCTIONAL_IMAGING),
    row("avidity-unknown-mdp-positive-is-m", ms_infant(
        functional_imaging=(MIBG_CLEAR, MDP_BONE_POSITIVE), primary_mibg_avid=U), (M,),
        warnings=("conflict-functional-imaging",)),
    row("no-functional-imaging", ms_infant(functional_imaging=()), (M, MS), F.FUNCTIONAL_IMAGING),
    row("equivocal-mibg-cannot-clear", ms_infant(functional_imaging=(replace(MIBG_CLEAR, equivocal=True),)),
        (M, MS), F.FUNCTIONAL_IMAGING),
    row("ms-primary-may-be-l2", ms_infant(primaries=(L2_PRIMARY,)), (MS,)),
    row("toddler-failing-age-lists-nothing-else", ms_infant(age_days=800, bone_marrow=MarrowAssessment(),
                                                            functional_imaging=()), (M,)),
    row("bone-metastasis-with-age-unknown-is-m", ms_infant(age_days=None, metastases=(
        MetastasisFinding(MetastaticSite.BONE, P),)), (M,)),
    row("metastatic-with-idrf-undecided-still-ms", ms_infant(primaries=(primary(summary=U),)), (MS,)),
]


@pytest.mark.parametrize(("case", "expect"), MS_ROWS)
def test_ms_versus_m(case: Case, expect: Expect) -> None:
    check(case, expect)


# --- The trace -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("case", "rule", "cited"),
    [
        pytest.param(LOCALIZED, "INRGSS-L1", "stage L1", id="l1"),
        pytest.param(localized(primaries=(L2_PRIMARY,)), "INRGSS-L2", "stage L2", id="l2"),
        pytest.param(ms_infant(age_days=900), "INRGSS-M", "stage M", id="m"),
        pytest.param(MS_INFANT, "INRGSS-MS", "stage MS", id="ms"),
        pytest.param(ms_infant(age_days=None), "INRGSS-INDETERMINATE", "stage MS", id="indeterminate"),
    ],
)
def test_rule_and_citation(case: Case, rule: str, cited: str) -> None:
    trace = assign_stage(case).trace
    assert trace.rule == rule
    assert "Monclair 2009" in trace.citation
    assert "Table 2" in trace.citation
    assert cited in trace.citation


def test_result_carries_the_ruleset_version() -> None:
    assert assign_stage(LOCALIZED).ruleset == RULESET_VERSION


def test_determinate_results_list_nothing_missing() -> None:
    for case in (LOCALIZED, MS_INFANT, ms_infant(age_days=900)):
        assert assign_stage(case).trace.missing == ()


def test_missing_inputs_are_one_per_fact_with_reasons() -> None:
    missing = assign_stage(Case("empty")).trace.missing
    facts = [m.fact for m in missing]
    assert len(facts) == len(set(facts))
    assert all(m.why for m in missing)


def test_steps_name_the_sources() -> None:
    steps = assign_stage(MS_INFANT).trace.steps
    assert any("[Observation/liver]" in s for s in steps)
    assert any("[DiagnosticReport/mibg]" in s for s in steps)
