"""Issue 13: records shaped the way EHRs send them give the clinically right answer, in any order.

Several neuroblastoma Conditions, implausible dates, multifocal primaries, equivocal foci and their
resolution, provenance. Each scenario reads FHIR resources with ``read_case`` (the public entry point) and
checks the classification, in both orders where order could matter (docs/clinical-rules.md, issue 13).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from examples.build_fhir_examples import FHIR_DIR, MESSY_DIR
from fhir_mappings.reading.case_reader import CaseReading, read_case
from neuroblastoma.classification import classify
from neuroblastoma.results import Classification
from neuroblastoma.summary import classification_summary

Resource = dict[str, Any]
OURS = "https://neuroblastoma-cds.github.io/fhir/CodeSystem"
SCT = "http://snomed.info/sct"
ABSENT = {"coding": [{"system": SCT, "code": "2667000"}]}
PRESENT = {"coding": [{"system": SCT, "code": "52101004"}]}


def resources_of(name: str) -> list[Resource]:
    path = MESSY_DIR / f"{name}.json" if name.startswith("nb-messy") else FHIR_DIR / f"{name}.json"
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return [entry["resource"] for entry in bundle["entry"]]


def by_id(resources: list[Resource], suffix: str) -> Resource:
    return next(r for r in resources if r["id"].endswith(suffix))


def read(resources: list[Resource], patient: str, today: date | None = None) -> tuple[CaseReading, Classification]:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    reading = read_case([bundle], patient, today) if today else read_case([bundle], patient)
    return reading, classify(reading.case)


def summary(result: Classification) -> dict[str, Any]:
    return classification_summary(result, with_trace=False)


def both_orders(resources: list[Resource], patient: str, today: date | None = None) -> Classification:
    """The classification, after checking that the reverse order gives exactly the same (with its trace)."""
    _, forward = read(resources, patient, today)
    _, backward = read(list(reversed(resources)), patient, today)
    assert classification_summary(forward) == classification_summary(backward)
    return forward


def codes(result: Classification) -> set[str]:
    return {w.code for w in result.all_warnings}


def missing(result: Classification) -> dict[str, str]:
    return {m.fact.value: m.why for m in result.missing}


# ---- several neuroblastoma Conditions ------------------------------------------------------------------

def test_onset_on_the_problem_list_dates_the_diagnosis_and_a_later_recorded_date_warns() -> None:
    """The issue's 546-day-old MS infant: MS / INRG C / COG intermediate in both orders, never M / P / high,
    and the warning names what the recorded date would give."""
    result = both_orders(resources_of("nb-messy-two-conditions"), "nb-messy-two-conditions")
    got = summary(result)
    assert (got["stage"], got["inrg2009"]["group"], got["cog2021"]["risk"]) == ("MS", "C", "intermediate")
    warning = next(w for w in result.all_warnings if w.code == "diagnosis-dates-disagree")
    assert "566 days" in warning.message and "stage M" in warning.message and "encounter-diagnosis" in warning.message


def test_onsets_that_straddle_547_days_leave_the_stage_undetermined_naming_the_conflict() -> None:
    result = both_orders(resources_of("nb-messy-two-onsets"), "nb-messy-two-onsets")
    assert result.stage.stage is None and set(result.stage.candidates) == {s for s in result.stage.candidates}
    assert {s.value for s in result.stage.candidates} == {"M", "MS"}
    why = missing(result)["age-at-diagnosis"]
    assert "different onsets" in why and "encounter-diagnosis" in why
    assert "diagnosis-dates-disagree" in codes(result)


def test_onsets_that_differ_within_one_age_band_decide_without_a_warning() -> None:
    resources = resources_of("nb-messy-two-onsets")
    by_id(resources, "encounter-diagnosis")["onsetDateTime"] = "2025-06-20"  # day 536: still under 547
    result = both_orders(resources, "nb-messy-two-onsets")
    assert result.stage.stage is not None and result.stage.stage.value == "MS"
    assert "diagnosis-dates-disagree" not in codes(result)


def test_refuted_and_entered_in_error_conditions_do_not_date_the_diagnosis() -> None:
    resources = resources_of("nb-messy-two-onsets")
    by_id(resources, "encounter-diagnosis")["verificationStatus"] = {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]}
    result = both_orders(resources, "nb-messy-two-onsets")
    assert result.stage.stage is not None and result.stage.stage.value == "MS"
    assert not codes(result) & {"diagnosis-dates-disagree", "implausible-date"}


def test_without_any_onset_the_earliest_recorded_date_is_the_diagnosis_date() -> None:
    resources = resources_of("nb-messy-two-conditions")
    problem_list = by_id(resources, "-neuroblastoma")
    problem_list["recordedDate"] = problem_list.pop("onsetDateTime")  # 2025-06-30, day 546
    reading, result = read(resources, "nb-messy-two-conditions")
    assert str(reading.case.diagnosis_date) == "2025-06-30"
    assert result.stage.stage is not None and result.stage.stage.value == "MS"
    assert summary(both_orders(resources, "nb-messy-two-conditions")) == summary(result)


# ---- implausible dates -----------------------------------------------------------------------------------

def test_a_diagnosis_before_birth_is_a_named_data_problem_and_the_age_is_unknown() -> None:
    reading, result = read(resources_of("nb-messy-implausible-dates"), "nb-messy-implausible-dates")
    assert reading.case.age is None
    assert {s.value for s in result.stage.candidates} == {"M", "MS"}
    assert "before the birth date" in missing(result)["age-at-diagnosis"]
    assert "implausible-date" in codes(result)


def test_a_diagnosis_in_the_future_is_a_named_data_problem() -> None:
    resources = resources_of("nb-ms-infant")
    by_id(resources, "-neuroblastoma")["onsetDateTime"] = "2025-07-01"
    reading, result = read(resources, "nb-ms-infant", today=date(2025, 6, 15))
    assert reading.case.age is None
    assert "after today" in missing(result)["age-at-diagnosis"]
    assert "implausible-date" in codes(result)


@pytest.mark.parametrize(("value", "unit"), [(1e308, "a"), (10**400, "a"), (200, "a"), (-3, "mo"), (1e300, "d")])
def test_an_absurd_onset_age_is_a_named_data_problem_never_an_error(value: float, unit: str) -> None:
    resources = resources_of("nb-ms-infant")
    condition = by_id(resources, "-neuroblastoma")
    condition.pop("onsetDateTime")
    condition["onsetAge"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    reading, result = read(resources, "nb-ms-infant")
    assert reading.case.age is None
    assert "not a possible age" in missing(result)["age-at-diagnosis"]
    assert "implausible-date" in codes(result)


# ---- multifocal primaries --------------------------------------------------------------------------------

def test_a_contiguous_extension_of_the_left_tumour_is_judged_against_the_left_tumour() -> None:
    """Bilateral adrenal tumours; the left one extends into the left chest: L2 (IDRF-01), not M."""
    result = both_orders(resources_of("nb-l2-bilateral"), "nb-l2-bilateral")
    assert result.stage.stage is not None and result.stage.stage.value == "L2"
    assert summary(result)["cog2021"]["risk"] == "intermediate"


def test_without_focus_the_side_ties_the_extension_to_its_primary() -> None:
    result = both_orders(resources_of("nb-messy-multifocal-by-side"), "nb-messy-multifocal-by-side")
    assert result.stage.stage is not None and result.stage.stage.value == "L2"


def test_an_extension_no_record_ties_to_a_primary_names_the_attribution_it_needs() -> None:
    resources = resources_of("nb-messy-multifocal-by-side")
    extension = by_id(resources, "extension-chest-left")
    extension["component"] = [c for c in extension["component"]
                              if c["code"]["coding"][0]["code"] != "laterality"]  # no side, no focus
    result = both_orders(resources, "nb-messy-multifocal-by-side")
    assert result.stage.stage is None
    assert {"L2", "M"} <= {s.value for s in result.stage.candidates}
    assert "which primary" in missing(result)["primary-attribution"]


def test_bilateral_tumours_with_no_idrf_on_any_primary_are_l1() -> None:
    result = both_orders(resources_of("nb-l1-bilateral"), "nb-l1-bilateral")
    assert result.stage.stage is not None and result.stage.stage.value == "L1"


def test_bilateral_tumours_with_a_no_idrf_call_for_each_primary_are_l1() -> None:
    resources = [r for r in resources_of("nb-l1-bilateral") if not r["id"].endswith("idrf-summary-all-primaries")]
    for number in (1, 2):
        resources.append({
            "resourceType": "Observation", "id": f"nb-l1-bilateral-call-{number}", "status": "final",
            "code": {"coding": [{"system": f"{OURS}/observation-codes", "code": "idrf-summary"}]},
            "subject": {"reference": "Patient/nb-l1-bilateral"}, "effectiveDateTime": "2025-06-01",
            "focus": [{"reference": f"Observation/nb-l1-bilateral-primary-{number}"}], "valueCodeableConcept": ABSENT})
    result = both_orders(resources, "nb-l1-bilateral")
    assert result.stage.stage is not None and result.stage.stage.value == "L1"


def test_a_no_idrf_call_not_tied_to_a_primary_asks_for_the_attribution_not_an_idrf_assessment() -> None:
    resources = resources_of("nb-l1-bilateral")
    call = by_id(resources, "idrf-summary-all-primaries")
    call["code"] = {"coding": [{"system": f"{OURS}/observation-codes", "code": "idrf-summary"}]}
    result = both_orders(resources, "nb-l1-bilateral")
    assert result.stage.stage is None
    assert "primary-attribution" in missing(result)
    assert "idrf" not in missing(result)


# ---- equivocal foci --------------------------------------------------------------------------------------

def test_a_later_negative_mri_of_the_site_clears_an_equivocal_mibg_focus() -> None:
    result = both_orders(resources_of("nb-messy-equivocal-mri"), "nb-messy-equivocal-mri")
    assert result.stage.stage is not None and result.stage.stage.value == "L1"
    assert any("ruled out by a later report" in step for step in result.stage.trace.steps)


def test_a_negative_report_made_before_the_focus_does_not_clear_it() -> None:
    resources = resources_of("nb-messy-equivocal-mri")
    by_id(resources, "mri-bone")["effectiveDateTime"] = "2025-05-20"  # before the MIBG scan
    result = both_orders(resources, "nb-messy-equivocal-mri")
    assert result.stage.stage is None and "equivocal-focus" in missing(result)


def test_a_later_biopsy_confirming_the_focus_decides_m() -> None:
    result = both_orders(resources_of("nb-messy-equivocal-biopsy"), "nb-messy-equivocal-biopsy")
    assert result.stage.stage is not None and result.stage.stage.value == "M"


def test_focus_ruled_out_is_an_explicit_resolution_whatever_the_dates() -> None:
    resources = resources_of("nb-messy-equivocal-biopsy")
    biopsy = by_id(resources, "bone-biopsy")
    biopsy["valueCodeableConcept"] = {"coding": [{"system": f"{OURS}/functional-imaging", "code": "focus-ruled-out"}]}
    biopsy.pop("effectiveDateTime")
    result = both_orders(resources, "nb-messy-equivocal-biopsy")
    assert result.stage.stage is not None and result.stage.stage.value == "L1"


def test_a_later_marrow_biopsy_resolves_an_equivocal_marrow_focus() -> None:
    resources = resources_of("nb-messy-equivocal-mri")
    resources = [r for r in resources if not r["id"].endswith("mri-bone")]
    bone = by_id(resources, "mibg-bone")
    bone.pop("dataAbsentReason", None)
    bone["valueCodeableConcept"] = ABSENT
    bone.pop("interpretation")
    marrow_scan = by_id(resources, "mibg-bone-marrow")
    marrow_scan["valueCodeableConcept"] = PRESENT
    by_id(resources, "marrow-involvement")["effectiveDateTime"] = "2025-06-09"
    result = both_orders(resources, "nb-messy-equivocal-mri")
    assert result.stage.stage is not None and result.stage.stage.value == "L1"


def test_an_unresolved_focus_asks_only_for_its_confirmation_even_after_a_negative_work_up() -> None:
    resources = [r for r in resources_of("nb-messy-equivocal-mri") if not r["id"].endswith("mri-bone")]
    resources.append({
        "resourceType": "Observation", "id": "nb-messy-equivocal-mri-work-up", "status": "final",
        "code": {"coding": [{"system": f"{OURS}/observation-codes", "code": "metastatic-work-up"}]},
        "subject": {"reference": "Patient/nb-messy-equivocal-mri"}, "effectiveDateTime": "2025-06-20",
        "valueCodeableConcept": ABSENT})
    result = both_orders(resources, "nb-messy-equivocal-mri")
    assert result.stage.stage is None
    assert set(missing(result)) - {"inrg-stage"} == {"equivocal-focus"}
    assert "cross-sectional imaging or biopsy" in missing(result)["equivocal-focus"]
    assert "equivocal-focus-unresolved" in codes(result)


def test_the_equivocal_example_asks_for_the_confirmation_not_for_scans_that_change_nothing() -> None:
    _, result = read(resources_of("nb-indeterminate-equivocal"), "nb-indeterminate-equivocal")
    assert set(missing(result)) - {"inrg-stage"} == {"equivocal-focus"}


# ---- provenance ------------------------------------------------------------------------------------------

def test_trace_steps_cite_the_observation_that_carried_the_fact() -> None:
    _, result = read(resources_of("nb-l2-bilateral"), "nb-l2-bilateral")
    steps = result.stage.trace.steps
    assert any("IDRF absent" in s and "[Observation/nb-l2-bilateral-primary-2-idrf-summary]" in s for s in steps)
    assert any("tumour in the chest" in s and "[Observation/nb-l2-bilateral-extension-chest-left]" in s
               for s in steps)


def test_nodes_effusions_and_marrow_cite_their_own_observations() -> None:
    resources = resources_of("nb-l1-low")
    patient = "nb-l1-low"
    resources += [
        {"resourceType": "Observation", "id": f"{patient}-node", "status": "final",
         "code": {"coding": [{"system": f"{OURS}/observation-codes", "code": "nodal-involvement"}]},
         "subject": {"reference": f"Patient/{patient}"}, "valueCodeableConcept": PRESENT,
         "bodySite": {"coding": [{"system": f"{OURS}/nodal-region", "code": "cervical"}]}},
        {"resourceType": "Observation", "id": f"{patient}-ascites", "status": "final",
         "code": {"coding": [{"system": f"{OURS}/idrf", "code": "REC-ASCITES"}]},
         "subject": {"reference": f"Patient/{patient}"}, "valueCodeableConcept": PRESENT},
    ]
    _, result = read(resources, patient)
    steps = " ".join(result.stage.trace.steps)
    assert f"[Observation/{patient}-node]" in steps
    assert f"[Observation/{patient}-ascites]" in steps
    assert f"[Observation/{patient}-marrow-involvement]" in steps


def test_a_negative_mibg_of_a_non_avid_tumour_is_not_discordant_with_a_positive_bone_scan() -> None:
    patient = "nb-l1-low"
    resources = [r for r in resources_of(patient) if "mibg" not in r["id"]]
    resources.append({
        "resourceType": "Observation", "id": f"{patient}-avidity", "status": "final",
        "code": {"coding": [{"system": f"{OURS}/functional-imaging", "code": "mibg-avidity-primary"}]},
        "subject": {"reference": f"Patient/{patient}"}, "valueCodeableConcept": ABSENT})
    for modality, bone in (("mibg", ABSENT), ("mdp", PRESENT)):
        for tissue in ("bone", "bone-marrow"):
            resources.append({
                "resourceType": "Observation", "id": f"{patient}-{modality}-{tissue}-scan", "status": "final",
                "code": {"coding": [{"system": f"{OURS}/functional-imaging", "code": f"{modality}-{tissue}"}]},
                "subject": {"reference": f"Patient/{patient}"},
                "valueCodeableConcept": bone if tissue == "bone" else ABSENT})
    _, result = read(resources, patient)
    assert result.stage.stage is not None and result.stage.stage.value == "M"
    assert "conflict-functional-imaging" not in codes(result)
    # With the avidity unknown, the same scans are discordant (MIBG ought to have shown the bone disease).
    _, unknown = read([r for r in resources if not r["id"].endswith("-avidity")], patient)
    assert "conflict-functional-imaging" in codes(unknown)


# ---- the written results name the data-quality problem -------------------------------------------------

def test_results_written_from_a_record_with_a_data_problem_carry_its_code() -> None:
    from datetime import UTC, datetime

    from fhir.resources.R4B.observation import Observation

    from fhir_mappings.terminology.local_results import DATA_QUALITY
    from fhir_mappings.writing.results_to_fhir import result_resources

    for name, code in (("nb-messy-two-conditions", "diagnosis-dates-disagree"),
                       ("nb-messy-implausible-dates", "implausible-date")):
        reading, result = read(resources_of(name), name)
        written = result_resources(result, reading, datetime(2026, 1, 1, tzinfo=UTC))
        for resource in written:
            Observation.model_validate(resource.resource)
            assert DATA_QUALITY.code(code).coding() in resource.resource["meta"]["tag"], name
            assert "Data quality:" in resource.resource["note"][0]["text"]
    reading, result = read(resources_of("nb-l1-low"), "nb-l1-low")
    assert all("tag" not in r.resource.get("meta", {})
               for r in result_resources(result, reading, datetime(2026, 1, 1, tzinfo=UTC)))
