"""Records shaped the way EHRs really send them (issue 13), built on the clean examples.

Each builder returns a collection Bundle; ``build_fhir_examples`` writes them to ``examples/fhir/messy/``
and ``examples/expected-fhir-results.json`` holds what each must give. Resource ids are the example's
patient id plus a suffix, as in the other messy examples.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.local_staging import FUNCTIONAL_IMAGING, METASTATIC_SITE
from fhir_mappings.writing.case_to_fhir import bundle_of, case_resources
from neuroblastoma.case_json import case_from_json

Resource = dict[str, Any]
CASES_DIR = Path(__file__).resolve().parent / "cases"
_CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
IMAGING = {"coding": [std.OBS_CATEGORY_IMAGING.coding()]}


def _base(case_name: str, patient: str, **changes: Any) -> list[Resource]:
    document = {**json.loads((CASES_DIR / f"{case_name}.json").read_text(encoding="utf-8")), "patient": patient,
                **changes}
    return case_resources(case_from_json({k: v for k, v in document.items() if v is not None}))


def _find(resources: list[Resource], resource_id: str) -> Resource:
    return next(r for r in resources if r.get("id") == resource_id)


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": _CONDITION_CATEGORY, "code": code, "display": display}]}]


def _encounter_diagnosis(patient: str, **dates: str) -> Resource:
    """The same neuroblastoma as an encounter diagnosis, as an EHR returns it beside the problem-list entry."""
    return {
        "resourceType": "Condition", "id": f"{patient}-encounter-diagnosis",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "category": _category("encounter-diagnosis", "Encounter Diagnosis"),
        "code": {"coding": [std.SCT_NEUROBLASTOMA.coding()], "text": "Neuroblastoma"},
        "subject": {"reference": f"Patient/{patient}"}, **dates,
    }


def _two_conditions(patient: str, **second: str) -> dict[str, Any]:
    resources = _base("nb-ms-toddler", patient, birthDate="2024-01-01", diagnosisDate="2025-06-30")
    _find(resources, f"{patient}-neuroblastoma")["category"] = _category("problem-list-item", "Problem List Item")
    resources.append(_encounter_diagnosis(patient, **second))
    return bundle_of(resources, bundle_type="collection")


def two_conditions() -> dict[str, Any]:
    """A 546-day-old MS infant: the problem-list entry has the onset (2025-06-30, day 546); an encounter
    diagnosis has only a later recordedDate (day 566). The onset dates the diagnosis (MS); the card's summary
    warns that the recorded date would give M and high risk."""
    return _two_conditions("nb-messy-two-conditions", recordedDate="2025-07-20")


def two_onsets() -> dict[str, Any]:
    """Two Conditions whose onsets straddle 547 days (546 and 566): the stage is left undetermined between M
    and MS, naming the conflict."""
    return _two_conditions("nb-messy-two-onsets", onsetDateTime="2025-07-20", recordedDate="2025-07-20")


def _metastatic_site(patient: str, slug: str, site: str, when: str, value: dict[str, Any],
                     method: str) -> Resource:
    return {
        "resourceType": "Observation", "id": f"{patient}-{slug}", "status": "final", "category": [IMAGING],
        "code": {"coding": [OBSERVATION_CODES.code("metastatic-site").coding()]},
        "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": when,
        "valueCodeableConcept": value, "method": {"text": method},
        "bodySite": {"coding": [METASTATIC_SITE.code(site).coding()]},
    }


def equivocal_resolved_by_mri() -> dict[str, Any]:
    """An equivocal MIBG focus in bone (2025-06-01, the canonical encoding: interpretation equivocal-focus),
    ruled out by an MRI of that site ten days later (a metastatic-site Observation for bone, absent): L1."""
    p = "nb-messy-equivocal-mri"
    resources = _base("nb-indeterminate-equivocal", p)
    resources.append(_metastatic_site(p, "mri-bone", "bone", "2025-06-11",
                                      {"coding": [std.SCT_ABSENT.coding()]}, "MRI of the spine and pelvis"))
    return bundle_of(resources, bundle_type="collection")


def equivocal_confirmed_by_biopsy() -> dict[str, Any]:
    """The same equivocal focus, confirmed by a CT-guided bone biopsy (explicit value 'focus confirmed'): M."""
    p = "nb-messy-equivocal-biopsy"
    resources = _base("nb-indeterminate-equivocal", p)
    resources.append(_metastatic_site(p, "bone-biopsy", "bone", "2025-06-12",
                                      {"coding": [FUNCTIONAL_IMAGING.code("focus-confirmed").coding()]},
                                      "CT-guided biopsy of the iliac lesion"))
    return bundle_of(resources, bundle_type="collection")


def multifocal_by_side() -> dict[str, Any]:
    """Bilateral adrenal primaries as an EHR sends them: no Observation.focus; each overall IDRF call and the
    chest extension carry a side (laterality component) instead. The left chest extension is tied to the left
    primary by its side: L2 (IDRF-01), not contralateral M."""
    p = "nb-messy-multifocal-by-side"
    resources = _base("nb-l2-bilateral", p)
    for resource in resources:
        resource.pop("focus", None)
    summary = _find(resources, f"{p}-primary-2-idrf-summary")
    summary["component"] = [_find(resources, f"{p}-primary-2")["component"][0]]  # its side: right
    return bundle_of(resources, bundle_type="collection")


def implausible_dates() -> dict[str, Any]:
    """An MS infant whose Condition onset precedes the birth date: a named data-quality problem, the age unknown,
    and the stage left undetermined between M and MS (never a 500, never a guess)."""
    p = "nb-messy-implausible-dates"
    resources = _base("nb-ms-infant", p)
    _find(resources, f"{p}-neuroblastoma")["onsetDateTime"] = "2024-06-01"  # born 2025-01-01
    return bundle_of(resources, bundle_type="collection")


REAL_EHR: dict[str, Callable[[], dict[str, Any]]] = {
    "nb-messy-two-conditions": two_conditions,
    "nb-messy-two-onsets": two_onsets,
    "nb-messy-equivocal-mri": equivocal_resolved_by_mri,
    "nb-messy-equivocal-biopsy": equivocal_confirmed_by_biopsy,
    "nb-messy-multifocal-by-side": multifocal_by_side,
    "nb-messy-implausible-dates": implausible_dates,
}
