"""Operational routes are for operators, CDS Hooks routes for browsers; headers every answer carries (issue 16,
findings 7 and 9).

A web page could read ``/metrics`` (CORS for any origin plus a Private-Network-Access grant) and learn a
child's result from the time the chart was opened. Now: no CORS on ``/healthz``, ``/readyz``, ``/metrics``;
``/metrics`` behind ``NBCDS_METRICS_TOKEN`` (404 in production without one); CORS stays on every CDS Hooks
route. Every answer says ``nosniff``; a 401 says ``WWW-Authenticate: Bearer``; discovery behind a JWT is
``private``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cds_service.client_simulator import ORIGIN, Reply, Service, example_patient, hook_request, running_service

STAGING = "neuroblastoma-staging"
PATIENT = example_patient("nb-l1-low")
OPERATIONAL = ("/healthz", "/readyz", "/metrics")
METRICS_TOKEN = "metrics-token-for-the-test"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path, metrics_token=METRICS_TOKEN) as running:
        yield running


def send(service: Service, method: str, path: str, headers: dict[str, str] | None = None) -> Reply:
    return service.client().transport.send(method, path, headers or {}, None)


@pytest.mark.parametrize("path", OPERATIONAL)
def test_operational_routes_grant_no_cors_and_no_private_network_access(service: Service, path: str) -> None:
    preflight = send(service, "OPTIONS", path, {
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization", "Access-Control-Request-Private-Network": "true"})
    actual = send(service, "GET", path, {"Origin": "https://evil.example.net",
                                         "Authorization": f"Bearer {METRICS_TOKEN}"})
    for reply in (preflight, actual):
        assert reply.header("Access-Control-Allow-Origin") is None, (path, reply.headers)
        assert reply.header("Access-Control-Allow-Private-Network") is None, (path, reply.headers)


@pytest.mark.parametrize("path", ["/cds-services", f"/cds-services/{STAGING}", f"/cds-services/{STAGING}/feedback"])
def test_cds_hooks_routes_keep_cors_and_the_private_network_grant(service: Service, path: str) -> None:
    reply = send(service, "OPTIONS", path, {
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type", "Access-Control-Request-Private-Network": "true"})
    assert reply.header("Access-Control-Allow-Origin") in (ORIGIN, "*")
    assert reply.header("Access-Control-Allow-Private-Network") == "true"


def test_metrics_need_the_token(service: Service) -> None:
    service.client().call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch()))
    missing = send(service, "GET", "/metrics")
    wrong = send(service, "GET", "/metrics", {"Authorization": "Bearer not-the-token"})
    right = send(service, "GET", "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert (missing.status, wrong.status, right.status) == (401, 401, 200)
    assert missing.header("WWW-Authenticate") == "Bearer"
    assert b'nbcds_results_total{outcome="determinate"' in right.body
    assert b"nbcds_results" not in missing.body + wrong.body
    assert right.header("Cache-Control") == "no-store"


def test_production_without_a_metrics_token_has_no_metrics(tmp_path: Path) -> None:
    with running_service(tmp_path) as svc:
        assert send(svc, "GET", "/metrics").status == 404
    with running_service(tmp_path, profile="development", require_jwt=False) as svc:
        assert send(svc, "GET", "/metrics").status == 200  # development: open (it binds loopback)


def test_every_answer_says_nosniff(service: Service) -> None:
    client = service.client()
    replies = [client.discovery(), client.discovery(token=None),
               client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())),
               client.call(STAGING, raw=b"{"), client.call("no-such-service", {}),
               *(send(service, "GET", path) for path in (*OPERATIONAL, "/openapi.json", "/nowhere")),
               send(service, "OPTIONS", f"/cds-services/{STAGING}", {"Origin": ORIGIN,
                                                                      "Access-Control-Request-Method": "POST"})]
    for reply in replies:
        assert reply.header("X-Content-Type-Options") == "nosniff", (reply.status, reply.headers)


def test_a_401_says_bearer(service: Service) -> None:
    client = service.client()
    replies = [client.discovery(token=None), client.discovery(token="not.a.jwt"),
               client.call(STAGING, hook_request(PATIENT.patient_id), token=None),
               client.feedback(STAGING, {"feedback": []}, token=None)]
    for reply in replies:
        assert reply.status == 401
        assert reply.header("WWW-Authenticate") == "Bearer"


def test_discovery_behind_a_jwt_is_private_and_public_without_one(service: Service, tmp_path: Path) -> None:
    assert service.client().discovery().header("Cache-Control") == "private, max-age=300"
    with running_service(tmp_path, profile="development", require_jwt=False) as open_service:
        assert open_service.client().discovery(token=None).header("Cache-Control") == "public, max-age=300"


def test_readyz_says_what_production_is_missing(tmp_path: Path) -> None:
    with running_service(tmp_path, trusted_issuers="[]") as svc:
        reply = send(svc, "GET", "/readyz")
    assert reply.status == 503
    assert reply.json["status"] == "misconfigured"
    missing = " ".join(reply.json["missing"])
    assert "NBCDS_TRUSTED_ISSUERS" in missing and "NBCDS_FHIR_SERVER_ALLOWLIST" in missing
    with running_service(tmp_path, fhir_server_allowlist=["https://ehr.example.org"]) as svc:
        assert send(svc, "GET", "/readyz").json == {"status": "ready"}
