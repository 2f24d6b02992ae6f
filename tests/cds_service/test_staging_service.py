"""`neuroblastoma-staging` (patient-view) end to end: every example patient, every prefetch state, updates.

Spec: CDS Hooks 2.0 § Calling a CDS Service, § Prefetch (notes §1.3, §1.4: absent / null / empty
Bundle / OperationOutcome / paging), § CDS Service Response and § Card (§1.5, §1.6). The expected
stage and groups come from examples/expected-results.json; the codes are checked as published
(NCIt C133428–C133431 for INRG L1, L2, M, MS) and as our CodeSystems define them.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response, issue_text
from tests.cds_service.client_simulator import (
    EPIC,
    ORACLE,
    PROFILES,
    SANDBOX,
    SMART_V1_WILDCARD,
    SMART_V2_OBSERVATION,
    PatientData,
    Reply,
    Service,
    example_names,
    example_patient,
    fhir_authorization,
    hook_request,
    observations_in,
    operation_outcome,
    running_service,
    searchset,
)
from tests.examples import EXAMPLES as EXAMPLES_DIR
from tests.examples import EXPECTED

STAGING = "neuroblastoma-staging"

NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
STAGE_RESULT_KEY = f"{NCIT}|C133427"  # INRGSS (the stage Observation's code)
NCIT_STAGE = {"L1": "C133428", "L2": "C133429", "M": "C133430", "MS": "C133431"}
OUR_CODES = "https://neuroblastoma-cds.github.io/fhir/CodeSystem"
INRG_RESULT_KEY = f"{OUR_CODES}/observation-codes|inrg-2009-risk-group"
COG_RESULT_KEY = f"{OUR_CODES}/observation-codes|cog-2021-risk-group"
INRG_GROUP_SYSTEM = f"{OUR_CODES}/inrg-pretreatment-group"
INRG_RISK_SYSTEM = f"{OUR_CODES}/inrg-2009-risk"
COG_RISK_SYSTEM = f"{OUR_CODES}/cog-2021-risk"

# How the missing-data card names each missing fact (examples/expected-results.json `missing`).
MISSING_FACT_WORDS = {
    "age-at-diagnosis": "dates of birth and diagnosis",
    "functional-imaging": "MIBG",
    "equivocal-focus": "confirmation of the focus by cross-sectional imaging or biopsy",
    "bone-marrow": "bone marrow",
    "mycn": "MYCN",
    "histologic-category": "histology review",
    "idrf": "IDRF radiology review",
    "resection-extent": "extent of resection",
}

EXAMPLES = example_names()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def call_staging(service: Service, body: dict[str, Any], profile=SANDBOX, **kwargs: Any) -> Reply:
    return service.client(profile).call(STAGING, body, **kwargs)


def ok_cards(reply: Reply) -> list[dict[str, Any]]:
    assert reply.status == 200, reply.body[:500]
    assert reply.header("Cache-Control") == "no-store"
    return assert_valid_cards_response(reply.json)["cards"]


def stage_risk_card(cards: list[dict[str, Any]]) -> dict[str, Any]:
    matching = [card for card in cards if card["summary"].startswith("INRG stage")]
    assert len(matching) == 1, [card["summary"] for card in cards]
    return matching[0]


def coding_codes(concept: dict[str, Any] | None, system: str) -> set[str]:
    return {c["code"] for c in (concept or {}).get("coding", ()) if c["system"] == system}


def check_against_expected(name: str, cards: list[dict[str, Any]], patient_id: str,
                           expected: dict[str, Any] | None = None) -> None:
    """The cards say what examples/expected-results.json says, in the summary and in the Observations."""
    expected = expected or EXPECTED[name]
    card = stage_risk_card(cards)
    summary = card["summary"]
    results = observations_in(card)

    stage = expected["stage"]
    if stage:
        assert f"INRG stage {stage} " in summary + " "
        stage_obs = results[STAGE_RESULT_KEY]
        assert coding_codes(stage_obs["valueCodeableConcept"], NCIT) == {NCIT_STAGE[stage]}
    else:
        candidates = expected.get("stage_candidates")
        assert summary.startswith(f"INRG stage {' or '.join(candidates)} " if candidates else "INRG stage ")
        assert STAGE_RESULT_KEY not in results  # nothing is recorded before it is known

    group, inrg_risk = expected["inrg2009"]["group"], expected["inrg2009"]["risk"]
    if group:
        assert f"INRG group {group} ({inrg_risk.replace('-', ' ')})" in summary
        inrg_obs = results[INRG_RESULT_KEY]
        assert coding_codes(inrg_obs["valueCodeableConcept"], INRG_GROUP_SYSTEM) == {group}
        levels = {code for component in inrg_obs["component"]
                  for code in coding_codes(component["valueCodeableConcept"], INRG_RISK_SYSTEM)}
        assert levels == {inrg_risk}
    else:
        assert INRG_RESULT_KEY not in results
        if not expected.get("out_of_scope"):
            assert "INRG group undetermined" in summary

    cog_risk = expected["cog2021"]["risk"]
    if cog_risk:
        assert f"COG {cog_risk} risk" in summary
        assert coding_codes(results[COG_RESULT_KEY]["valueCodeableConcept"], COG_RISK_SYSTEM) == {cog_risk}
    else:
        assert COG_RESULT_KEY not in results
        if not expected.get("out_of_scope"):
            assert "COG risk undetermined" in summary

    for resource in results.values():
        assert resource["_action"] == "create"
        assert resource["status"] == "preliminary"
        assert resource["subject"] == {"reference": f"Patient/{patient_id}"}

    if expected.get("out_of_scope"):
        assert "outside INRG and COG" in summary
    if expected.get("missing"):
        missing_cards = [c for c in cards if "cannot be assigned yet" in c["summary"]]
        assert len(missing_cards) == 1, [c["summary"] for c in cards]
        for fact in expected["missing"]:
            assert MISSING_FACT_WORDS[fact] in missing_cards[0]["summary"], (fact, missing_cards[0]["summary"])
        assert missing_cards[0]["indicator"] == "warning"
    else:
        assert not [c for c in cards if "cannot be assigned yet" in c["summary"]]
    # The indicator says how much the result needs checking (cards/attention.py), not how severe the disease is.
    report = expected.get("report", {})
    needs_checking = ("schemas-disagree" in expected.get("warnings", ()) or expected.get("missing")
                      or any(report.get(key) for key in ("preliminary", "invalid", "discordances"))
                      or any(code.startswith(("sources-disagree", "conflict"))  # issue 18: the sources, INPC parts
                             for code in expected.get("warnings", ())))
    assert card["indicator"] == ("warning" if needs_checking else "info"), (name, card["indicator"])


# --------------------------------------------------------------------------- every example patient


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_with_full_prefetch(service: Service, name: str) -> None:
    patient = example_patient(name)
    profile = PROFILES[EXAMPLES.index(name) % len(PROFILES)]  # each client style gets its share
    cards = ok_cards(call_staging(service, hook_request(patient.patient_id, prefetch=patient.prefetch()), profile))
    check_against_expected(name, cards, patient.patient_id)


SAMPLE_REQUESTS = sorted((EXAMPLES_DIR / "requests").glob("*.json"))
MESSY = sorted((EXAMPLES_DIR / "fhir" / "messy").glob("*.json"))
EXPECTED_MESSY: dict[str, Any] = (json.loads((EXAMPLES_DIR / "expected-fhir-results.json").read_text())
                                  if MESSY else {})


@pytest.mark.parametrize("path", SAMPLE_REQUESTS, ids=lambda p: p.stem)
def test_the_shipped_sample_requests_as_they_are(service: Service, path: Path) -> None:
    body = json.loads(path.read_text(encoding="utf-8"))
    patient_id = body["context"]["patientId"]
    check_against_expected(patient_id, ok_cards(call_staging(service, body)), patient_id)


@pytest.mark.parametrize("path", MESSY, ids=lambda p: p.stem)
def test_messy_data_is_classified_and_explained(service: Service, path: Path) -> None:
    """Duplicates, entered-in-error, invalid resources, unknown codes: the card still says what it used."""
    bundle = json.loads(path.read_text(encoding="utf-8"))
    resources = tuple(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] != "OperationOutcome")
    [patient_id] = [r["id"] for r in resources if r["resourceType"] == "Patient"]
    data = PatientData(patient_id, resources)
    cards = ok_cards(call_staging(service, hook_request(patient_id, prefetch=data.prefetch(outcome_entries=True))))
    expected = EXPECTED_MESSY[path.stem]
    check_against_expected(path.stem, cards, patient_id, expected)
    card = stage_risk_card(cards)
    detail = card["detail"]
    report = expected.get("report", {})
    for references in report.values():  # FHIR ids stay in derivedFrom and the app, never in the card body
        for reference in references:
            assert (reference["winner"] if isinstance(reference, dict) else reference) not in detail
    check_first = detail.split("**Why**")[0]  # what needs attention comes before the explanation
    if report.get("preliminary"):
        assert "**Preliminary result decides.**" in check_first and "preliminary" in card["summary"]
    if report.get("discordances"):
        assert "**Conflicting reports.** MYCN" in check_first and "conflicting MYCN reports" in card["summary"]
    if report.get("invalid"):
        assert f"{len(report['invalid'])} record(s) were skipped as invalid FHIR" in check_first


def test_the_card_explains_its_inputs_and_sources(service: Service) -> None:
    patient = example_patient("nb-l2-11q")
    card = stage_risk_card(ok_cards(call_staging(service, hook_request(patient.patient_id,
                                                                        prefetch=patient.prefetch()))))
    detail = card["detail"]
    for label in ("| Age at diagnosis | 426 days", "| MYCN | not amplified |", "| 11q | aberration present |"):
        assert label in detail, label
    assert "Ploidy" not in detail  # it decides nothing here: the app shows every input
    assert "Observation/" not in detail and "nb-l2-11q" not in detail  # ids stay in derivedFrom and the app
    derived = {ref["reference"] for action in card["suggestions"][0]["actions"]
               for ref in action["resource"].get("derivedFrom", ())}
    assert "Observation/nb-l2-11q-mycn" in derived
    assert "Rule set" in detail and len(detail) <= 1500
    assert card["source"]["topic"]["code"] and card["overrideReasons"]
    assert card["selectionBehavior"] == "at-most-one"


def test_the_same_hook_instance_gives_the_same_card_uuids(service: Service) -> None:
    patient = example_patient("nb-l1-low")
    body = hook_request(patient.patient_id, prefetch=patient.prefetch())
    first, second = (ok_cards(call_staging(service, body)) for _ in range(2))
    assert [c["uuid"] for c in first] == [c["uuid"] for c in second]
    other = ok_cards(call_staging(service, {**body, "hookInstance": str(uuid.uuid4())}))
    assert {c["uuid"] for c in other}.isdisjoint(c["uuid"] for c in first)


def test_data_derived_text_cannot_inject_html_into_detail(service: Service) -> None:
    """The sandbox renders raw HTML in detail: a hostile id must arrive escaped."""
    patient = example_patient("nb-l1-low")
    renamed = json.loads(json.dumps(patient.resources).replace("nb-l1-low-mycn", "x-img-src-onerror"))
    body = hook_request(patient.patient_id, prefetch=PatientData(patient.patient_id, tuple(renamed)).prefetch())
    card = stage_risk_card(ok_cards(call_staging(service, body)))
    assert "<" not in card["detail"].replace("&lt;", "")


# --------------------------------------------------------------------------- no neuroblastoma


def test_no_neuroblastoma_condition_gives_no_cards(service: Service) -> None:
    patient = example_patient("nb-l1-low")
    other = {"resourceType": "Condition", "id": "asthma", "subject": {"reference": f"Patient/{patient.patient_id}"},
             "code": {"coding": [{"system": "http://snomed.info/sct", "code": "195967001", "display": "Asthma"}]}}
    prefetch = {**patient.prefetch(), "conditions": searchset([other])}
    reply = call_staging(service, hook_request(patient.patient_id, prefetch=prefetch))
    assert ok_cards(reply) == []
    assert reply.json == {"cards": []}


def test_a_patient_without_any_condition_gives_no_cards(service: Service) -> None:
    patient = example_patient("nb-m-older")
    reply = call_staging(service, hook_request(patient.patient_id, prefetch={**patient.prefetch(), "conditions": None}))
    assert reply.status == 200
    assert reply.json == {"cards": []}


def test_another_patients_data_is_never_used(service: Service) -> None:
    me, other = example_patient("nb-l1-low"), example_patient("nb-m-older")
    assert ok_cards(call_staging(service, hook_request(me.patient_id, prefetch=other.prefetch()))) == []
    mixed = {**me.prefetch(), "observations": searchset(me.observations + other.observations)}
    check_against_expected("nb-l1-low", ok_cards(call_staging(service, hook_request(me.patient_id, prefetch=mixed))),
                           me.patient_id)


# --------------------------------------------------------------------------- results already on record


def _recorded(card: dict[str, Any], **changes: Any) -> list[dict[str, Any]]:
    """The card's suggested Observations as a FHIR server would hold them after the user accepted them."""
    recorded = []
    for index, resource in enumerate(observations_in(card).values()):
        stored = {k: copy.deepcopy(v) for k, v in resource.items() if k != "_action"}
        stored["id"] = f"result-{index}"
        stored["meta"] = {"versionId": "3", "lastUpdated": "2025-07-01T10:00:00Z", **stored.get("meta", {})}
        stored["effectiveDateTime"] = "2025-07-01T10:00:00+00:00"
        recorded.append(stored)
    return recorded


