"""The named cases of the attack on the running service (issue 16), kept as a corpus: never a 500, never an
exception name, never a request value echoed whole.

Each case plants a long value (``q`` × 1,000,000, or a huge number) somewhere a request can carry it. The
answer keeps the contract (tests/robustness/contract.py), is at most ``MAX_BODY`` bytes, and holds no run of
more than ``ECHO_LIMIT`` planted characters: error text is bounded everywhere (cards, error bodies). Logs are
checked by test_audit_and_logs.py and test_answer_integrity.py; memory by test_memory.py.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from cds_service.http.app import create_app
from tests.robustness.contract import (
    EXAMPLE_REQUESTS,
    assert_feedback_contract,
    assert_service_contract,
    example_request,
    robustness_settings,
)

BIG = "q" * 1_000_000
ECHO_LIMIT = 300  # characters of a planted value an answer may quote (reasons are cut at 200)
MAX_BODY = 64 * 1024
STAGING = "/cds-services/neuroblastoma-staging"
RESECTION = "/cds-services/neuroblastoma-resection-check"
FEEDBACK = "/cds-services/neuroblastoma-staging/feedback"
Document = dict[str, Any]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    database = tmp_path_factory.mktemp("attack") / "nbcds.sqlite3"
    app = create_app(robustness_settings(database, max_request_bytes=6_000_000,
                                         fhir_server_allowlist=["http://127.0.0.1:9"]))
    yield app
    app.extensions["nbcds"].close()


def request() -> Document:
    return copy.deepcopy(example_request(EXAMPLE_REQUESTS[0]))


def resources(document: Document, resource_type: str) -> list[Document]:
    return [entry["resource"] for value in document["prefetch"].values()
            if isinstance(value, dict) and value.get("resourceType") == "Bundle"
            for entry in value.get("entry", []) if entry["resource"]["resourceType"] == resource_type]


def onset_age(value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        for condition in resources(document, "Condition"):
            condition.pop("onsetDateTime", None)
            condition["onsetAge"] = {"value": value, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}
    return change


def observation(member: str, value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        resources(document, "Observation")[0][member] = value
    return change


def nested_extensions(depth: int) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        nested: list[Any] = []
        for _ in range(depth):
            nested = [{"url": "http://x", "extension": nested}]
        resources(document, "Observation")[0]["extension"] = nested
    return change


def top(member: str, value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        document[member] = value
    return change


def context(member: str, value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        document["context"][member] = value
    return change


def patient(member: str, value: Any) -> Callable[[Document], None]:
    def change(document: Document) -> None:
        document["prefetch"]["patient"][member] = value
    return change


SERVICE_CASES: dict[str, Callable[[Document], None]] = {
    "onsetAge 1e308 years": onset_age(1e308),
    "onsetAge -1e308 years": onset_age(-1e308),
    "onsetAge a 400-digit number": onset_age(int("9" * 400)),
    "onsetAge 1e-308 years": onset_age(1e-308),
    "onsetRange of huge ages": lambda d: [c.update(onsetRange={"low": {"value": 1e308, "code": "a"},
                                                               "high": {"value": int("9" * 400), "code": "a"}})
                                          for c in resources(d, "Condition")] and None,
    "Observation.status 1 MB": observation("status", BIG),
    "Observation.status an object": observation("status", {"x": BIG}),
    "Observation.valueString 1 MB": observation("valueString", BIG),
    "Observation.id 1 MB": observation("id", BIG),
    "Observation member name 1 MB": observation(BIG, "x"),
    "Observation.code.text 1 MB": observation("code", {"text": BIG, "coding": [{"system": BIG, "code": BIG}]}),
    "extensions nested 200 deep (RecursionError)": nested_extensions(200),
    "extensions nested 400 deep": nested_extensions(400),
    "hook 4.5 MB": top("hook", "h" * 4_500_000),
    "hookInstance 1 MB": top("hookInstance", BIG),
    "fhirServer 1 MB": top("fhirServer", "https://" + BIG),
    "fhirServer with credentials": top("fhirServer", "https://user:" + BIG + "@ehr.example.org"),
    "fhirAuthorization token 1 MB": lambda d: d.update(fhirServer="https://ehr.example.org", fhirAuthorization={
        "access_token": BIG, "token_type": "Bearer", "expires_in": 60, "scope": BIG, "subject": BIG}),
    "context.patientId 1 MB": context("patientId", BIG),
    "context.userId 1 MB": context("userId", BIG),
    "context member name 1 MB": context(BIG, "x"),
    "prefetch key 1 MB": lambda d: d["prefetch"].update({BIG: None}),
    "prefetch value 1 MB string": lambda d: d["prefetch"].update(observations=BIG),
    "Patient.birthDate 1 MB": patient("birthDate", BIG),
    "Patient.id 1 MB": patient("id", BIG),
}


def post(app: Flask, path: str, document: Any) -> tuple[int, bytes]:
    response = app.test_client().post(path, data=json.dumps(document), content_type="application/json")
    return response.status_code, response.get_data()


def assert_bounded(body: bytes) -> None:
    assert len(body) <= MAX_BODY, f"{len(body)} bytes"
    assert b"q" * ECHO_LIMIT not in body and b"h" * ECHO_LIMIT not in body, "a planted value was echoed"


@pytest.mark.parametrize("case", SERVICE_CASES)
def test_service_call_cases(app: Flask, case: str) -> None:
    document = request()
    SERVICE_CASES[case](document)
    status, body = post(app, STAGING, document)
    assert_service_contract(status, body)
    assert_bounded(body)


@pytest.mark.parametrize("case", ["hook 4.5 MB", "Observation.status 1 MB", "context.patientId 1 MB"])
def test_order_sign_cases(app: Flask, case: str) -> None:
    document = request()
    document["hook"] = "order-sign"
    document["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "ServiceRequest", "id": "x" * 1000, "status": BIG, "intent": "order",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": BIG}]}}}]}
    SERVICE_CASES[case](document)
    status, body = post(app, RESECTION, document)
    assert_service_contract(status, body)
    assert_bounded(body)


CARD = "8a121ac0-d75e-58d0-b7ec-d735f8812d6a"
FEEDBACK_CASES: dict[str, Any] = {
    "card 1 MB": {"card": BIG, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z"},
    "outcome 1 MB": {"card": CARD, "outcome": BIG, "outcomeTimestamp": "2025-06-01T10:00:00Z"},
    "timestamp 1 MB": {"card": CARD, "outcome": "overridden", "outcomeTimestamp": BIG},
    "reason code 1 MB": {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z",
                         "overrideReason": {"reason": {"system": BIG, "code": BIG, "display": BIG}}},
    "comment 1 MB": {"card": CARD, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z",
                     "overrideReason": {"userComment": BIG}},
    "suggestion id 1 MB": {"card": CARD, "outcome": "accepted", "outcomeTimestamp": "2025-06-01T10:00:00Z",
                           "acceptedSuggestions": [{"id": BIG}]},
    "member name 1 MB": {BIG: 1},
}


@pytest.mark.parametrize("case", FEEDBACK_CASES)
def test_feedback_cases(app: Flask, case: str) -> None:
    status, body = post(app, FEEDBACK, {"feedback": [FEEDBACK_CASES[case]]})
    assert_feedback_contract(status, body)
    assert_bounded(body)
