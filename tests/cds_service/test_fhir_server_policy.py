"""Which `fhirServer` the service will query: the allow-list and the https rule, compared by origin."""

from __future__ import annotations

import pytest

from cds_service.protocol.fhir_server_policy import permitted_fhir_server
from cds_service.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("allowed", "fhir_server"),
    [
        ("https://ehr.example.org", "https://ehr.example.org:443/fhir/r4"),  # the default port, explicit
        ("https://ehr.example.org:443", "https://ehr.example.org/fhir/r4"),
        ("https://EHR.Example.org/fhir", "https://ehr.example.org/other"),  # case and path do not matter
        ("http://[::1]:8080", "http://[::1]:8080/fhir"),
    ],
)
def test_the_allowlist_compares_origins(allowed: str, fhir_server: str) -> None:
    assert permitted_fhir_server(settings(fhir_server_allowlist=[allowed], allow_http_fhir_servers=True),
                                 fhir_server) == (fhir_server, None)


@pytest.mark.parametrize(
    "fhir_server",
    [
        "https://ehr.example.org:8443/fhir",  # another port
        "http://ehr.example.org/fhir",  # another scheme
        "https://ehr.example.org.evil.example/fhir",
        "https://evil.example/https://ehr.example.org",
    ],
)
def test_other_origins_are_refused(fhir_server: str) -> None:
    server, refusal = permitted_fhir_server(settings(fhir_server_allowlist=["https://ehr.example.org"]), fhir_server)
    assert server is None
    assert refusal is not None and "allow-list" in refusal


@pytest.mark.parametrize(
    "fhir_server",
    ["http://[::1", "http://host:99999/fhir", "ftp://ehr.example.org", "ehr.example.org/fhir",
     "https://user:pw@ehr.example.org/fhir", "https://ehr.example.org/f hir", "", 42],
)
def test_a_fhir_server_that_is_not_a_usable_url_is_refused_cleanly(fhir_server: object) -> None:
    server, refusal = permitted_fhir_server(settings(), fhir_server)
    assert server is None
    assert refusal == "the fhirServer is not an absolute http(s) URL without credentials"


def test_plain_http_only_where_allowed() -> None:
    assert permitted_fhir_server(settings(), "http://ehr.example.org/fhir")[1] == (
        "the fhirServer is not https (required outside the development profile)")
    assert permitted_fhir_server(settings(allow_http_fhir_servers=True), "http://ehr.example.org/fhir")[1] is None
    assert permitted_fhir_server(settings(), "HTTPS://ehr.example.org/fhir")[1] is None


def test_no_fhir_server() -> None:
    assert permitted_fhir_server(settings(), None) == (None, "no fhirServer was given")


def test_an_allowlist_of_nonsense_refuses_everything() -> None:
    nonsense = settings().model_copy(update={"fhir_server_allowlist": ["not a url"]})  # past any validation
    assert permitted_fhir_server(nonsense, "https://ehr.example.org")[0] is None
