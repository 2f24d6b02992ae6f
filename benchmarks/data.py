"""The data the benchmarks use: the shipped example patients, padded to a realistic (or a chosen) size.

Every example patient (``examples/fhir/<name>.json``, written by ``case_to_bundle``) has one Patient,
one neuroblastoma Condition and 8-19 Observations, all of codes the service reads. A chart as an EHR
prefetches it is bigger, so ``patient_data(name, observations=40)`` gives:

* the **Patient**, unchanged;
* **3 Conditions**: the neuroblastoma Condition, plus two unrelated active problems a child on treatment
  has (SNOMED CT 271737000 anaemia, 38341003 hypertension); the reader reports them as unrecognised;
* **Observations**, exactly ``observations`` of them (40 in the "realistic" prefetch):

  - the patient's own Observations (the data that decides the stage and risk);
  - 4 (or 10 % of the padding, if more) are laboratory results of codes the rules do not read (LOINC
    haemoglobin, platelets, LDH, ferritin): an EHR that ignores the prefetch query's code filter sends them;
  - the rest are **older repeats** of the patient's own results: copies with a new id, ``effectiveDateTime``
    1, 2, 3 ... days earlier and the same value (a repeated MYCN FISH, an earlier MIBG read of the same
    scan, a second pathology report). They are read, compete with the newer result and lose, so the
    stage and risk group stay those of the example.

  With fewer Observations than the patient has (the 1 and 10 points of scenario 5), the first ones are kept.

Nothing here is random: the same name and size always give the same resources.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from neuroblastoma.case import Case
from neuroblastoma.case_json import case_from_json

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
Resource = dict[str, Any]

OTHER_CONDITIONS = (
    ("anaemia", "271737000", "Anemia (disorder)"),
    ("hypertension", "38341003", "Hypertensive disorder, systemic arterial (disorder)"),
)
# Laboratory results the rules do not read: (id suffix, LOINC, display, value, UCUM unit).
UNREAD_LABS = (
    ("hb", "718-7", "Hemoglobin [Mass/volume] in Blood", 10.4, "g/dL"),
    ("plt", "777-3", "Platelets [#/volume] in Blood by Automated count", 212.0, "10*3/uL"),
    ("ldh", "2532-0", "Lactate dehydrogenase [Enzymatic activity/volume] in Serum or Plasma", 480.0, "U/L"),
    ("ferritin", "2276-4", "Ferritin [Mass/volume] in Serum or Plasma", 95.0, "ng/mL"),
)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
FULL_URL_BASE = "http://ehr.bench.test/fhir"


def example_names() -> list[str]:
    """The example patients that have both a case file and a published FHIR Bundle."""
    cases = {path.stem for path in (EXAMPLES / "cases").glob("*.json")}
    return sorted(path.stem for path in (EXAMPLES / "fhir").glob("*.json") if path.stem in cases)


@cache
def _example_resources(name: str) -> tuple[Resource, ...]:
    bundle = json.loads((EXAMPLES / "fhir" / f"{name}.json").read_text(encoding="utf-8"))
    return tuple(entry["resource"] for entry in bundle["entry"])


def case_document(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "cases" / f"{name}.json").read_text(encoding="utf-8"))


def example_case(name: str) -> Case:
    return case_from_json(case_document(name))


@dataclass(frozen=True)
class PatientData:
    """One patient's chart as the service receives it."""

    patient_id: str
    patient: Resource
    conditions: tuple[Resource, ...]
    observations: tuple[Resource, ...]

    @property
    def resources(self) -> list[Resource]:
        return [self.patient, *self.conditions, *self.observations]

    def bundle(self) -> Resource:
        """A collection Bundle of every resource (scenario 2's input)."""
        return {"resourceType": "Bundle", "type": "collection",
                "entry": [_entry(resource) for resource in self.resources]}

    def prefetch(self) -> dict[str, Resource]:
        """The service's three prefetch keys, as an EHR fills them (searchsets for the searches)."""
        return {"patient": self.patient, "conditions": searchset(self.conditions),
                "observations": searchset(self.observations)}

    def composition(self) -> dict[str, int]:
        ids = [o["id"] for o in self.observations]
        repeats = sum("-older-" in i for i in ids)
        unread = sum("-lab-" in i for i in ids)
        return {"conditions": len(self.conditions), "observations": len(ids),
                "own": len(ids) - repeats - unread, "older_repeats": repeats, "unread_codes": unread}


def _entry(resource: Resource) -> Resource:
    return {"fullUrl": f"{FULL_URL_BASE}/{resource['resourceType']}/{resource['id']}", "resource": resource}


def searchset(resources: tuple[Resource, ...] | list[Resource]) -> Resource:
    bundle: Resource = {"resourceType": "Bundle", "type": "searchset", "total": len(resources)}
    if resources:
        bundle["entry"] = [{**_entry(r), "search": {"mode": "match"}} for r in resources]
    return bundle


def _other_condition(patient_id: str, suffix: str, code: str, display: str) -> Resource:
    return {
        "resourceType": "Condition", "id": f"{patient_id}-{suffix}",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                           "code": "confirmed"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "problem-list-item"}]}],
        "code": {"coding": [{"system": SNOMED, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "recordedDate": "2025-06-15",
    }


def _unread_lab(patient_id: str, index: int) -> Resource:
    suffix, code, display, value, unit = UNREAD_LABS[index % len(UNREAD_LABS)]
    return {
        "resourceType": "Observation", "id": f"{patient_id}-lab-{suffix}-{index}", "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": (date(2025, 6, 1) - timedelta(days=index)).isoformat(),
        "valueQuantity": {"value": value + index % 7, "unit": unit, "system": "http://unitsofmeasure.org",
                          "code": unit},
    }


def _older_repeat(observation: Resource, days: int) -> Resource:
    repeat = copy.deepcopy(observation)
    repeat["id"] = f"{observation['id']}-older-{days}"
    effective = observation.get("effectiveDateTime")
    if isinstance(effective, str) and len(effective) == 10:  # a full date: move it back
        repeat["effectiveDateTime"] = (date.fromisoformat(effective) - timedelta(days=days)).isoformat()
    return repeat


def patient_data(name: str, observations: int = 40) -> PatientData:
    """The example patient ``name`` with exactly ``observations`` Observations (see the module docstring)."""
    if observations < 1:
        raise ValueError("at least one Observation")
    resources = _example_resources(name)
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    own_conditions = [r for r in resources if r["resourceType"] == "Condition"]
    own = [r for r in resources if r["resourceType"] == "Observation"]
    conditions = [*own_conditions, *(_other_condition(patient["id"], *c) for c in OTHER_CONDITIONS)]
    chosen = list(own[:observations])
    padding = observations - len(chosen)
    unread = min(padding, max(len(UNREAD_LABS), round(padding / 10)))
    chosen += [_unread_lab(patient["id"], index) for index in range(unread)]
    for index in range(padding - unread):
        chosen.append(_older_repeat(own[index % len(own)], 1 + index // len(own)))
    return PatientData(patient["id"], copy.deepcopy(patient), tuple(copy.deepcopy(conditions)),
                       tuple(copy.deepcopy(chosen)))
