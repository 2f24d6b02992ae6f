"""The JWT audience comes from configuration only (issue 16, finding 3).

Before, without ``NBCDS_PUBLIC_BASE_URL`` the audience was the URL the request said it was for: a caller who
set ``Host`` and ``X-Forwarded-Proto`` had a token minted for another service accepted. Now the audience is
``NBCDS_PUBLIC_BASE_URL`` + the path (required in production), or in development the bind port on loopback;
request headers never count. A mismatch is logged at WARNING with what was expected and what arrived.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cds_service.http.app import create_app
from cds_service.settings import Settings
from tests.cds_service.client_simulator import (
    EPIC,
    CdsClient,
    FlaskTransport,
    mint_jwt,
    running_service,
    trusted_issuers_setting,
)

OTHER_SERVICE = "https://other-cds.example.net"  # a service the client also calls, with its own tokens


@pytest.mark.parametrize("headers", [
    {"Host": "other-cds.example.net", "X-Forwarded-Proto": "https"},
    {"X-Forwarded-Host": "other-cds.example.net", "X-Forwarded-Proto": "https"},
    {"Host": "other-cds.example.net", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "other-cds.example.net",
     "X-Forwarded-Port": "443", "X-Forwarded-Prefix": "/"},
], ids=["host", "x-forwarded-host", "all-of-them"])
@pytest.mark.parametrize("public_base_url", [None, "https://localhost"], ids=["no-base-url", "base-url"])
def test_a_token_minted_for_another_service_is_refused_whatever_the_request_headers_say(
        tmp_path: Path, headers: dict[str, str], public_base_url: str | None) -> None:
    with running_service(tmp_path, public_base_url=public_base_url) as svc:
        client = svc.client(EPIC)
        stolen = client.token_for("/cds-services", aud=f"{OTHER_SERVICE}/cds-services")
        reply = client.discovery(token=stolen, headers=headers)
        assert reply.status == 401
        if public_base_url:  # the same request with a token for this service is fine: only the audience decided
            assert client.discovery(token=client.token_for("/cds-services"), headers=headers).status == 200


def test_development_without_a_public_base_url_expects_the_bind_port_on_loopback(tmp_path: Path) -> None:
    settings = Settings(profile="development", require_jwt=True, port=8181, database_url="sqlite://",
                        trusted_issuers=trusted_issuers_setting())
    app = create_app(settings)
    try:
        client = CdsClient(FlaskTransport(app.test_client(), base_url="http://localhost:8181"), EPIC)
        for base in ("http://localhost:8181", "http://127.0.0.1:8181", "http://[::1]:8181"):
            assert client.discovery(token=mint_jwt(f"{base}/cds-services", iss=EPIC.issuer, alg="RS384")).status == 200
        spoofed = {"Host": "other-cds.example.net", "X-Forwarded-Proto": "https"}
        stolen = mint_jwt(f"{OTHER_SERVICE}/cds-services", iss=EPIC.issuer, alg="RS384")
        assert client.discovery(token=stolen, headers=spoofed).status == 401
        assert client.discovery(token=mint_jwt("http://localhost:9999/cds-services", iss=EPIC.issuer,
                                               alg="RS384")).status == 401  # another port: another service
    finally:
        app.extensions["nbcds"].close()


def test_an_audience_mismatch_is_logged_with_what_was_expected_and_what_arrived(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="nbcds")
    with running_service(tmp_path) as svc:
        client = svc.client(EPIC)
        long_aud = "https://ehr-configured.example.org/" + "x" * 5000
        reply = client.discovery(token=client.token_for("/cds-services", aud=[f"{OTHER_SERVICE}/cds-services",
                                                                               long_aud]))
    assert reply.status == 401
    [record] = [r for r in caplog.records if r.getMessage() == "client JWT audience mismatch"]
    assert record.levelno == logging.WARNING
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["client_issuer"] == EPIC.issuer
    assert fields["expected_audience"] == ["https://localhost/cds-services"]
    assert fields["received_audience"][0] == f"{OTHER_SERVICE}/cds-services"
    assert len(fields["received_audience"][1]) <= 201  # bounded, even from a signed token
