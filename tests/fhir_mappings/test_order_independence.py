"""The answer is a function of the *set* of resources (issue 13): FHIR search order is undefined, and EHRs
split a chart across Bundles, pages and prefetch keys, send a resource twice and add unrelated ones.

Property: for every example patient (clean and messy) and generated records, shuffling the resources,
splitting them across Bundles of any type (nested like pages), duplicating some, adding unrelated ones
and a JSON round trip never change the classification — stage, every risk result, candidates, missing
inputs, warnings, and the trace that cites the sources. (The HTTP service: tests/cds_service/
test_order_independence_http.py; NDJSON files: tests/cds_service/test_bulk_export.py.)
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from examples.build_fhir_examples import FHIR_DIR, MESSY_DIR
from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.writing.case_to_fhir import case_resources
from neuroblastoma.classification import classify
from neuroblastoma.summary import classification_summary
from tests.fhir_mappings.test_case_to_fhir_round_trip import encodable_cases

Resource = dict[str, Any]
BUNDLE_TYPES = ("collection", "searchset", "transaction", "batch", "batch-response", "history")


def _records() -> dict[str, list[Resource]]:
    records = {}
    for path in sorted(FHIR_DIR.glob("*.json")) + sorted(MESSY_DIR.glob("*.json")):
        bundle = json.loads(path.read_text(encoding="utf-8"))
        records[path.stem] = [entry["resource"] for entry in bundle["entry"]
                              if entry.get("search", {}).get("mode") != "outcome"]
    return records


RECORDS = _records()


def unrelated(patient: str) -> list[Resource]:
    """Resources a chart also holds: none of them may change the answer."""
    subject = {"reference": f"Patient/{patient}"}
    return [
        {"resourceType": "Practitioner", "id": "dr-who", "name": [{"family": "Who"}]},
        {"resourceType": "Observation", "id": "hb", "status": "final", "subject": subject,
         "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]},
         "valueQuantity": {"value": 11.2, "unit": "g/dL"}},
        {"resourceType": "Condition", "id": "asthma", "subject": subject,
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "195967001"}]}},
        {"resourceType": "Observation", "id": "other-child-mycn", "status": "final",
         "subject": {"reference": "Patient/someone-else"},
         "code": {"coding": [{"system": "http://loinc.org", "code": "93796-1"}]},
         "valueCodeableConcept": {"coding": [{"system": "http://loinc.org", "code": "LA9633-4"}]}},
        {"resourceType": "OperationOutcome", "id": "warning",
         "issue": [{"severity": "warning", "code": "informational"}]},
    ]


def as_bundle(resources: list[Any], bundle_type: str) -> Resource:
    return {"resourceType": "Bundle", "type": bundle_type, "entry": [{"resource": r} for r in resources]}


@st.composite
def reshaped(draw: st.DrawFn, resources: list[Resource], patient: str) -> list[Any]:
    """The same record as an EHR might send it: duplicated, padded, shuffled, split, nested, re-serialised."""
    items = [copy.deepcopy(r) for r in resources]
    items += [copy.deepcopy(r) for r in draw(st.lists(st.sampled_from(resources), max_size=3))]
    items += draw(st.lists(st.sampled_from(unrelated(patient)), max_size=3, unique_by=lambda r: r["id"]))
    items = draw(st.permutations(items))
    cuts = sorted(draw(st.lists(st.integers(0, len(items)), max_size=4)))
    chunks = [items[a:b] for a, b in zip([0, *cuts], [*cuts, len(items)], strict=True)]
    parts: list[Any] = []
    for chunk in chunks:
        shape = draw(st.sampled_from(("bundle", "nested", "loose")))
        if shape == "loose":
            parts += chunk
        elif shape == "bundle":
            parts.append(as_bundle(chunk, draw(st.sampled_from(BUNDLE_TYPES))))
        else:  # pages: a Bundle of Bundles
            half = len(chunk) // 2
            parts.append(as_bundle([as_bundle(chunk[:half], "searchset"), as_bundle(chunk[half:], "searchset")],
                                   "collection"))
    return json.loads(json.dumps(draw(st.permutations(parts))))


def answer(items: list[Any], patient: str) -> dict[str, Any]:
    reading = read_case(items, patient)
    result = classify(reading.case) if reading.has_neuroblastoma else None
    discordances = sorted((d.key, d.winner, tuple(sorted(d.others))) for d in reading.report.discordances)
    return {"classification": classification_summary(result) if result else None,
            "discordances": discordances, "preliminary": sorted(reading.report.preliminary),
            "focus": reading.condition_ref}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), name=st.sampled_from(sorted(RECORDS)))
def test_any_order_split_duplication_or_padding_gives_the_same_answer(data: st.DataObject, name: str) -> None:
    resources = RECORDS[name]
    expected = answer([as_bundle(resources, "collection")], name)
    assert data.draw(reshaped(resources, name).map(lambda items: answer(items, name))) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data(), case=encodable_cases())
def test_generated_records_give_the_same_answer_in_any_shape(data: st.DataObject, case: Any) -> None:
    resources = case_resources(case)
    expected = answer([as_bundle(resources, "collection")], case.patient)
    assert data.draw(reshaped(resources, case.patient).map(lambda items: answer(items, case.patient))) == expected
