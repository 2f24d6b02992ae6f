"""Every form the reader accepts, as tables: value forms, statuses, effective times and conflicts, ages
from Condition.onset[x], secondary-neoplasm Conditions, subject filtering and unrecognised codes.

docs/implementation-guide.md describes the same forms for integrators; each row here is one of them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation

from fhir_mappings.reading.case_reader import CaseReading, read_case
from fhir_mappings.reading.values import codings
from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology import result_value_sets as rvs
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology import value_sets_pathology as vp
from fhir_mappings.terminology import value_sets_workup as vw
from fhir_mappings.terminology.local_biology import MYCN_STATUS, SEGMENTAL_ABERRATION, SYMPTOMS
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.local_procedures import RESECTION_ORDER_CODINGS
from fhir_mappings.terminology.local_staging import FUNCTIONAL_IMAGING, IDRF, MARROW, METASTATIC_SITE
from fhir_mappings.terminology.model import Code
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.biology import (
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MycnStatus,
    PloidyCategory,
    ResectionExtent,
)
from neuroblastoma.case import EffusionKind, FactKey, ImagingModality, MarrowMethod, MetastaticSite
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode, StructureKind, StructureRelation

P = "p1"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
OBS = OBSERVATION_CODES.code


def cc(*codes: Code | tuple[str, str]) -> dict[str, Any]:
    return {"coding": [c.coding() if isinstance(c, Code) else {"system": c[0], "code": c[1]} for c in codes]}


def patient(**elements: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": P, "birthDate": "2024-01-01", **elements}


def condition(**elements: Any) -> dict[str, Any]:
    base = {"resourceType": "Condition", "id": "nb", "code": cc(std.SCT_NEUROBLASTOMA),
            "subject": {"reference": f"Patient/{P}"}, "onsetDateTime": "2025-06-01"}
    return {**base, **elements}


_counter = iter(range(10**6))


def obs(code: Code, **elements: Any) -> dict[str, Any]:
    base = {"resourceType": "Observation", "id": f"o{next(_counter)}", "status": "final", "code": cc(code),
            "subject": {"reference": f"Patient/{P}"}, "effectiveDateTime": "2025-06-01"}
    return {**base, **elements}


def read(*resources: dict[str, Any], with_condition: bool = True) -> CaseReading:
    items = [patient(), *([condition()] if with_condition else []), *resources]
    return read_case([{"resourceType": "Bundle", "type": "collection",
                       "entry": [{"resource": r} for r in items]}], P)


def ref(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


# ---- present / absent / unknown --------------------------------------------------------------------

PRESENCE_FORMS = [
    ("SNOMED present", {"valueCodeableConcept": cc(std.SCT_PRESENT)}, Presence.PRESENT),
    ("SNOMED absent", {"valueCodeableConcept": cc(std.SCT_ABSENT)}, Presence.ABSENT),
    ("SNOMED unknown", {"valueCodeableConcept": cc(std.SCT_UNKNOWN)}, Presence.UNKNOWN),
    ("SNOMED detected", {"valueCodeableConcept": cc(std.SCT_DETECTED)}, Presence.PRESENT),
    ("SNOMED not detected", {"valueCodeableConcept": cc(std.SCT_NOT_DETECTED)}, Presence.ABSENT),
    ("SNOMED positive", {"valueCodeableConcept": cc(std.SCT_POSITIVE)}, Presence.PRESENT),
    ("SNOMED negative", {"valueCodeableConcept": cc(std.SCT_NEGATIVE)}, Presence.ABSENT),
    ("LOINC LA9633-4 present", {"valueCodeableConcept": cc(std.LOINC_ANSWER_PRESENT)}, Presence.PRESENT),
    ("LOINC LA9634-2 absent", {"valueCodeableConcept": cc(std.LOINC_ANSWER_ABSENT)}, Presence.ABSENT),
    ("unknown coding first, known second",
     {"valueCodeableConcept": cc(("http://lab.example/codes", "DEL"), std.SCT_PRESENT)}, Presence.PRESENT),
    ("valueBoolean true", {"valueBoolean": True}, Presence.PRESENT),
    ("valueBoolean false", {"valueBoolean": False}, Presence.ABSENT),
    ("interpretation POS", {"interpretation": [cc((V3, "POS"))]}, Presence.PRESENT),
    ("interpretation DET", {"interpretation": [cc((V3, "DET"))]}, Presence.PRESENT),
    ("interpretation NEG", {"interpretation": [cc((V3, "NEG"))]}, Presence.ABSENT),
    ("interpretation ND", {"interpretation": [cc((V3, "ND"))]}, Presence.ABSENT),
    ("interpretation IND", {"interpretation": [cc((V3, "IND"))]}, Presence.UNKNOWN),
    ("dataAbsentReason unknown", {"dataAbsentReason": cc(std.DAR_UNKNOWN)}, Presence.UNKNOWN),
    ("dataAbsentReason not-asked", {"dataAbsentReason": cc(std.DAR_NOT_ASKED)}, Presence.UNKNOWN),
    ("dataAbsentReason asked-unknown", {"dataAbsentReason": cc(std.DAR_ASKED_UNKNOWN)}, Presence.UNKNOWN),
]


@pytest.mark.parametrize(("form", "value", "expected"), PRESENCE_FORMS, ids=[f[0] for f in PRESENCE_FORMS])
def test_presence_value_forms(form: str, value: dict[str, Any], expected: Presence) -> None:
    resource = obs(OBS("11q-aberration"), **value)
    reading = read(resource)
    assert reading.case.chr11q_aberration is expected
    assert ref(resource) not in reading.report.unrecognised


UNREADABLE_FORMS = [
    ("valueString only", {"valueString": "11q deletion detected"}),
    ("unknown value code", {"valueCodeableConcept": cc(("http://lab.example/codes", "DEL"))}),
    ("text only", {"valueCodeableConcept": {"text": "deleted"}}),
    ("no value at all", {}),
]


@pytest.mark.parametrize(("form", "value"), UNREADABLE_FORMS, ids=[f[0] for f in UNREADABLE_FORMS])
def test_unreadable_values_are_unrecognised_never_guessed(form: str, value: dict[str, Any]) -> None:
    resource = obs(OBS("11q-aberration"), **value)
    reading = read(resource)
    assert reading.case.chr11q_aberration is Presence.UNKNOWN
    assert reading.report.unrecognised == (ref(resource),)


# ---- coded values ----------------------------------------------------------------------------------

MYCN_FORMS = [
    ("LOINC 93796-1 + LA9633-4", std.LOINC_MYCN_AMPLIFICATION_FISH, {"valueCodeableConcept": cc(std.LOINC_ANSWER_PRESENT)},
     MycnStatus.AMPLIFIED),
    ("LOINC 93796-1 + LA9634-2", std.LOINC_MYCN_AMPLIFICATION_FISH, {"valueCodeableConcept": cc(std.LOINC_ANSWER_ABSENT)},
     MycnStatus.NOT_AMPLIFIED),
    ("LOINC 93796-1 + SNOMED detected", std.LOINC_MYCN_AMPLIFICATION_FISH,
     {"valueCodeableConcept": cc(std.SCT_DETECTED)}, MycnStatus.AMPLIFIED),
    ("LOINC 93796-1 + valueBoolean", std.LOINC_MYCN_AMPLIFICATION_FISH, {"valueBoolean": False},
     MycnStatus.NOT_AMPLIFIED),
    ("LOINC 93796-1 + interpretation POS", std.LOINC_MYCN_AMPLIFICATION_FISH, {"interpretation": [cc((V3, "POS"))]},
     MycnStatus.AMPLIFIED),
    ("LOINC 93796-1 + NCIt C36673", std.LOINC_MYCN_AMPLIFICATION_FISH,
     {"valueCodeableConcept": cc(std.NCIT_MYCN_AMPLIFICATION)}, MycnStatus.AMPLIFIED),
    ("ours amplified", OBS("mycn-status"), {"valueCodeableConcept": cc(MYCN_STATUS.code("amplified"))},
     MycnStatus.AMPLIFIED),
    ("ours gain", OBS("mycn-status"), {"valueCodeableConcept": cc(MYCN_STATUS.code("gain"))}, MycnStatus.GAIN),
    ("ours not amplified", OBS("mycn-status"), {"valueCodeableConcept": cc(MYCN_STATUS.code("not-amplified"))},
     MycnStatus.NOT_AMPLIFIED),
    ("dataAbsentReason", OBS("mycn-status"), {"dataAbsentReason": cc(std.DAR_TEMP_UNKNOWN)}, MycnStatus.UNKNOWN),
]


@pytest.mark.parametrize(("form", "code", "value", "expected"), MYCN_FORMS, ids=[f[0] for f in MYCN_FORMS])
def test_mycn_forms(form: str, code: Code, value: dict[str, Any], expected: MycnStatus) -> None:
    assert read(obs(code, **value)).case.mycn is expected


def test_mycn_copy_numbers_are_recorded_never_used() -> None:
    copies = obs(std.LOINC_MYCN_CHR2_RATIO_FISH, valueQuantity={"value": 12.5, "system": "http://unitsofmeasure.org",
                                                                 "code": "1"})
    reading = read(copies)
    assert reading.case.mycn is MycnStatus.UNKNOWN
    assert reading.report.recorded_only == (ref(copies),)
    assert any("MYCN call is missing" in note for note in reading.report.notes)


CODED_FORMS = [
    ("histology", OBS("histologic-category"), cc(vs.HISTOLOGY_CODING[HistologicCategory.NEUROBLASTOMA]),
     "histology", HistologicCategory.NEUROBLASTOMA),
    ("histology ICD-O-3", OBS("histologic-category"), cc(std.ICDO3_NEUROBLASTOMA), "histology",
     HistologicCategory.NEUROBLASTOMA),
    ("grade", OBS("differentiation-grade"), cc(vs.GRADE_CODING[DifferentiationGrade.DIFFERENTIATING]), "grade",
     DifferentiationGrade.DIFFERENTIATING),
    ("inpc", OBS("inpc-class"), cc(vs.INPC_CODING[InpcClass.UNFAVOURABLE]), "inpc", InpcClass.UNFAVOURABLE),
    ("resection", OBS("resection-extent"), cc(vs.RESECTION_CODING[ResectionExtent.COMPLETE]), "resection",
     ResectionExtent.COMPLETE),
]


@pytest.mark.parametrize(("form", "code", "value", "field", "expected"), CODED_FORMS, ids=[f[0] for f in CODED_FORMS])
def test_coded_values(form: str, code: Code, value: dict[str, Any], field: str, expected: Any) -> None:
    assert getattr(read(obs(code, valueCodeableConcept=value)).case, field) is expected


def test_symptom_code_as_value_means_symptomatic() -> None:
    symptom = SYMPTOMS.code("respiratory-distress")
    assert read(obs(OBS("ms-symptoms"), valueCodeableConcept=cc(symptom))).case.ms_symptoms is Presence.PRESENT
    assert read(obs(OBS("ms-symptoms"), valueBoolean=False)).case.ms_symptoms is Presence.ABSENT


def test_other_segmental_aberrations_and_ploidy() -> None:
    reading = read(
        obs(OBS("other-sca"), valueCodeableConcept=cc(SEGMENTAL_ABERRATION.code("17q-gain"))),
        obs(OBS("ploidy-category"), valueCodeableConcept=cc(vs.PLOIDY_CODING[PloidyCategory.DIPLOID])),
    )
    assert reading.case.other_scas == ("17q gain",)
    assert reading.case.ploidy.category is PloidyCategory.DIPLOID


# ---- quantities ------------------------------------------------------------------------------------

def _quantity(value: float, code: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": code}}


@pytest.mark.parametrize(("value", "read_as"), [(1.35, 1.35), (1, 1.0), (0.0, None), (12, None)])
def test_dna_index_quantity(value: float, read_as: float | None) -> None:
    resource = obs(OBS("dna-index"), **_quantity(value, "1"))
    reading = read(resource)
    assert reading.case.ploidy.dna_index == read_as
    assert (ref(resource) in reading.report.unrecognised) == (read_as is None)


@pytest.mark.parametrize(("value", "read_as"), [(5, 5.0), (0, 0.0), (9.99, 9.99), (100, 100.0), (120, None), (-1, None)])
def test_marrow_percentage_quantity(value: float, read_as: float | None) -> None:
    reading = read(obs(MARROW.code("tumour-cell-percent"), **_quantity(value, "%")))
    assert reading.case.bone_marrow.tumour_cell_percent == read_as


def test_marrow_percentage_alone_leaves_the_involvement_call_to_the_rules() -> None:
    # 0 % without a call decides nothing (product decision 11, marrow_imaging.marrow_involvement)
    zero = read(obs(MARROW.code("tumour-cell-percent"), **_quantity(0, "%")))
    assert zero.case.bone_marrow.involvement is Presence.UNKNOWN
    method = cc(vs.MARROW_METHOD_CODING[MarrowMethod.MORPHOLOGY])
    both = read(obs(MARROW.code("involvement"), valueCodeableConcept=cc(std.SCT_PRESENT), method=method),
                obs(MARROW.code("tumour-cell-percent"), **_quantity(5, "%")))
    assert both.case.bone_marrow.involvement is Presence.PRESENT
    assert both.case.bone_marrow.tumour_cell_percent == 5.0
    assert both.case.bone_marrow.method is MarrowMethod.MORPHOLOGY


# ---- components and body sites ---------------------------------------------------------------------

def _component(code: Code, **value: Any) -> dict[str, Any]:
    return {"code": cc(code), **value}


def test_idrf_with_structure_and_relation_components() -> None:
    idrf = obs(IDRF.code("IDRF-15"), component=[
        _component(OBS("idrf-structure-kind"), valueCodeableConcept=cc(vs.STRUCTURE_KIND_CODING[StructureKind.RENAL_VESSEL])),
        _component(OBS("idrf-structure-relation"),
                   valueCodeableConcept=cc(vs.STRUCTURE_RELATION_CODING[StructureRelation.CONTACT])),
    ])
    (finding,) = read(idrf).case.primaries[0].idrfs
    assert (finding.code, finding.status) == (IdrfCode.ABDOMEN_RENAL_PEDICLE, Presence.UNKNOWN)
    assert (finding.structure, finding.relation) == (StructureKind.RENAL_VESSEL, StructureRelation.CONTACT)
    assert finding.source == ref(idrf)


def test_idrf_19_spinal_canal_components() -> None:
    idrf = obs(IDRF.code("IDRF-19"), valueCodeableConcept=cc(std.SCT_PRESENT), component=[
        _component(OBS("idrf-spinal-canal-fraction"), valueQuantity={"value": 0.5, "code": "1",
                                                                      "system": "http://unitsofmeasure.org"}),
        _component(OBS("idrf-cord-signal-abnormal"), valueBoolean=False),
        _component(OBS("idrf-leptomeningeal-spaces-obliterated"), dataAbsentReason=cc(std.DAR_UNKNOWN)),
    ])
    (finding,) = read(idrf).case.primaries[0].idrfs
    assert finding.status is Presence.PRESENT
    spinal = finding.spinal_canal
    assert spinal is not None
    assert (spinal.axial_canal_fraction, spinal.cord_signal_abnormal) == (0.5, Presence.ABSENT)
    assert spinal.leptomeningeal_spaces_obliterated is Presence.UNKNOWN
    assert spinal.canal_over_one_third is Presence.UNKNOWN


def test_primary_site_extension_and_laterality_forms() -> None:
    site = obs(OBS("primary-tumour-site"), valueCodeableConcept=cc(vs.COMPARTMENT_CODING[Compartment.ABDOMEN]),
               component=[_component(OBS("laterality"), valueCodeableConcept=cc(std.SCT_LEFT))])
    extension = obs(OBS("tumour-extension"), valueCodeableConcept=cc(std.SCT_PRESENT), component=[
        _component(OBS("compartment"), valueCodeableConcept=cc(vs.COMPARTMENT_CODING[Compartment.CHEST])),
        _component(OBS("laterality"), valueCodeableConcept=cc(vs.LATERALITY_CODING[Laterality.RIGHT])),
        _component(OBS("contiguous"), valueCodeableConcept=cc(std.SCT_ABSENT)),
    ])
    no_extension = obs(OBS("tumour-extension"), valueCodeableConcept=cc(std.SCT_ABSENT),
                       bodySite=cc(vs.COMPARTMENT_CODING[Compartment.PELVIS]))
    (primary,) = read(site, extension, no_extension).case.primaries
    assert (primary.compartment, primary.side) == (Compartment.ABDOMEN, Laterality.LEFT)
    (ext,) = primary.extensions
    assert (ext.compartment, ext.side, ext.contiguous) == (Compartment.CHEST, Laterality.RIGHT, Presence.ABSENT)


def test_primary_site_from_the_condition_body_site() -> None:
    reading = read_case([patient(), condition(bodySite=[cc(std.SCT_ADRENAL_STRUCTURE, std.SCT_RIGHT)])], P)
    (primary,) = reading.case.primaries
    assert (primary.compartment, primary.side) == (Compartment.ABDOMEN, Laterality.RIGHT)


def test_nodes_by_body_site_or_component_and_without_region() -> None:
    by_site = obs(OBS("nodal-involvement"), valueBoolean=True, bodySite=cc(std.SCT_CERVICAL_LYMPH_NODE))
    by_component = obs(OBS("nodal-involvement"), valueBoolean=True, component=[
        _component(OBS("nodal-region"), valueCodeableConcept=cc(vs.NODAL_REGION_CODING[NodalRegion.INGUINAL]))])
    no_region = obs(OBS("nodal-involvement"), valueBoolean=True, bodySite=cc(std.SCT_LYMPH_NODE_STRUCTURE))
    case = read(by_site, by_component, no_region).case
    assert {(n.region, n.status) for n in case.lymph_nodes} == {
        (NodalRegion.CERVICAL, Presence.PRESENT), (NodalRegion.INGUINAL, Presence.PRESENT)}
    # a node without a region: regional or distant cannot be told
    assert [(m.site, m.status) for m in case.metastases] == [(MetastaticSite.DISTANT_LYMPH_NODE, Presence.UNKNOWN)]


def test_effusion_with_malignant_cells_component() -> None:
    effusion = obs(IDRF.code("REC-PLEURAL-EFFUSION"), valueBoolean=True,
                   component=[_component(OBS("effusion-malignant-cells"), valueBoolean=True)])
    absent = obs(IDRF.code("REC-ASCITES"), valueBoolean=False)
    (found,) = read(effusion, absent).case.effusions
    assert (found.kind, found.malignant_cells) == (EffusionKind.PLEURAL, Presence.PRESENT)


@pytest.mark.parametrize(("site_element", "expected"), [
    ({"bodySite": cc(std.SCT_LIVER_STRUCTURE)}, MetastaticSite.LIVER),
    ({"bodySite": cc(METASTATIC_SITE.code("skin"))}, MetastaticSite.SKIN),
    ({"component": [_component(OBS("metastatic-site-code"), valueCodeableConcept=cc(std.SCT_BONE_MARROW_STRUCTURE))]},
     MetastaticSite.BONE_MARROW),
])
def test_metastatic_site_forms(site_element: dict[str, Any], expected: MetastaticSite) -> None:
    (finding,) = read(obs(OBS("metastatic-site"), valueBoolean=True, **site_element)).case.metastases
    assert (finding.site, finding.status, finding.equivocal) == (expected, Presence.PRESENT, False)


def test_equivocal_focus_keeps_the_reported_value_beside_the_flag() -> None:
    equivocal = [cc(FUNCTIONAL_IMAGING.code("equivocal-focus"))]
    site = obs(OBS("metastatic-site"), bodySite=cc(std.SCT_BONE_STRUCTURE), interpretation=equivocal)
    bone = obs(FUNCTIONAL_IMAGING.code("mibg-bone"), valueBoolean=True, interpretation=equivocal)
    marrow = obs(FUNCTIONAL_IMAGING.code("mibg-bone-marrow"), valueBoolean=False)
    case = read(site, bone, marrow).case
    assert [(m.site, m.status, m.equivocal) for m in case.metastases] == [
        (MetastaticSite.BONE, Presence.UNKNOWN, True)]
    (scan,) = case.functional_imaging
    assert (scan.modality, scan.bone, scan.bone_marrow, scan.equivocal) == (
        ImagingModality.MIBG, Presence.PRESENT, Presence.ABSENT, True)


# ---- statuses ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["entered-in-error", "cancelled", "registered"])
def test_ignored_statuses(status: str) -> None:
    resource = obs(OBS("11q-aberration"), status=status, valueBoolean=True)
    reading = read(resource)
    assert reading.case.chr11q_aberration is Presence.UNKNOWN
    assert reading.report.ignored_by_status == (ref(resource),)


@pytest.mark.parametrize(("status", "preliminary"), [
    ("preliminary", True), ("unknown", True), ("final", False), ("amended", False), ("corrected", False)])
def test_used_statuses(status: str, preliminary: bool) -> None:
    resource = obs(OBS("11q-aberration"), status=status, valueBoolean=True)
    reading = read(resource)
    assert reading.case.chr11q_aberration is Presence.PRESENT
    assert reading.report.preliminary == ((ref(resource),) if preliminary else ())


def test_status_outside_the_required_binding_is_invalid() -> None:
    resource = obs(OBS("11q-aberration"), status="done", valueBoolean=True)
    reading = read(resource)
    assert reading.case.chr11q_aberration is Presence.UNKNOWN
    assert [i.reference for i in reading.report.invalid] == [ref(resource)]
    assert "status" in reading.report.invalid[0].reason


def test_invalid_resource_is_reported_and_the_rest_used() -> None:
    bad = obs(OBS("11q-aberration"), valueBoolean=True, effectiveDateTime="2025-02-30T25:00:00Z")
    good = obs(OBS("1p-aberration"), valueBoolean=True)
    reading = read(bad, good)
    assert [i.reference for i in reading.report.invalid] == [ref(bad)]
    assert reading.case.chr1p_aberration is Presence.PRESENT


# ---- effective[x] and conflicts ------------------------------------------------------------------------

def _mycn(value: Code, **timing: Any) -> dict[str, Any]:
    resource = obs(std.LOINC_MYCN_AMPLIFICATION_FISH, valueCodeableConcept=cc(value))
    del resource["effectiveDateTime"]
    return {**resource, **timing}


AMP, NOT_AMP = std.LOINC_ANSWER_PRESENT, std.LOINC_ANSWER_ABSENT
TIMING_FORMS = [
    ("dateTime", {"effectiveDateTime": "2025-05-01"}, {"effectiveDateTime": "2025-06-01"}),
    ("dateTime with time and zone", {"effectiveDateTime": "2025-06-01T10:00:00+02:00"},
     {"effectiveDateTime": "2025-06-01T09:00:00Z"}),
    ("Period start", {"effectivePeriod": {"start": "2025-05-01"}}, {"effectivePeriod": {"start": "2025-06-01"}}),
    ("Period end only", {"effectivePeriod": {"end": "2025-05-01"}}, {"effectivePeriod": {"end": "2025-06-01"}}),
    ("instant", {"effectiveInstant": "2025-05-01T08:00:00Z"}, {"effectiveInstant": "2025-05-01T09:00:00Z"}),
    ("issued fallback", {"issued": "2025-05-01T08:00:00Z"}, {"issued": "2025-06-01T08:00:00Z"}),
    ("no time is the oldest", {}, {"issued": "2020-01-01T00:00:00Z"}),
    ("partial dates", {"effectiveDateTime": "2024"}, {"effectiveDateTime": "2025-01"}),
]


@pytest.mark.parametrize(("form", "older", "newer"), TIMING_FORMS, ids=[f[0] for f in TIMING_FORMS])
def test_most_recent_final_wins_with_a_discordance(form: str, older: dict[str, Any], newer: dict[str, Any]) -> None:
    old, new = _mycn(AMP, **older), _mycn(NOT_AMP, **newer)
    for order in ((old, new), (new, old)):
        reading = read(*order)
        assert reading.case.mycn is MycnStatus.NOT_AMPLIFIED
        (discordance,) = reading.report.discordances
        assert (discordance.key, discordance.winner, discordance.others) == ("mycn", ref(new), (ref(old),))
        assert reading.case.sources_of(FactKey.MYCN) == (ref(new),)


def test_final_beats_a_newer_preliminary() -> None:
    final = _mycn(NOT_AMP, effectiveDateTime="2025-05-01")
    preliminary = {**_mycn(AMP, effectiveDateTime="2025-06-01"), "status": "preliminary"}
    reading = read(preliminary, final)
    assert reading.case.mycn is MycnStatus.NOT_AMPLIFIED
    assert reading.report.preliminary == ()
    assert reading.report.discordances[0].winner == ref(final)


def test_agreeing_reports_are_no_discordance() -> None:
    reading = read(_mycn(AMP, effectiveDateTime="2025-05-01"),
                   obs(OBS("mycn-status"), valueCodeableConcept=cc(MYCN_STATUS.code("amplified"))))
    assert reading.case.mycn is MycnStatus.AMPLIFIED
    assert reading.report.discordances == ()


def test_the_same_resource_twice_keeps_the_later_version() -> None:
    v1 = {**obs(OBS("11q-aberration"), valueBoolean=True), "id": "same", "meta": {"lastUpdated": "2025-06-01T00:00:00Z"}}
    v2 = {**v1, "valueBoolean": False, "meta": {"lastUpdated": "2025-06-02T00:00:00Z"}}
    for items in ((v1, v2), (v2, v1)):
        assert read(*items).case.chr11q_aberration is Presence.ABSENT


# ---- ages from the Condition ------------------------------------------------------------------------

def _age(value: float, code: str) -> dict[str, Any]:
    return {"value": value, "unit": code, "system": "http://unitsofmeasure.org", "code": code}


AGE_FORMS = [
    ("onsetAge days", {"onsetAge": _age(500, "d")}, (500, 500)),
    ("onsetAge weeks", {"onsetAge": _age(20, "wk")}, (140, 146)),
    ("onsetAge months", {"onsetAge": _age(14, "mo")}, (426, 455)),
    ("onsetAge years", {"onsetAge": _age(1, "a")}, (365, 729)),
    ("onsetRange days", {"onsetRange": {"low": _age(400, "d"), "high": _age(420, "d")}}, (400, 420)),
    ("onsetRange months", {"onsetRange": {"low": _age(12, "mo"), "high": _age(17, "mo")}}, (365, 546)),
]


@pytest.mark.parametrize(("form", "onset", "interval"), AGE_FORMS, ids=[f[0] for f in AGE_FORMS])
def test_condition_onset_age_gives_an_age_interval(form: str, onset: dict[str, Any], interval: tuple[int, int]) -> None:
    cond = {k: v for k, v in condition(**onset).items() if k != "onsetDateTime"}
    case = read_case([patient(), cond], P).case
    assert case.age is not None
    assert (case.age.min_days, case.age.max_days) == interval


@pytest.mark.parametrize("onset", [
    {"onsetAge": {"value": 14, "unit": "months"}},  # no UCUM code
    {"onsetRange": {"low": _age(12, "mo")}},  # open-ended
    {"onsetString": "infancy"},
])
def test_unreadable_onset_leaves_the_age_to_the_dates(onset: dict[str, Any]) -> None:
    cond = {k: v for k, v in condition(**onset).items() if k != "onsetDateTime"}
    assert read_case([patient(), cond], P).case.age is None


@pytest.mark.parametrize(("birth", "diagnosis", "interval"), [
    ("2024-01-01", {"onsetDateTime": "2025-06-01"}, (517, 517)),
    ("2024-01-01", {"onsetDateTime": "2025-06-01T13:45:00+02:00"}, (517, 517)),
    ("2024-01", {"onsetDateTime": "2025-06-01"}, (487, 517)),
    ("2024-01-01", {"onsetPeriod": {"start": "2025-06-01"}}, (517, 517)),
    ("2024-01-01", {"recordedDate": "2025-06-01"}, (517, 517)),
])
def test_age_from_birth_and_diagnosis_dates(birth: str, diagnosis: dict[str, Any], interval: tuple[int, int]) -> None:
    cond = {k: v for k, v in condition().items() if k != "onsetDateTime"} | diagnosis
    case = read_case([patient(birthDate=birth), cond], P).case
    assert case.age is not None
    assert (case.age.min_days, case.age.max_days) == interval


def test_impossible_dates_drop_only_the_dates() -> None:
    reading = read_case([patient(birthDate="2025-07-01"), condition(),
                         obs(OBS("11q-aberration"), valueBoolean=True)], P)
    assert reading.case.age is None
    assert reading.case.chr11q_aberration is Presence.PRESENT
    assert reading.case.primaries, "the other facts are kept"
    assert any("dates cannot be used" in note for note in reading.report.notes)


# ---- secondary-neoplasm Conditions -----------------------------------------------------------------------

def _secondary(code: Code, status: str | None = None, **elements: Any) -> dict[str, Any]:
    resource = {"resourceType": "Condition", "id": f"c{next(_counter)}", "code": cc(code),
                "subject": {"reference": f"Patient/{P}"}, **elements}
    if status:
        resource["verificationStatus"] = cc((VER, status))
    return resource


@pytest.mark.parametrize(("status", "presence", "equivocal"), [
    (None, Presence.PRESENT, False),
    ("confirmed", Presence.PRESENT, False),
    ("provisional", Presence.UNKNOWN, True),
    ("differential", Presence.UNKNOWN, True),
    ("unconfirmed", Presence.UNKNOWN, True),
    ("refuted", Presence.ABSENT, False),
])
def test_secondary_neoplasm_condition_verification(status: str | None, presence: Presence, equivocal: bool) -> None:
    liver = _secondary(std.ICD_C78_7, status)
    (finding,) = read(liver).case.metastases
    assert (finding.site, finding.status, finding.equivocal, finding.source) == (
        MetastaticSite.LIVER, presence, equivocal, ref(liver))


@pytest.mark.parametrize(("code", "body_site", "site"), [
    (std.SCT_SECONDARY_MALIGNANT_NEOPLASM, std.SCT_LIVER_STRUCTURE, MetastaticSite.LIVER),
    (std.SCT_SECONDARY_BONE, None, MetastaticSite.BONE),
    (std.ICD_C79_52, None, MetastaticSite.BONE_MARROW),
    (std.ICD_C79_2, None, MetastaticSite.SKIN),
])
def test_secondary_neoplasm_site_from_code_or_body_site(code: Code, body_site: Code | None, site: MetastaticSite) -> None:
    extra = {"bodySite": [cc(body_site)]} if body_site else {}
    (finding,) = read(_secondary(code, **extra)).case.metastases
    assert finding.site is site


def test_secondary_neoplasm_in_lymph_nodes() -> None:
    case = read(_secondary(std.ICD_C77_2), _secondary(std.ICD_C77_9)).case
    assert [(n.region, n.status) for n in case.lymph_nodes] == [(NodalRegion.ABDOMINAL, Presence.PRESENT)]
    assert [(m.site, m.status) for m in case.metastases] == [(MetastaticSite.DISTANT_LYMPH_NODE, Presence.UNKNOWN)]


def test_secondary_neoplasm_entered_in_error_is_not_used() -> None:
    assert read(_secondary(std.ICD_C78_7, "entered-in-error")).case.metastases == ()


def test_neuroblastoma_condition_refuted_or_in_error_is_ignored() -> None:
    for status in ("refuted", "entered-in-error"):
        cond = condition(verificationStatus=cc((VER, status)))
        reading = read_case([patient(), cond], P)
        assert not reading.has_neuroblastoma
        assert reading.report.ignored_by_status == (ref(cond),)


# ---- subject filtering and unrecognised codes ------------------------------------------------------------

def test_another_patients_observation_is_not_used() -> None:
    theirs = obs(OBS("11q-aberration"), valueBoolean=True, subject={"reference": "Patient/someone-else"})
    reading = read(theirs)
    assert reading.case.chr11q_aberration is Presence.UNKNOWN
    assert reading.report.other_patients == (ref(theirs),)


@pytest.mark.parametrize("subject", [
    f"Patient/{P}", f"https://fhir.hospital.example/r4/Patient/{P}", "urn:uuid:6c8b3f0e-1111-4e8a-9d55-000000000001"])
def test_subject_reference_forms(subject: str) -> None:
    mine = obs(OBS("11q-aberration"), valueBoolean=True, subject={"reference": subject})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"fullUrl": "urn:uuid:6c8b3f0e-1111-4e8a-9d55-000000000001", "resource": patient()},
        {"resource": condition()}, {"resource": mine}]}
    assert read_case([bundle], P).case.chr11q_aberration is Presence.PRESENT


def test_unrecognised_codes_are_counted() -> None:
    height = obs(Code("http://loinc.org", "8302-2", "Body height"), **_quantity(88, "cm"))
    local = obs(Code("https://lab.hospital.example/codes", "NB-11Q", "11q"), valueString="deleted")
    asthma = _secondary(Code("http://hl7.org/fhir/sid/icd-10-cm", "J45.909", "Unspecified asthma"))
    reading = read(height, local, asthma)
    assert set(reading.report.unrecognised) == {ref(height), ref(local), ref(asthma)}
    assert reading.has_neuroblastoma


def test_searchset_outcome_entries_are_not_data() -> None:
    outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "incomplete"}]}
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": patient(), "search": {"mode": "include"}},
        {"resource": condition(), "search": {"mode": "match"}},
        {"resource": outcome, "search": {"mode": "outcome"}}]}
    reading = read_case([bundle], P)
    assert reading.has_neuroblastoma
    assert reading.report.unrecognised == ()


# ---- docs/implementation-guide.md says the same ------------------------------------------------------

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "implementation-guide.md"
ACCEPTED_CODINGS: dict[str, Any] = {
    "Observation.code": OBSERVATION_KIND_BY_CODING,
    "presence": vs.PRESENCE_BY_CODING,
    "compartment": vs.COMPARTMENT_BY_CODING,
    "laterality": vs.LATERALITY_BY_CODING,
    "nodal region": vs.NODAL_REGION_BY_CODING,
    "lymph node": vs.LYMPH_NODE_CODINGS,
    "metastatic site": vs.METASTATIC_SITE_BY_CODING,
    "secondary neoplasm": vs.SECONDARY_NEOPLASM_CODINGS,
    "neuroblastoma condition": vs.NEUROBLASTOMA_CONDITION_CODINGS,
    "morphology": vs.HISTOLOGY_CANDIDATES_BY_CODING,
    "histology": vs.HISTOLOGY_BY_CODING,
    "grade": vs.GRADE_BY_CODING,
    "inpc": vs.INPC_BY_CODING,
    "mki": vp.MKI_BY_CODING,
    "mycn": vs.MYCN_STATUS_BY_CODING,
    "ploidy": vs.PLOIDY_BY_CODING,
    "segmental aberration": vs.SCA_LABEL_BY_CODING,
    "symptoms": vs.SYMPTOM_LABEL_BY_CODING,
    "resection": vs.RESECTION_BY_CODING,
    "structure kind": vs.STRUCTURE_KIND_BY_CODING,
    "structure relation": vs.STRUCTURE_RELATION_BY_CODING,
    "marrow method": vs.MARROW_METHOD_BY_CODING,
    "imaging modality": vs.IMAGING_MODALITY_BY_CODING,
    "equivocal": vs.EQUIVOCAL_CODINGS,
    "component codes": [c.key for c in OBSERVATION_CODES.codes()],
    "stage": rvs.STAGE_BY_CODING,
    "risk levels": rvs.RISK_LEVEL_BY_CODING,
    "INRG groups": rvs.INRG_GROUP_BY_CODING,
    "classifier methods": rvs.CLASSIFIER_METHOD_VS.keys(),
    "resection orders": RESECTION_ORDER_CODINGS,
    "INSS stage": rvs.INSS_STAGE_BY_CODING,
    "ALK": vw.ALK_BY_CODING,
    "tumour size units": vw.SIZE_UNIT_TO_CM,
    "adrenal primary": vw.ADRENAL_CODINGS,
}


@pytest.mark.parametrize("table", sorted(ACCEPTED_CODINGS))
def test_every_accepted_coding_is_in_the_implementation_guide(table: str) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    missing = [key for key in ACCEPTED_CODINGS[table] if f"| `{key[0]}` | `{key[1]}` |" not in guide]
    assert not missing, f"add to docs/implementation-guide.md: {missing}"


def _guide_examples() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)\n```", GUIDE.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


def test_guide_input_examples_are_read_as_described() -> None:
    examples = _guide_examples()
    assert len(examples) > 30
    inputs = [e for e in examples if e.get("status") != "preliminary"]
    for example in inputs:
        resource = {**example, "subject": {"reference": f"Patient/{P}"}} if "subject" in example else example
        if resource["resourceType"] == "Patient":
            reading = read_case([{**resource, "id": P}, condition()], P)
            assert reading.case.birth_date is not None
            continue
        if resource["resourceType"] == "Condition" and vs.NEUROBLASTOMA_CONDITION_CODINGS & set(codings(resource["code"])):
            reading = read_case([patient(), resource], P)
            assert reading.has_neuroblastoma and reading.case.age is not None, example["id"]
            continue
        reading = read(resource)
        report = reading.report
        assert not (report.invalid or report.unrecognised or report.ignored_by_status), (example["id"], report)
        used = {source for evidence in reading.case.evidence for source in evidence.sources}
        assert ref(resource) in used or ref(resource) in report.recorded_only, example["id"]


def test_guide_output_examples_are_valid_r4() -> None:
    outputs = [e for e in _guide_examples() if e.get("status") == "preliminary"]
    assert len(outputs) >= 5
    for example in outputs:
        Observation.model_validate(example)
        assert example["subject"] and example["focus"] and example["method"]
        assert ("valueCodeableConcept" in example) != ("dataAbsentReason" in example)