def test_an_identical_result_on_record_needs_no_action(service: Service) -> None:
    patient = example_patient("nb-l1-low")
    first = stage_risk_card(ok_cards(call_staging(service, hook_request(patient.patient_id,
                                                                         prefetch=patient.prefetch()))))
    on_record = patient.with_resources(*_recorded(first))
    again = stage_risk_card(ok_cards(call_staging(service, hook_request(on_record.patient_id,
                                                                         prefetch=on_record.prefetch()))))
    assert "suggestions" not in again and "selectionBehavior" not in again
    assert again["summary"] == first["summary"]


def test_a_differing_result_on_record_is_updated_by_json_patch_keeping_id_and_meta(service: Service) -> None:
    patient = example_patient("nb-l1-low")
    first = stage_risk_card(ok_cards(call_staging(service, hook_request(patient.patient_id,
                                                                         prefetch=patient.prefetch()))))
    recorded = _recorded(first)
    stage_record = next(r for r in recorded if r["code"]["coding"][0]["code"] == "C133427")
    stage_record["valueCodeableConcept"] = {"coding": [{"system": NCIT, "code": NCIT_STAGE["L2"],
                                                        "display": "INRG Stage L2"}]}
    stage_record["identifier"] = [{"system": "urn:example:results", "value": "kept-as-is"}]
    on_record = patient.with_resources(*recorded)

    card = stage_risk_card(ok_cards(call_staging(service, hook_request(on_record.patient_id,
                                                                        prefetch=on_record.prefetch()))))
    [suggestion] = card["suggestions"]
    [action] = suggestion["actions"]  # the two identical results need nothing
    assert action["type"] == "update"
    assert "JSON Patch" in action["description"] and "/valueCodeableConcept" in action["description"]
    updated = action["resource"]
    assert updated["id"] == stage_record["id"]
    assert updated["meta"]["versionId"] == "3" and updated["meta"]["lastUpdated"] == "2025-07-01T10:00:00Z"
    assert updated["identifier"] == stage_record["identifier"]  # fields that are not ours are left alone
    assert coding_codes(updated["valueCodeableConcept"], NCIT) == {NCIT_STAGE["L1"]}
    assert updated["effectiveDateTime"] != stage_record["effectiveDateTime"]


