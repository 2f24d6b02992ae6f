"""Records for issue 18 that the case form cannot hold: the symptom code itself, as an EHR sends it.

``build_fhir_examples`` writes each to ``examples/fhir/messy/`` (hand-built Bundles live there) and
``examples/expected-fhir-results.json`` holds what each must give.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fhir_mappings.terminology.local_biology import SYMPTOMS
from fhir_mappings.writing.case_to_fhir import bundle_of, case_resources
from neuroblastoma.case_json import case_from_json

CASES_DIR = Path(__file__).resolve().parent / "cases"


def evolving_hepatomegaly() -> dict[str, Any]:
    """An MS infant diagnosed at 47 days with all favourable biology, whose only symptom is evolving hepatomegaly
    (the ms-symptoms Observation's value is the symptom code): COG 2021 intermediate, not low (Irwin 2021 via
    PDQ's intermediate-risk list: "younger than 3 months with evolving hepatomegaly")."""
    patient = "nb-ms-evolving-hepatomegaly"
    document = {**json.loads((CASES_DIR / "nb-ms-infant.json").read_text(encoding="utf-8")), "patient": patient,
                "birthDate": "2025-04-15", "diagnosisDate": "2025-06-01", "msSymptoms": "present"}
    resources = case_resources(case_from_json(document))
    symptoms = next(r for r in resources if r.get("id") == f"{patient}-ms-symptoms")
    symptoms["valueCodeableConcept"] = {"coding": [SYMPTOMS.code("evolving-hepatomegaly-under-3-months").coding()]}
    return bundle_of(resources, bundle_type="collection")


SOURCE_EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "nb-ms-evolving-hepatomegaly": evolving_hepatomegaly,
}
