"""Malformed requests are 400 with an OperationOutcome naming the field; never 404 or 500 (notes R8, §3.2 item 4).

Also: an unknown service is 404, an oversized body 413, a wrong method 405, and a bug in a handler a
500 that says nothing internal. Every error body is a FHIR OperationOutcome (CDS Hooks 3.0 H5).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.http.app import create_app
from cds_service.protocol.registry import ServiceRegistry
from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response, issue_text
from tests.cds_service.client_simulator import (
    CdsClient,
    FlaskTransport,
    Reply,
    Service,
    draft_orders,
    example_patient,
    fhir_authorization,
    hook_request,
    running_service,
    service_settings,
)

STAGING = "neuroblastoma-staging"
RESECTION = "neuroblastoma-resection-check"
PATIENT = example_patient("nb-l1-low")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path, max_request_bytes=20_000) as running:
        yield running


def valid_body(**changes: Any) -> dict[str, Any]:
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    body.update(changes)
    return body


def assert_400(reply: Reply, *expression: str) -> dict[str, Any]:
    assert reply.status == 400, (reply.status, reply.body[:300])
    outcome = assert_operation_outcome(reply.json, code="invalid")
    for item in expression:
        assert item in issue_text(outcome), (item, outcome)
    assert reply.header("Cache-Control") == "no-store"
    return outcome


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


# --------------------------------------------------------------------------- the body itself


@pytest.mark.parametrize(
    ("raw", "content_type", "words"),
    [
        pytest.param(b"hook=patient-view", "application/json", "not valid JSON", id="not-json"),
        pytest.param(b'{"hook": "patient-view",', "application/json", "not valid JSON", id="truncated-json"),
        pytest.param(b'{"hook": "patient-\xff\xfe"}', "application/json", "UTF-8", id="non-utf8-bytes"),
        pytest.param(b'{"hook": "patient-view"}', "text/plain", "Content-Type", id="text-plain"),
        pytest.param(b'{"hook": "patient-view"}', "application/x-www-form-urlencoded", "Content-Type",
                     id="form-encoded"),
        pytest.param(b"", "application/json", "not valid JSON", id="empty-body"),
        pytest.param(b"[" * 5000 + b"]" * 5000, "application/json", "nested too deeply", id="deeply-nested"),
        pytest.param(b'["patient-view"]', "application/json", "JSON object", id="array-not-object"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(service: Service, raw: bytes, content_type: str, words: str) -> None:
    reply = service.client().call(STAGING, raw=raw, content_type=content_type)
    assert words in issue_text(assert_400(reply))


def test_a_missing_content_type_is_400(service: Service) -> None:
    client = service.client()
    path = f"/cds-services/{STAGING}"
    headers = {"Authorization": f"Bearer {client.token_for(path)}"}
    reply = client.transport.send("POST", path, headers, json.dumps(valid_body()).encode())
    assert_400(reply)


# --------------------------------------------------------------------------- required members


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        pytest.param(lambda b: without(b, "hook"), "hook", id="missing-hook"),
        pytest.param(lambda b: {**b, "hook": ""}, "hook", id="empty-hook"),
        pytest.param(lambda b: without(b, "hookInstance"), "hookInstance", id="missing-hookInstance"),
        pytest.param(lambda b: {**b, "hookInstance": 42}, "hookInstance", id="numeric-hookInstance"),
        pytest.param(lambda b: {**b, "hookInstance": "x" * 500}, "hookInstance", id="huge-hookInstance"),
        pytest.param(lambda b: without(b, "context"), "context", id="missing-context"),
        pytest.param(lambda b: {**b, "context": "Patient/1"}, "context", id="context-not-object"),
        pytest.param(lambda b: {**b, "context": without(b["context"], "patientId")}, "context.patientId",
                     id="missing-patientId"),
        pytest.param(lambda b: {**b, "context": {**b["context"], "patientId": ""}}, "context.patientId",
                     id="empty-patientId"),
        pytest.param(lambda b: {**b, "context": {**b["context"], "patientId": 7}}, "context.patientId",
                     id="numeric-patientId"),
        pytest.param(lambda b: {**b, "context": {**b["context"], "patientId": "../Observation"}}, "context.patientId",
                     id="patientId-with-slash"),
        pytest.param(lambda b: {**b, "context": {**b["context"], "patientId": "nb-1/_history/1"}},
                     "context.patientId", id="patientId-history-path"),
        pytest.param(lambda b: {**b, "context": {**b["context"], "patientId": ".."}}, "context.patientId",
                     id="patientId-dot-dot"),
        pytest.param(lambda b: {**b, "context": {**b["context"], "patientId": "1&_include=*"}}, "context.patientId",
                     id="patientId-query-injection"),
        pytest.param(lambda b: {**b, "hook": "order-sign"}, "hook", id="wrong-hook-for-service"),
        pytest.param(lambda b: {**b, "fhirAuthorization": fhir_authorization("tok")}, "fhirServer",
                     id="fhirAuthorization-without-fhirServer"),
        pytest.param(lambda b: {**b, "fhirServer": "ehr.test/fhir"}, "fhirServer", id="fhirServer-not-absolute"),
        pytest.param(lambda b: {**b, "fhirServer": "file:///etc/passwd"}, "fhirServer", id="fhirServer-file-scheme"),
        pytest.param(lambda b: {**b, "fhirServer": "https://ehr.test/fhir", "fhirAuthorization": "Bearer tok"},
                     "fhirAuthorization", id="fhirAuthorization-not-object"),
        pytest.param(lambda b: {**b, "fhirServer": "https://ehr.test/fhir",
                                "fhirAuthorization": without(fhir_authorization("tok"), "access_token")},
                     "fhirAuthorization.access_token", id="fhirAuthorization-without-token"),
        pytest.param(lambda b: {**b, "fhirServer": "https://ehr.test/fhir",
                                "fhirAuthorization": {**fhir_authorization("tok"), "token_type": "MAC"}},
                     "fhirAuthorization.token_type", id="fhirAuthorization-not-bearer"),
        pytest.param(lambda b: {**b, "prefetch": {**b["prefetch"], "patient": "Patient/nb-l1-low"}},
                     "prefetch.patient", id="prefetch-value-a-string"),
        pytest.param(lambda b: {**b, "prefetch": {**b["prefetch"], "observations": []}}, "prefetch.observations",
                     id="prefetch-value-an-array"),
        pytest.param(lambda b: {**b, "prefetch": {**b["prefetch"], "patient": {"id": "nb-l1-low"}}},
                     "prefetch.patient", id="prefetch-value-without-resourceType"),
        pytest.param(lambda b: {**b, "prefetch": ["patient"]}, "prefetch", id="prefetch-not-object"),
    ],
)
def test_a_malformed_request_is_400_naming_the_field(service: Service, mutate, field: str) -> None:
    assert_400(service.client().call(STAGING, mutate(valid_body())), field)


def test_a_400_does_not_echo_the_offending_value(service: Service) -> None:
    body = valid_body()
    body["context"]["patientId"] = "../Patient/secret-value-123"
    outcome = assert_400(service.client().call(STAGING, body))
    assert "secret-value-123" not in json.dumps(outcome)


def test_order_sign_without_draft_orders_is_400(service: Service) -> None:
    body = hook_request(PATIENT.patient_id, hook="order-sign", prefetch=PATIENT.prefetch())
    assert_400(service.client().call(RESECTION, body), "context.draftOrders")


def test_order_select_without_selections_is_400(service: Service) -> None:
    body = hook_request(PATIENT.patient_id, hook="order-select", prefetch=PATIENT.prefetch(),
                        context={"draftOrders": draft_orders()})
    assert_400(service.client().call(RESECTION, body), "context.selections")


# --------------------------------------------------------------------------- other statuses


def test_an_unknown_service_is_404(service: Service) -> None:
    reply = service.client().call("no-such-service", valid_body())
    assert reply.status == 404
    assert_operation_outcome(reply.json, code="not-found")


def test_an_unknown_service_feedback_is_404(service: Service) -> None:
    reply = service.client().feedback("no-such-service", {"feedback": []})
    assert reply.status == 404
    assert_operation_outcome(reply.json, code="not-found")


def test_an_oversized_body_is_413(service: Service) -> None:
    body = valid_body()
    body["extension"] = {"org.example.padding": "x" * 30_000}
    reply = service.client().call(STAGING, body)
    assert reply.status == 413
    assert_operation_outcome(reply.json)


def test_get_on_a_service_is_405(service: Service) -> None:
    client = service.client()
    path = f"/cds-services/{STAGING}"
    reply = client.transport.send("GET", path, {"Authorization": f"Bearer {client.token_for(path)}"}, None)
    assert reply.status == 405
    assert_operation_outcome(reply.json)


def test_errors_carry_cors_headers_so_the_browser_can_read_them(service: Service) -> None:
    reply = service.client().call(STAGING, raw=b"nope")
    assert reply.status == 400
    assert reply.header("Access-Control-Allow-Origin")


def test_a_bug_in_a_handler_is_a_500_that_says_nothing_internal(tmp_path: Path, caplog) -> None:
    registry = ServiceRegistry()

    @registry.service(id="broken", hook="patient-view", title="Broken", description="Raises.", prefetch={})
    def broken(call):
        raise RuntimeError("internal detail: /srv/secret/path.py line 42")

    app = create_app(service_settings(tmp_path), registry)
    reply = CdsClient(FlaskTransport(app.test_client())).call("broken", hook_request("p1"))
    assert reply.status == 500
    outcome = assert_operation_outcome(reply.json)
    assert "secret" not in json.dumps(outcome) and "Traceback" not in json.dumps(outcome)
    assert reply.header("Cache-Control") == "no-store"


# --------------------------------------------------------------------------- robustness

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
RESOURCE_LIKE = st.builds(
    lambda rtype, extra: {"resourceType": rtype, **extra},
    st.sampled_from(["Bundle", "Patient", "Condition", "Observation", "OperationOutcome", "ServiceRequest"]),
    st.dictionaries(st.sampled_from(["id", "entry", "link", "birthDate", "code", "subject", "issue", "status",
                                     "valueCodeableConcept", "onsetDateTime", "type"]), JSON_VALUES, max_size=4),
)
ANY_VALUE = JSON_VALUES | RESOURCE_LIKE | st.lists(st.fixed_dictionaries({"resource": RESOURCE_LIKE}), max_size=3)
PATHS = [("hook",), ("hookInstance",), ("context",), ("context", "patientId"), ("context", "userId"),
         ("context", "draftOrders"), ("context", "selections"), ("fhirServer",), ("fhirAuthorization",),
         ("prefetch",), ("prefetch", "patient"), ("prefetch", "conditions"), ("prefetch", "observations"),
         ("prefetch", "observations", "entry"), ("prefetch", "conditions", "link"), ("extension",)]


def _set(body: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target: Any = body
    for key in path[:-1]:
        if not isinstance(target, dict):
            return
        target = target.setdefault(key, {})
    if isinstance(target, dict):
        target[path[-1]] = value


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(st.sampled_from(PATHS), ANY_VALUE), min_size=1, max_size=3),
       service_id=st.sampled_from([STAGING, RESECTION]))
def test_no_request_body_makes_the_service_fail(service: Service, mutations, service_id: str) -> None:
    """Whatever a client sends, the answer is a clean 200, 400 or 412: never a 500 (hapi-fhir#5212)."""
    body = copy.deepcopy(valid_body())
    if service_id == RESECTION:
        body["hook"] = "order-sign"
        body["context"]["draftOrders"] = draft_orders({"resourceType": "ServiceRequest", "id": "o1",
                                                       "code": {"coding": [{"system": "x", "code": "y"}]}})
    for path, value in mutations:
        _set(body, path, value)
    reply = service.client().call(service_id, body)
    assert reply.status in (200, 400, 412), (reply.status, reply.body[:300])
    if reply.status == 200:
        assert_valid_cards_response(reply.json)
    else:
        assert_operation_outcome(reply.json)


FEEDBACK_ENTRY = st.fixed_dictionaries(
    {},
    optional={"card": st.uuids().map(str) | JSON_VALUES, "outcome": st.sampled_from(["accepted", "overridden"]) | JSON_VALUES,
              "acceptedSuggestions": st.lists(st.fixed_dictionaries({"id": st.uuids().map(str) | JSON_VALUES}),
                                              max_size=2) | JSON_VALUES,
              "overrideReason": st.fixed_dictionaries({}, optional={"reason": JSON_VALUES, "userComment": JSON_VALUES})
              | JSON_VALUES,
              "outcomeTimestamp": st.sampled_from(["2025-06-01T10:00:00Z", "2025-06-01", ""]) | JSON_VALUES},
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({"feedback": st.lists(FEEDBACK_ENTRY, max_size=4)}) | JSON_VALUES)
def test_no_feedback_body_makes_the_service_fail(service: Service, body) -> None:
    reply = service.client().feedback(STAGING, body)
    assert reply.status in (200, 400), (reply.status, reply.body[:300])
    if reply.status == 400:
        assert_operation_outcome(reply.json)