# --------------------------------------------------------------------------- prefetch states


def test_a_null_patient_means_no_data_and_the_card_says_age_is_missing(service: Service) -> None:
    patient = example_patient("nb-ms-infant")  # MS needs the age at diagnosis
    reply = call_staging(service, hook_request(patient.patient_id, prefetch={**patient.prefetch(), "patient": None}))
    cards = ok_cards(reply)
    missing = [c for c in cards if "cannot be assigned yet" in c["summary"]]
    assert missing and "dates of birth and diagnosis" in missing[0]["summary"]


def test_an_empty_observation_bundle_means_no_findings(service: Service) -> None:
    patient = example_patient("nb-l1-low")
    empty = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    cards = ok_cards(call_staging(service, hook_request(patient.patient_id,
                                                        prefetch={**patient.prefetch(), "observations": empty})))
    assert stage_risk_card(cards)["summary"].startswith("INRG stage L1 or L2 or M ·")
    assert any("cannot be assigned yet" in c["summary"] for c in cards)


def test_searchset_outcome_entries_are_not_data(service: Service) -> None:
    patient = example_patient("nb-l2-amplified")
    plain = ok_cards(call_staging(service, hook_request(patient.patient_id, prefetch=patient.prefetch())))
    with_outcomes = ok_cards(call_staging(service, hook_request(patient.patient_id,
                                                                prefetch=patient.prefetch(outcome_entries=True))))
    assert [c["summary"] for c in with_outcomes] == [c["summary"] for c in plain]


