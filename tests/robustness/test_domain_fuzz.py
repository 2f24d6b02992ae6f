"""The domain rules and the FHIR reader, fuzzed: total, deterministic, never raising.

- `classify` over random Cases (tests/neuroblastoma/case_strategies.py): every one of stage, INRG 2009
  and COG 2021 is a result, out of scope, or indeterminate with the missing inputs named; the same
  case always gives the same classification.
- `read_case` over mutated example Bundles (hostile.py), arbitrary JSON and FHIR-shaped resources
  with random members: it never raises, reads the same items the same way, and what it reads
  classifies without raising.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.reading.resources import gather
from fhir_mappings.reading.validation import validate
from neuroblastoma.case_json import case_to_json
from neuroblastoma.classification import classify
from neuroblastoma.results import Classification
from tests.neuroblastoma.case_strategies import cases
from tests.robustness.hostile import BAD_DATES, DANGLING, JSON_VALUES, mutated

FHIR_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
BUNDLES = {path.stem: json.loads(path.read_text(encoding="utf-8"))
           for path in sorted([*FHIR_EXAMPLES.glob("*.json"), *FHIR_EXAMPLES.glob("messy/*.json")])}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


def _patient_id(bundle: dict[str, Any]) -> str:
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "Patient":
            return resource["id"]
    raise AssertionError("an example Bundle without a Patient")


def _assert_total(result: Classification) -> None:
    missing = {item.fact for item in result.missing}
    assert result.stage.determinate or result.stage.candidates or missing, result.stage
    if not result.stage.determinate:
        assert missing, "an indeterminate stage must name the missing inputs"
    for name, decided, out_of_scope in (("inrg2009", result.risk("inrg2009").outcome is not None, result.risk("inrg2009").out_of_scope),
                                        ("cog2021", result.risk("cog2021").risk is not None, result.risk("cog2021").out_of_scope)):
        assert decided or out_of_scope or missing, f"{name}: neither a result nor the missing inputs"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_classification_is_total_and_deterministic(case: Any) -> None:
    first = classify(case)
    _assert_total(first)
    assert classify(case) == first
    event("stage determinate" if first.stage.determinate else "stage indeterminate")
    event("COG decided" if first.risk("cog2021").risk is not None else "COG not decided")


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(BUNDLES)))
def test_read_case_never_raises_on_mutated_bundles(data: st.DataObject, name: str) -> None:
    bundle = BUNDLES[name]
    patient_id = _patient_id(bundle)
    mutated_bundle, mutations = data.draw(mutated(bundle, patient_id=patient_id, max_mutations=4))
    mutated_bundle = json.loads(json.dumps(mutated_bundle, default=lambda deep: None))  # no Deep placeholders here
    reading = read_case([mutated_bundle], patient_id)
    again = read_case([json.loads(json.dumps(mutated_bundle))], patient_id)
    assert case_to_json(again.case) == case_to_json(reading.case)
    assert again.sources == reading.sources
    result = classify(reading.case)
    _assert_total(result)
    for mutation in mutations:
        event(f"mutation {mutation}")
    event("neuroblastoma read" if reading.has_neuroblastoma else "no neuroblastoma")


@FUZZ
@given(items=st.lists(JSON_VALUES, max_size=5), patient_id=st.none() | st.sampled_from(("p1", "nb-m-older", "")))
def test_read_case_never_raises_on_arbitrary_json(items: list[Any], patient_id: str | None) -> None:
    classify(read_case(items, patient_id).case)


RESOURCE_TYPES = ("Patient", "Condition", "Observation", "DiagnosticReport", "Procedure", "Bundle", "OperationOutcome",
                  "ImagingStudy", "Specimen", "MolecularSequence", "Encounter", "Basic")
FHIR_MEMBERS = ("id", "status", "code", "category", "subject", "focus", "effectiveDateTime", "effectivePeriod",
                "issued", "valueQuantity", "valueCodeableConcept", "valueBoolean", "valueString", "valueInteger",
                "valueRatio", "valueRange", "component", "bodySite", "hasMember", "derivedFrom", "interpretation",
                "method", "specimen", "extension", "modifierExtension", "meta", "birthDate", "onsetDateTime",
                "onsetAge", "onsetString", "recordedDate", "verificationStatus", "clinicalStatus", "stage", "evidence",
                "entry", "type", "link", "contained", "note", "dataAbsentReason", "performedDateTime", "outcome",
                "result", "conclusionCode", "partOf", "basedOn", "deceasedBoolean", "gender", "abatementDateTime")
CODE_SYSTEMS = ("http://snomed.info/sct", "http://loinc.org", "http://terminology.hl7.org/CodeSystem/observation-category",
                "https://neuroblastoma-cds.github.io/fhir/CodeSystem/observation-codes", "http://unitsofmeasure.org",
                "urn:oid:2.16.840.1.113883.6.43.1", "http://unknown.example/cs")
CODES = ("432328008", "363346000", "55278-7", "active", "confirmed", "present", "absent", "amplified", "%", "a",
         "mycn-status", "idrf", "bone-marrow", "L1", "M", "MS", "entered-in-error", "final", "preliminary")

codings = st.fixed_dictionaries({"system": st.sampled_from(CODE_SYSTEMS) | st.text(max_size=10),
                                 "code": st.sampled_from(CODES) | st.text(max_size=10)},
                                optional={"display": st.text(max_size=10)})
concepts = st.fixed_dictionaries({}, optional={"coding": st.lists(codings, max_size=3), "text": st.text(max_size=10)})
references = st.fixed_dictionaries({"reference": st.sampled_from(DANGLING) | st.sampled_from(
    ("Patient/p1", "Condition/c1", "Observation/o1", "#c1")) | st.text(max_size=12)})
dates = st.sampled_from(BAD_DATES) | st.sampled_from(("2024-01-01", "2024-06", "2024", "2024-01-01T10:00:00Z")) | \
    st.dates().map(str)
quantities = st.fixed_dictionaries({}, optional={"value": st.integers(-5, 10**6) | st.floats(allow_nan=False,
                                                                                              allow_infinity=False) | st.text(max_size=4),
                                                 "unit": st.text(max_size=4), "system": st.sampled_from(CODE_SYSTEMS),
                                                 "code": st.sampled_from(("%", "mm", "a", "d", "mo"))})
member_values = JSON_VALUES | concepts | references | dates | quantities | st.lists(concepts | references, max_size=3)


@st.composite
def fhir_shaped(draw: st.DrawFn) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": draw(st.sampled_from(RESOURCE_TYPES))}
    for member in draw(st.lists(st.sampled_from(FHIR_MEMBERS), max_size=10, unique=True)):
        resource[member] = draw(member_values)
    if draw(st.booleans()):
        resource["subject"] = {"reference": "Patient/p1"}
    return resource


@FUZZ
@given(resources=st.lists(fhir_shaped(), max_size=12))
def test_read_case_never_raises_on_fhir_shaped_resources(resources: list[dict[str, Any]]) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "2023-01-01"}
    condition = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "432328008"}]}}
    items = [patient, condition, *resources]
    reading = read_case(items, "p1")
    _assert_total(classify(reading.case))
    assert case_to_json(read_case(json.loads(json.dumps(items)), "p1").case) == case_to_json(reading.case)
    event("neuroblastoma read" if reading.has_neuroblastoma else "no neuroblastoma")


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_every_example_bundle_reads_and_classifies(name: str) -> None:
    bundle = BUNDLES[name]
    _assert_total(classify(read_case([bundle], _patient_id(bundle)).case))


# Edits that make an Observation invalid FHIR (each one alone is enough).
INVALIDATING = ({"status": "done"}, {"misspeltElement": 1}, {"effectiveDateTime": "2025-02-30"},
                {"valueBoolean": "yes"}, {"valueCodeableConcept": "text"}, {"subject": {"reference": 5}},
                {"component": [{"valueBoolean": True}]})
REPORT_DATES = ("2019-03-01", "2023-11-20T08:00:00Z", "2030-01-01", "2025-06-01")


def _canonical(value: Any) -> Any:
    """JSON with every list sorted: the facts read, whatever their order."""
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    return value


def _collection(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(BUNDLES)))
def test_validating_only_what_can_matter_reads_what_dropping_every_invalid_resource_first_would(
        data: st.DataObject, name: str) -> None:
    """The reader validates a decisive Observation only when the conflict rule needs it (a superseded one
    that agrees with the winner is never validated). What it reads must be what it would read from the
    same resources with every invalid Observation removed beforehand."""
    bundle = BUNDLES[name]
    patient_id = _patient_id(bundle)
    resources = [json.loads(json.dumps(entry["resource"])) for entry in bundle["entry"]]
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    for index, original in enumerate(data.draw(st.lists(st.sampled_from(observations), max_size=10))):
        repeat = {**json.loads(json.dumps(original)), "id": f"{original['id']}-repeat-{index}"}
        repeat.pop("effectivePeriod", None)
        repeat["effectiveDateTime"] = data.draw(st.sampled_from(REPORT_DATES))
        repeat["status"] = data.draw(st.sampled_from(("final", "final", "preliminary", "amended")))
        if data.draw(st.booleans()) and isinstance(repeat.get("valueBoolean"), bool):
            repeat["valueBoolean"] = not repeat["valueBoolean"]  # a discordant repeat
        resources.append(repeat)
    candidates = [r for r in resources if r["resourceType"] == "Observation"]
    for target in data.draw(st.lists(st.sampled_from(candidates), max_size=6)):
        target.update(data.draw(st.sampled_from(INVALIDATING)))
    resources = data.draw(st.permutations(resources))

    lazily = read_case([_collection(resources)], patient_id)
    kept = [r for of_type in gather([_collection(resources)]).by_type.values() for r in of_type]  # duplicates out
    invalid = {f"Observation/{r['id']}" for r in kept if r["resourceType"] == "Observation" and validate(r)}
    valid_only = [r for r in kept if r["resourceType"] != "Observation" or f"Observation/{r['id']}" not in invalid]
    eagerly = read_case([_collection(valid_only)], patient_id)

    assert _canonical(case_to_json(lazily.case)) == _canonical(case_to_json(eagerly.case))
    assert sorted(lazily.sources) == sorted(eagerly.sources)
    assert sorted((d.key, d.winner, sorted(d.others)) for d in lazily.report.discordances) == \
        sorted((d.key, d.winner, sorted(d.others)) for d in eagerly.report.discordances)
    reported = [i.reference for i in lazily.report.invalid if i.reference.startswith("Observation/")]
    assert set(reported) <= invalid
    event(f"{len(invalid) - len(reported)} invalid Observations never validated")
