"""Settings that change what the service accepts: profiles, JWT, the sandbox issuer, FHIR server policy.

The production profile requires JWTs and refuses the public sandbox issuer (its private key is public,
notes §2.1); the development profile may relax both and says so loudly in the log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from cds_service.auth import SANDBOX_ISSUER, SANDBOX_JWKS_PATH
from cds_service.settings import Settings
from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response, issue_text
from tests.cds_service.client_simulator import (
    EPIC,
    ORACLE,
    SANDBOX,
    example_patient,
    fhir_authorization,
    hook_request,
    mint_jwt,
    overridden,
    running_service,
)
from tests.support.faulty_fhir_server import Reply as FhirReply

STAGING = "neuroblastoma-staging"
PATIENT = example_patient("nb-l1-low")
SANDBOX_KID = "44823f3d-0b01-4a6c-a80e-b9d3e8a7226f"


def _no_env(monkeypatch) -> None:
    for name in ("NBCDS_PROFILE", "NBCDS_REQUIRE_JWT", "NBCDS_TRUST_SANDBOX_ISSUER", "NBCDS_TRUSTED_ISSUERS"):
        monkeypatch.delenv(name, raising=False)


# --------------------------------------------------------------------------- production


def test_production_requires_jwt_by_default(monkeypatch) -> None:
    _no_env(monkeypatch)
    assert Settings().profile == "production"
    assert Settings().jwt_required


def test_production_refuses_to_turn_jwt_off(monkeypatch) -> None:
    _no_env(monkeypatch)
    monkeypatch.setenv("NBCDS_REQUIRE_JWT", "false")
    with pytest.raises(ValidationError, match="REQUIRE_JWT"):
        Settings()


def test_production_refuses_the_sandbox_issuer(monkeypatch) -> None:
    _no_env(monkeypatch)
    monkeypatch.setenv("NBCDS_TRUST_SANDBOX_ISSUER", "true")
    with pytest.raises(ValidationError, match="TRUST_SANDBOX_ISSUER"):
        Settings()


@pytest.mark.parametrize("profile", [SANDBOX, EPIC, ORACLE], ids=lambda p: p.name)
def test_production_without_trusted_issuers_rejects_every_token(tmp_path: Path, profile) -> None:
    with running_service(tmp_path, trusted_issuers="[]") as svc:
        client = svc.client(profile)
        replies = [
            client.discovery(),
            client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())),
            client.feedback(STAGING, {"feedback": [overridden("0b8f9a8e-3c1d-4e5f-9a7b-123456789abc")]}),
            client.discovery(token=None),
        ]
        assert [reply.status for reply in replies] == [401, 401, 401, 401]
        for reply in replies:
            assert_operation_outcome(reply.json, code="login")


def test_production_refuses_plain_http_fhir_servers_by_default(tmp_path: Path, faulty_fhir_server) -> None:
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch(keys=("patient", "conditions")),
                        fhir_server=faulty_fhir_server.base_url, authorization=fhir_authorization("secret-token"))
    with running_service(tmp_path, allow_http_fhir_servers=None) as svc:
        reply = svc.client().call(STAGING, body)
    assert reply.status == 412
    assert "https" in issue_text(assert_operation_outcome(reply.json))
    assert faulty_fhir_server.requests == []  # the token never travelled in clear text


def test_a_fhir_server_off_the_allowlist_is_never_contacted(tmp_path: Path, faulty_fhir_server) -> None:
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch(keys=("patient", "conditions")),
                        fhir_server=faulty_fhir_server.base_url, authorization=fhir_authorization("secret-token"))
    with running_service(tmp_path, fhir_server_allowlist=["https://ehr.example.org"]) as svc:
        reply = svc.client().call(STAGING, body)
    assert reply.status == 412
    assert "allow-list" in issue_text(assert_operation_outcome(reply.json))
    assert faulty_fhir_server.requests == []


# --------------------------------------------------------------------------- development


def test_development_with_the_sandbox_issuer_trusts_it_and_warns_loudly(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="nbcds")
    with running_service(tmp_path, profile="development", trust_sandbox_issuer=True) as svc:
        verifier = svc.app.extensions["nbcds"].verifier
        assert verifier is not None  # trusting the sandbox means verifying its tokens
        issuers = {issuer.issuer: issuer for issuer in verifier.issuers}
        assert SANDBOX_ISSUER in issuers
        assert issuers[SANDBOX_ISSUER].jwks_file == str(SANDBOX_JWKS_PATH)
        assert SANDBOX_KID in {key["kid"] for key in json.loads(SANDBOX_JWKS_PATH.read_text())["keys"]}

        # We cannot sign as the sandbox (its private key is not shipped), so a token claiming to be the
        # sandbox but signed with another key must fail: the issuer's key is really checked.
        client = svc.client(SANDBOX)
        forged = mint_jwt(client.url("/cds-services"), iss=SANDBOX_ISSUER, kid=SANDBOX_KID,
                          jku="https://sandbox.cds-hooks.org/.well-known/jwks.json")
        assert client.discovery(token=forged).status == 401
        assert client.discovery(token=client.token_for("/cds-services")).status == 200  # other issuers still work
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "sandbox" in r.getMessage()]
    assert warnings and "forge" in warnings[0].getMessage()


def test_development_may_turn_jwt_off_and_says_so(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="nbcds")
    with running_service(tmp_path, profile="development", require_jwt=False) as svc:
        client = svc.client()
        assert client.discovery(token=None).status == 200
        reply = client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch()), token=None)
        assert_valid_cards_response(reply.json)
    assert any("NOT verified" in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


def test_development_queries_plain_http_fhir_servers(tmp_path: Path, faulty_fhir_server) -> None:
    observations = {"resourceType": "Bundle", "type": "searchset",
                    "entry": [{"resource": r} for r in PATIENT.observations]}
    faulty_fhir_server.route("/fhir/Observation", FhirReply.json(observations))
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch(keys=("patient", "conditions")),
                        fhir_server=faulty_fhir_server.base_url, authorization=fhir_authorization("dev-token"))
    with running_service(tmp_path, profile="development", allow_http_fhir_servers=None) as svc:
        reply = svc.client().call(STAGING, body)
    assert "INRG stage L1" in assert_valid_cards_response(reply.json)["cards"][0]["summary"]
    assert [r.authorization for r in faulty_fhir_server.requests] == ["Bearer dev-token"]


# --------------------------------------------------------------------------- other settings


def test_settings_come_from_nbcds_environment_variables(monkeypatch, tmp_path: Path) -> None:
    _no_env(monkeypatch)
    monkeypatch.setenv("NBCDS_PROFILE", "development")
    monkeypatch.setenv("NBCDS_MAX_REQUEST_BYTES", "12345")
    monkeypatch.setenv("NBCDS_CORS_ALLOWED_ORIGINS", '["https://ehr.example.org"]')
    settings = Settings()
    assert (settings.profile, settings.max_request_bytes, settings.cors_allowed_origins) == (
        "development", 12345, ["https://ehr.example.org"])
    assert not settings.jwt_required and settings.http_fhir_servers_allowed


def test_the_primary_schema_leads_the_summary(tmp_path: Path) -> None:
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    with running_service(tmp_path, primary_schema="inrg2009") as svc:
        summary = assert_valid_cards_response(svc.client().call(STAGING, body).json)["cards"][0]["summary"]
    assert summary.index("INRG group") < summary.index("COG")


def test_service_and_feedback_responses_are_never_cached(tmp_path: Path) -> None:
    with running_service(tmp_path) as svc:
        client = svc.client()
        call = client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch()))
        card = call.json["cards"][0]["uuid"]
        feedback = client.feedback(STAGING, {"feedback": [overridden(card)]})
        refused = client.call(STAGING, hook_request(PATIENT.patient_id))
    assert [r.status for r in (call, feedback, refused)] == [200, 200, 412]
    assert {r.header("Cache-Control") for r in (call, feedback, refused)} == {"no-store"}