@pytest.mark.parametrize("key", ["patient", "conditions", "observations"])
def test_an_operation_outcome_for_an_essential_key_is_412_naming_it(service: Service, key: str) -> None:
    patient = example_patient("nb-l1-low")
    prefetch = {**patient.prefetch(), key: operation_outcome("forbidden", text="access denied by policy")}
    reply = call_staging(service, hook_request(patient.patient_id, prefetch=prefetch))
    assert reply.status == 412
    outcome = assert_operation_outcome(reply.json, code="processing")
    assert f"prefetch.{key}" in issue_text(outcome)
    assert reply.header("Cache-Control") == "no-store"


def test_a_bundle_of_error_outcomes_is_unavailable_data(service: Service) -> None:
    patient = example_patient("nb-l1-low")
    failed = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": operation_outcome("too-costly"), "search": {"mode": "outcome"}}]}
    reply = call_staging(service, hook_request(patient.patient_id,
                                               prefetch={**patient.prefetch(), "observations": failed}))
    assert reply.status == 412
    assert "prefetch.observations" in issue_text(assert_operation_outcome(reply.json))


def test_an_operation_outcome_is_never_refetched(service: Service, faulty_fhir_server) -> None:
    """2.0: the client sends an OperationOutcome so that the service skips a useless query (P3)."""
    patient = example_patient("nb-l1-low")
    body = hook_request(patient.patient_id, prefetch={**patient.prefetch(), "observations": operation_outcome()},
                        fhir_server=faulty_fhir_server.base_url, authorization=fhir_authorization("secret-token"))
    assert call_staging(service, body).status == 412
    assert faulty_fhir_server.requests == []


