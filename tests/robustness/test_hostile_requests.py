"""Hostile input to the whole service (Flask app, in process): every answer keeps the contract.

Generated requests start from the example patient-view requests and are mutated (see hostile.py);
others are arbitrary JSON, arbitrary bytes, non-UTF-8 bytes, wrong content types and oversized
bodies. The contract (contract.py): 200 with valid cards, 400/401/404/412 with an OperationOutcome,
413 for an oversized body — never a 500, never internal detail. No FHIR server is reachable: a
generated `fhirServer` is refused by the allow-list, so nothing leaves the process.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from cds_service.http.app import create_app
from tests.robustness.contract import (
    EXAMPLE_REQUESTS,
    assert_feedback_contract,
    assert_service_contract,
    example_request,
    robustness_settings,
)
from tests.robustness.hostile import CONTENT_TYPES, JSON_VALUES, encode, feedback_body, mutated

STAGING = "/cds-services/neuroblastoma-staging"
RESECTION = "/cds-services/neuroblastoma-resection-check"
FEEDBACK = "/cds-services/neuroblastoma-staging/feedback"
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    database = tmp_path_factory.mktemp("hostile") / "nbcds.sqlite3"
    # fhirServer values generated below are never contacted: only this closed loopback port is allowed.
    yield create_app(robustness_settings(database, fhir_server_allowlist=["http://127.0.0.1:9"]))


def post(app: Flask, path: str, data: bytes, content_type: str = "application/json") -> tuple[int, bytes]:
    response = app.test_client().post(path, data=data, headers={"Content-Type": content_type} if content_type else {})
    return response.status_code, response.get_data()


REQUESTS = {name: example_request(name) for name in EXAMPLE_REQUESTS}


@st.composite
def hostile_requests(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    name = draw(st.sampled_from(sorted(REQUESTS)))
    document = REQUESTS[name]
    return draw(mutated(document, patient_id=document["context"]["patientId"]))


@pytest.mark.parametrize("name", EXAMPLE_REQUESTS)
def test_example_requests_answer_with_valid_cards(app: Flask, name: str) -> None:
    status, body = post(app, STAGING, json.dumps(REQUESTS[name]).encode())
    assert status == 200
    assert assert_service_contract(status, body)["cards"]


@FUZZ
@given(case=hostile_requests())
def test_mutated_requests_keep_the_contract(app: Flask, case: tuple[dict[str, Any], list[str]]) -> None:
    document, mutations = case
    status, body = post(app, STAGING, encode(document))
    event(f"status {status}")
    for mutation in mutations:
        event(f"mutation {mutation}")
    assert_service_contract(status, body)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=hostile_requests())
def test_mutated_requests_to_the_order_sign_service_keep_the_contract(app: Flask, case: tuple[dict[str, Any], list[str]]) -> None:
    document, _ = case
    document = dict(document, hook="order-sign")
    document["context"] = {**document["context"], "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                                                  "entry": [{"resource": {
        "resourceType": "ServiceRequest", "id": "resect", "status": "draft", "intent": "order",
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "13619001"}]}}}]}} \
        if isinstance(document.get("context"), dict) else document.get("context")
    status, body = post(app, RESECTION, encode(document))
    event(f"status {status}")
    assert_service_contract(status, body)


@FUZZ
@given(value=JSON_VALUES, path=st.sampled_from((STAGING, RESECTION, FEEDBACK)))
def test_arbitrary_json_keeps_the_contract(app: Flask, value: Any, path: str) -> None:
    status, body = post(app, path, json.dumps(value).encode())
    check = assert_feedback_contract if path.endswith("/feedback") else assert_service_contract
    check(status, body)
    assert status != 200 or path.endswith("/feedback")  # no service answers cards to arbitrary JSON


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=2000), path=st.sampled_from((STAGING, FEEDBACK)))
@example(data=b"\xff\xfe{\x00}\x00", path=STAGING)  # UTF-16
@example(data=b'{"hook": "patient-view", "hookInstance": "\xe9t\xe9"}', path=STAGING)  # Latin-1
@example(data=b'\xef\xbb\xbf{"feedback": []}', path=FEEDBACK)  # UTF-8 BOM
@example(data=b"", path=STAGING)
@example(data=b"NaN", path=STAGING)
@example(data=b'{"feedback": [{"card": "\\ud800"}]}', path=FEEDBACK)  # a lone surrogate escape
@example(data=b"1" + b"0" * 5000, path=STAGING)  # over Python's int conversion limit
def test_arbitrary_bytes_keep_the_contract(app: Flask, data: bytes, path: str) -> None:
    status, body = post(app, path, data)
    check = assert_feedback_contract if path.endswith("/feedback") else assert_service_contract
    check(status, body)
    event(f"status {status}")


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(EXAMPLE_REQUESTS), position=st.floats(0, 1),
       junk=st.sampled_from((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80", b"\xe2\x82")))
def test_non_utf8_bytes_inside_a_valid_request_are_a_400(app: Flask, name: str, position: float, junk: bytes) -> None:
    raw = json.dumps(REQUESTS[name], ensure_ascii=False).encode()
    cut = int(position * len(raw))
    status, body = post(app, STAGING, raw[:cut] + junk + raw[cut:])
    assert status == 400, body
    assert_service_contract(status, body)


@pytest.mark.parametrize("content_type", CONTENT_TYPES)
@pytest.mark.parametrize("path", [STAGING, FEEDBACK])
def test_content_types(app: Flask, content_type: str, path: str) -> None:
    body = REQUESTS[EXAMPLE_REQUESTS[0]] if path == STAGING else feedback_body(str(uuid.uuid4()), str(uuid.uuid4()))
    status, answer = post(app, path, json.dumps(body).encode(), content_type)
    json_type = content_type.split(";")[0].strip().lower() in ("application/json", "application/fhir+json",
                                                               "application/json+fhir")
    assert status == (200 if json_type else 400), (content_type, answer[:300])
    check = assert_feedback_contract if path == FEEDBACK else assert_service_contract
    check(status, answer)


@pytest.mark.parametrize("path", [STAGING, FEEDBACK])
def test_oversized_bodies_are_a_413(app: Flask, path: str) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]
    status, body = post(app, path, b'{"hook": "' + b"A" * limit + b'"}')
    assert status == 413
    check = assert_feedback_contract if path == FEEDBACK else assert_service_contract
    check(status, body, allowed={413})


@FUZZ
@given(case=mutated(feedback_body("8a121ac0-d75e-58d0-b7ec-d735f8812d6a", "0ac3811c-3572-50d5-962d-b81442084db9")))
def test_mutated_feedback_keeps_the_contract(app: Flask, case: tuple[dict[str, Any], list[str]]) -> None:
    document, _ = case
    status, body = post(app, FEEDBACK, encode(document))
    event(f"status {status}")
    assert_feedback_contract(status, body)


def test_hostile_requests_without_a_token_get_a_bare_401(tmp_path_factory: pytest.TempPathFactory) -> None:
    """With authentication on, hostile bodies never reach the parser: 401, nothing about the body."""
    database = tmp_path_factory.mktemp("hostile-jwt") / "nbcds.sqlite3"
    app = create_app(robustness_settings(database, profile="production", require_jwt=None))
    for token in (None, "", "garbage", "Bearer", "Bearer a.b.c", "Bearer " + "A" * 5000, "Basic dXNlcjpwYXNz"):
        headers = {"Content-Type": "application/json", **({"Authorization": token} if token is not None else {})}
        for path, data in ((STAGING, b"\xff\xfe"), (FEEDBACK, b"[]"), (STAGING, json.dumps(REQUESTS[EXAMPLE_REQUESTS[0]]).encode())):
            response = app.test_client().post(path, data=data, headers=headers)
            assert_service_contract(response.status_code, response.get_data(), allowed={401})
