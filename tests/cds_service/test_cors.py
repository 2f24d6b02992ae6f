"""CORS on every route, preflights exactly as the sandbox's browser sends them (notes X1, §2.1, §3.2 item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cds_service.client_simulator import (
    ORIGIN,
    Reply,
    Service,
    example_patient,
    hook_request,
    running_service,
)

STAGING = "neuroblastoma-staging"
PATIENT = example_patient("nb-l1-low")

# What the sandbox's browser sends before each call (recorded, §2.1).
PREFLIGHTS = [
    pytest.param("/cds-services", "GET", "authorization", id="discovery"),
    pytest.param(f"/cds-services/{STAGING}", "POST", "authorization,content-type", id="service"),
    pytest.param(f"/cds-services/{STAGING}/feedback", "POST", "authorization,content-type", id="feedback"),
    pytest.param(f"/cds-services//{STAGING}", "POST", "authorization,content-type", id="service-double-slash"),
    pytest.param("/cds-services/neuroblastoma-resection-check", "POST", "authorization,content-type",
                 id="resection-service"),
]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def header_set(reply: Reply, name: str) -> set[str]:
    return {item.strip().lower() for item in (reply.header(name) or "").split(",") if item.strip()}


def assert_cors_allows(reply: Reply, origin: str = ORIGIN, *, echoed_from_any: bool = True) -> None:
    assert reply.header("Access-Control-Allow-Origin") in (origin, "*")
    if echoed_from_any and reply.header("Access-Control-Allow-Origin") == origin:
        assert "origin" in header_set(reply, "Vary")  # caches must not serve it to another origin


@pytest.mark.parametrize(("path", "method", "request_headers"), PREFLIGHTS)
def test_sandbox_preflights_are_allowed_without_a_token(service: Service, path, method, request_headers) -> None:
    reply = service.client().preflight(path, method, request_headers)
    assert 200 <= reply.status < 300, reply.status  # a redirect or a 401 fails the preflight
    assert_cors_allows(reply)
    assert method.lower() in header_set(reply, "Access-Control-Allow-Methods")
    assert set(request_headers.split(",")) <= header_set(reply, "Access-Control-Allow-Headers")
    assert reply.header("Access-Control-Allow-Credentials") is None  # a bearer JWT, never cookies


def test_a_preflight_from_a_public_page_to_a_local_service_may_reach_the_private_network(service: Service) -> None:
    """Chrome's Private Network Access: the hosted sandbox calling a service on localhost (§2.1)."""
    reply = service.client().transport.send("OPTIONS", f"/cds-services/{STAGING}", {
        "Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
        "Access-Control-Request-Private-Network": "true"}, None)
    assert 200 <= reply.status < 300
    assert reply.header("Access-Control-Allow-Private-Network") == "true"


def test_actual_responses_carry_cors_headers(service: Service) -> None:
    client = service.client()
    discovery = client.discovery()
    call = client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch()))
    card_uuid = call.json["cards"][0]["uuid"]
    feedback = client.feedback(STAGING, {"feedback": [
        {"card": card_uuid, "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z"}]})
    for reply in (discovery, call, feedback):
        assert reply.status == 200
        assert_cors_allows(reply)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda c: c.discovery(token=None), id="401"),
        pytest.param(lambda c: c.call(STAGING, raw=b"{"), id="400"),
        pytest.param(lambda c: c.call(STAGING, hook_request(PATIENT.patient_id)), id="412"),
        pytest.param(lambda c: c.call("nope", hook_request(PATIENT.patient_id)), id="404"),
    ],
)
def test_error_responses_carry_cors_headers_too(service: Service, make) -> None:
    reply = make(service.client())
    assert reply.status >= 400
    assert_cors_allows(reply)


def test_a_configured_origin_list_is_enforced(tmp_path: Path) -> None:
    with running_service(tmp_path, cors_allowed_origins=["https://ehr.example.org"]) as svc:
        allowed = svc.client(origin="https://ehr.example.org").preflight(f"/cds-services/{STAGING}")
        assert_cors_allows(allowed, "https://ehr.example.org", echoed_from_any=False)
        other = svc.client(origin="https://evil.example.net").preflight(f"/cds-services/{STAGING}")
        assert other.header("Access-Control-Allow-Origin") is None