@pytest.mark.parametrize(
    ("prefetch_keys", "missing"),
    [
        pytest.param(("patient", "conditions"), ["observations"], id="partial-prefetch"),
        pytest.param((), ["conditions", "observations", "patient"], id="empty-prefetch"),
    ],
)
def test_absent_keys_without_a_fhir_server_are_412_naming_them(service: Service, prefetch_keys, missing) -> None:
    patient = example_patient("nb-l1-low")
    reply = call_staging(service, hook_request(patient.patient_id, prefetch=patient.prefetch(keys=prefetch_keys)))
    assert reply.status == 412
    text = issue_text(assert_operation_outcome(reply.json))
    for key in missing:
        assert f"prefetch.{key}" in text
    assert "fhirServer" in text
    for key in set(("patient", "conditions", "observations")) - set(missing):
        assert f"prefetch.{key}" not in text


def test_no_prefetch_member_at_all_without_a_fhir_server_is_412(service: Service) -> None:
    reply = call_staging(service, hook_request("nb-l1-low"))
    assert reply.status == 412
    assert_operation_outcome(reply.json)


def test_a_paged_prefetch_bundle_without_fhir_access_is_not_treated_as_complete(service: Service) -> None:
    """A `next` link the service may not follow leaves the data incomplete: no silent partial answer."""
    patient = example_patient("nb-l1-low")
    first_page = searchset(patient.observations[:3], next_url="https://ehr.test/fhir/Observation?page=2")
    reply = call_staging(service, hook_request(patient.patient_id,
                                               prefetch={**patient.prefetch(), "observations": first_page}))
    assert reply.status == 412
    assert "prefetch.observations" in issue_text(assert_operation_outcome(reply.json))


