"""The client JWT on every route: discovery, service and feedback (notes §1.8 J1–J7, §4 item 2).

Valid ES384 and RS384 tokens from trusted issuers are accepted; anything else is a bare 401 whose
OperationOutcome says nothing about why. The reason goes to the log only.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response
from tests.cds_service.client_simulator import (
    EPIC,
    ORACLE,
    SANDBOX,
    SANDBOX_STYLE_ISSUER,
    UNTRUSTED_ISSUER,
    CdsClient,
    Reply,
    Service,
    client_keys,
    example_patient,
    hook_request,
    mint_jwt,
    request_lines,
    running_service,
    serve_jwks,
    trusted_issuers_setting,
    unsigned_jwt,
)

STAGING = "neuroblastoma-staging"
PATIENT = example_patient("nb-l1-low")
ROUTES = {
    "discovery": "/cds-services",
    "service": f"/cds-services/{STAGING}",
    "feedback": f"/cds-services/{STAGING}/feedback",
}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def send(client: CdsClient, route: str, token: Any) -> Reply:
    if route == "discovery":
        return client.discovery(token=token)
    if route == "service":
        return client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch()), token=token)
    return client.feedback(STAGING, {"feedback": []}, token=token)


def assert_accepted(route: str, reply: Reply) -> None:
    assert reply.status == 200, (route, reply.status, reply.body[:300])
    if route == "service":
        assert_valid_cards_response(reply.json)


def assert_bare_401(reply: Reply) -> None:
    assert reply.status == 401, (reply.status, reply.body[:300])
    outcome = assert_operation_outcome(reply.json, code="login")
    assert outcome == {"resourceType": "OperationOutcome",
                       "issue": [{"severity": "error", "code": "login", "diagnostics": "authentication required"}]}


# --------------------------------------------------------------------------- accepted


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("profile", [SANDBOX, EPIC, ORACLE], ids=lambda p: f"{p.name}-{p.alg}")
def test_valid_tokens_are_accepted_on_every_route(service: Service, route: str, profile) -> None:
    client = service.client(profile)
    assert_accepted(route, send(client, route, client.token_for(ROUTES[route])))


@pytest.mark.parametrize("route", ROUTES)
def test_sandbox_style_double_slash_audience_is_accepted(service: Service, route: str) -> None:
    """The sandbox builds `discoveryUrl + "/" + id`: a typed trailing slash gives `…/cds-services//id` (§2.1)."""
    client = service.client(SANDBOX)
    path = ROUTES[route]
    aud = client.url(path + "/" if route == "discovery" else path.replace("/cds-services", "/cds-services/", 1))
    assert_accepted(route, send(client, route, client.token_for(ROUTES[route], aud=aud)))


def test_the_sandbox_double_slash_path_itself_is_served(service: Service) -> None:
    client = service.client(SANDBOX)
    path = f"/cds-services//{STAGING}"
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    reply = client.call(STAGING, body, path=path, token=client.token_for(path))
    assert_accepted("service", reply)


def test_an_audience_list_containing_the_url_is_accepted(service: Service) -> None:
    client = service.client(ORACLE)
    aud = [client.url(ROUTES["service"]), "https://other.example.org"]
    assert_accepted("service", send(client, "service", client.token_for(ROUTES["service"], aud=aud)))


def test_keys_from_a_jwks_url_on_loopback_are_fetched_once_per_issuer(tmp_path: Path) -> None:
    with serve_jwks() as jwks, running_service(tmp_path, trusted_issuers=trusted_issuers_setting(jwks.url)) as svc:
        for profile in (SANDBOX, EPIC, SANDBOX, EPIC):
            client = svc.client(profile)
            assert_accepted("discovery", send(client, "discovery", client.token_for(ROUTES["discovery"])))
        assert jwks.requests == 2  # one fetch for each of the two issuers, then cached


def test_behind_a_proxy_the_public_url_is_the_audience(tmp_path: Path) -> None:
    with running_service(tmp_path, public_base_url="https://cds.example.org/") as svc:
        client = svc.client()
        public = "https://cds.example.org/cds-services"
        assert_accepted("discovery", client.discovery(token=client.token_for("/cds-services", aud=public)))
        assert_bare_401(client.discovery(token=client.token_for("/cds-services")))  # aud https://localhost/…


# --------------------------------------------------------------------------- rejected


def _expired(client: CdsClient, path: str) -> str:
    return client.token_for(path, iat_offset=-900, lifetime=300)


def _hs256(client: CdsClient, path: str) -> str:
    now = int(time.time())
    claims = {"iss": SANDBOX_STYLE_ISSUER, "aud": client.url(path), "iat": now, "exp": now + 300, "jti": "hs"}
    return jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256!", algorithm="HS256",
                      headers={"kid": "test-es384-1"})


REJECTED = {
    "expired": _expired,
    "wrong-aud-other-route": lambda c, p: c.token_for(p, aud=c.url("/cds-services/some-other-service")),
    "wrong-aud-other-host": lambda c, p: c.token_for(p, aud="https://evil.example.org" + p),
    "wrong-iss": lambda c, p: c.token_for(p, iss=UNTRUSTED_ISSUER),
    "alg-none": lambda c, p: unsigned_jwt(c.url(p)),
    "hs256": _hs256,
    "untrusted-key": lambda c, p: c.token_for(p, key=client_keys().other_es384),
    "unknown-kid": lambda c, p: c.token_for(p, kid="rotated-away"),
    "not-yet-valid": lambda c, p: c.token_for(p, extra_claims={"nbf": int(time.time()) + 3600}),
    "lifetime-a-day": lambda c, p: c.token_for(p, lifetime=86_400),
    "garbage": lambda c, p: "not.a.jwt",
    "missing": lambda c, p: None,
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("case", REJECTED)
def test_bad_tokens_get_a_bare_401_on_every_route(service: Service, route: str, case: str, caplog) -> None:
    caplog.set_level(logging.INFO, logger="nbcds")
    client = service.client(SANDBOX)
    token = REJECTED[case](client, ROUTES[route])
    reply = send(client, route, token)
    assert_bare_401(reply)
    assert reply.header("Cache-Control") == "no-store"
    assert reply.header("Access-Control-Allow-Origin")  # the browser can read the 401
    [line] = request_lines(caplog)
    assert line["status"] == 401 and line["auth_failure"]  # the reason is in the log, only there
    assert line["auth_failure"] not in reply.body.decode()


def test_a_replayed_token_is_refused(service: Service) -> None:
    client = service.client(EPIC)
    token = client.token_for(ROUTES["discovery"])
    assert client.discovery(token=token).status == 200
    assert_bare_401(client.discovery(token=token))


def test_the_authorization_scheme_must_be_bearer(service: Service) -> None:
    client = service.client()
    token = client.token_for(ROUTES["discovery"])
    assert_bare_401(client.discovery(token=None, headers={"Authorization": f"Basic {token}"}))


def test_a_token_for_the_sandbox_issuer_is_refused_in_production(service: Service) -> None:
    client = service.client()
    token = mint_jwt(client.url("/cds-services"), iss="https://sandbox.cds-hooks.org",
                     kid="44823f3d-0b01-4a6c-a80e-b9d3e8a7226f")
    assert_bare_401(client.discovery(token=token))


def test_all_failure_reasons_look_the_same_to_the_client(service: Service) -> None:
    client = service.client()
    bodies = {json.dumps(send(client, "discovery", make(client, ROUTES["discovery"])).json, sort_keys=True)
              for make in REJECTED.values()}
    assert len(bodies) == 1


def test_an_unknown_service_id_is_not_revealed_before_authentication() -> None:
    """Without a valid JWT, probing ids gives 401 for known and unknown ids alike (not 404)."""
    from cds_service.http.app import create_app
    from cds_service.settings import Settings

    app = create_app(Settings(profile="production", database_url="sqlite://", trusted_issuers="[]"))
    client = app.test_client()
    for path in ("/cds-services/no-such-service", "/cds-services/neuroblastoma-staging",
                 "/cds-services/no-such-service/feedback"):
        response = client.post(path, json={})
        assert response.status_code == 401, path
        assert response.json["resourceType"] == "OperationOutcome"