# --------------------------------------------------------------------------- what real clients send


@pytest.mark.parametrize(
    "scope",
    [SMART_V1_WILDCARD, SANDBOX.scope, EPIC.scope, ORACLE.scope, SMART_V2_OBSERVATION],
    ids=["smart-v1-wildcard", "sandbox-hard-coded", "smart-v1-per-type", "smart-v2-per-type", "smart-v2-observation"],
)
def test_fhir_authorization_scope_styles_are_accepted(service: Service, scope: str) -> None:
    patient = example_patient("nb-l1-low")
    body = hook_request(patient.patient_id, prefetch=patient.prefetch(), fhir_server="https://ehr.test/fhir/R4",
                        authorization=fhir_authorization("opaque-access-token", EPIC, patient=patient.patient_id,
                                                         scope=scope))
    check_against_expected("nb-l1-low", ok_cards(call_staging(service, body, EPIC)), patient.patient_id)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/fhir+json", "application/json+fhir", "application/json; charset=utf-8"],
)
def test_json_media_types(service: Service, content_type: str) -> None:
    patient = example_patient("nb-ms-infant")
    reply = call_staging(service, hook_request(patient.patient_id, prefetch=patient.prefetch()),
                         content_type=content_type)
    check_against_expected("nb-ms-infant", ok_cards(reply), patient.patient_id)


def test_extensions_and_unknown_fields_are_tolerated(service: Service) -> None:
    patient = example_patient("nb-m-older")
    body = hook_request(patient.patient_id, prefetch=patient.prefetch(), extension=True, unknown_fields=True,
                        fhir_server="https://ehr.test/fhir",
                        authorization=fhir_authorization("opaque", ORACLE, patient=patient.patient_id, extension=True))
    check_against_expected("nb-m-older", ok_cards(call_staging(service, body, ORACLE)), patient.patient_id)


def test_a_user_other_than_a_practitioner_is_fine(service: Service) -> None:
    patient = example_patient("nb-m-older")
    body = hook_request(patient.patient_id, prefetch=patient.prefetch(), user_id=f"Patient/{patient.patient_id}")
    check_against_expected("nb-m-older", ok_cards(call_staging(service, body)), patient.patient_id)


def test_a_preliminary_input_result_is_used_and_recorded_only_inputs_are_named(service: Service) -> None:
    """The card must still be spec-clean when the data carries oddities (entered-in-error inputs)."""
    patient = example_patient("nb-l1-low")
    mycn = next(r for r in patient.observations if r["id"].endswith("-mycn"))
    retracted = {**copy.deepcopy(mycn), "id": "retracted-mycn", "status": "entered-in-error"}
    data = patient.with_resources(retracted)
    check_against_expected("nb-l1-low", ok_cards(call_staging(service, hook_request(patient.patient_id,
                                                                                    prefetch=data.prefetch()))),
                           patient.patient_id)


# --------------------------------------------------------------------------- the schema catches what it must


def _valid_response() -> dict[str, Any]:
    return {"cards": [{
        "uuid": "6f1c2a8e-4f3b-4b8e-9d61-0c1e2b3a4d5f",
        "summary": "INRG stage L1",
        "indicator": "info",
        "detail": "**bold**",
        "source": {"label": "Us", "url": "https://example.org/source",
                   "topic": {"system": "https://example.org/topics", "code": "t", "display": "Topic"}},
        "suggestions": [{"label": "Record", "uuid": "7f1c2a8e-4f3b-4b8e-9d61-0c1e2b3a4d5f", "isRecommended": True,
                         "actions": [{"type": "create", "description": "Record it", "resource": {
                             "resourceType": "Observation", "status": "preliminary",
                             "code": {"coding": [{"system": NCIT, "code": "C133427"}]}}}]}],
        "selectionBehavior": "at-most-one",
        "overrideReasons": [{"system": "https://example.org/reasons", "code": "r", "display": "Reason"}],
        "links": [{"label": "Paper", "url": "https://doi.org/10.1/x", "type": "absolute"}],
    }]}


def _break(change):
    def broken() -> dict[str, Any]:
        body = _valid_response()
        change(body["cards"][0], body)
        return body
    return broken


BROKEN = {
    "summary-140-chars": lambda c, b: c.update(summary="x" * 140),
    "indicator-hard-stop": lambda c, b: c.update(indicator="hard-stop"),
    "no-source-label": lambda c, b: c["source"].pop("label"),
    "relative-source-url": lambda c, b: c["source"].update(url="/about"),
    "card-uuid-not-uuid": lambda c, b: c.update(uuid="card-1"),
    "no-card-uuid": lambda c, b: c.pop("uuid"),
    "empty-detail": lambda c, b: c.update(detail=""),
    "empty-links": lambda c, b: c.update(links=[]),
    "null-member": lambda c, b: c.update(detail=None),
    "empty-object-in-resource": lambda c, b: c["suggestions"][0]["actions"][0]["resource"].update(meta={}),
    "suggestions-without-selectionBehavior": lambda c, b: c.pop("selectionBehavior"),
    "selectionBehavior-unknown": lambda c, b: c.update(selectionBehavior="exactly-one"),
    "two-recommended-with-at-most-one": lambda c, b: c["suggestions"].append(
        {**c["suggestions"][0], "uuid": "8f1c2a8e-4f3b-4b8e-9d61-0c1e2b3a4d5f"}),
    "suggestion-without-uuid": lambda c, b: c["suggestions"][0].pop("uuid"),
    "empty-actions": lambda c, b: c["suggestions"][0].update(actions=[]),
    "action-type-upper-case": lambda c, b: c["suggestions"][0]["actions"][0].update(type="Create"),
    "action-without-description": lambda c, b: c["suggestions"][0]["actions"][0].pop("description"),
    "resource-as-json-string": lambda c, b: c["suggestions"][0]["actions"][0].update(
        resource=json.dumps(c["suggestions"][0]["actions"][0]["resource"])),
    "update-without-id": lambda c, b: c["suggestions"][0]["actions"][0].update(type="update"),
    "delete-with-resource": lambda c, b: c["suggestions"][0]["actions"][0].update(
        type="delete", resourceId="Observation/1"),
    "invalid-fhir-observation": lambda c, b: c["suggestions"][0]["actions"][0]["resource"].update(
        effectiveDateTime="yesterday"),
    "override-reason-without-display": lambda c, b: c["overrideReasons"][0].pop("display"),
    "override-reason-without-system": lambda c, b: c["overrideReasons"][0].pop("system"),
    "link-type-unknown": lambda c, b: c["links"][0].update(type="web"),
    "absolute-link-with-appContext": lambda c, b: c["links"][0].update(appContext="patient=1"),
    "link-without-url": lambda c, b: c["links"][0].pop("url"),
    "unknown-card-member": lambda c, b: c.update(severity="high"),
    "systemActions": lambda c, b: b.update(systemActions=[{"type": "create", "description": "x",
                                                           "resource": {"resourceType": "Observation"}}]),
    "duplicate-uuids": lambda c, b: b["cards"].append(copy.deepcopy(c)),
    "no-cards-member": lambda c, b: b.pop("cards"),
}


def test_the_schema_accepts_a_valid_response() -> None:
    assert_valid_cards_response(_valid_response())
    assert_valid_cards_response({"cards": []})


@pytest.mark.parametrize("name", BROKEN)
def test_the_schema_rejects_what_the_spec_forbids(name: str) -> None:
    with pytest.raises(AssertionError):
        assert_valid_cards_response(_break(BROKEN[name])())
