"""Discovery (`GET {base}/cds-services`): generated from the declarations, spec-clean, prefetch in the subset.

Spec: CDS Hooks 2.0 § Discovery (notes §1.2 D1–D3), § Prefetch template (P6, P7).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from cds_service.http.app import create_app
from cds_service.protocol.registry import ServiceAnswer, ServiceRegistry
from tests.cds_service.cds_hooks_schema import assert_valid_discovery
from tests.cds_service.client_simulator import (
    EPIC,
    ORACLE,
    SANDBOX,
    CdsClient,
    FlaskTransport,
    Service,
    running_service,
    service_settings,
)

STAGING = "neuroblastoma-staging"
RESECTION = "neuroblastoma-resection-check"
RESECTION_SELECT = "neuroblastoma-resection-check-select"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


@pytest.fixture
def discovered(service: Service) -> dict:
    reply = service.client().discovery()
    assert reply.status == 200
    return assert_valid_discovery(reply.json)


def test_discovery_lists_our_services_with_their_hooks(discovered: dict) -> None:
    hooks = {entry["id"]: entry["hook"] for entry in discovered["services"]}
    assert hooks == {STAGING: "patient-view", f"{STAGING}-compact": "patient-view", RESECTION: "order-sign",
                     RESECTION_SELECT: "order-select"}


@pytest.mark.parametrize("profile", [SANDBOX, EPIC, ORACLE], ids=lambda p: p.name)
def test_every_client_style_can_discover(service: Service, profile) -> None:
    reply = service.client(profile).discovery()
    assert reply.status == 200
    assert_valid_discovery(reply.json)
    assert reply.header("Content-Type").startswith("application/json")


def test_discovery_is_generated_from_the_declarations(tmp_path: Path) -> None:
    """Another registry gives another discovery document: nothing is written twice."""
    registry = ServiceRegistry()

    @registry.service(id="probe", hook="patient-view", title="Probe", description="A probe service.",
                      prefetch={"patient": "Patient/{{context.patientId}}"}, usage_requirements="None.")
    def probe(call) -> ServiceAnswer:  # pragma: no cover - never called
        return ServiceAnswer(cards=())

    app = create_app(service_settings(tmp_path), registry)
    reply = CdsClient(FlaskTransport(app.test_client())).discovery()
    assert reply.status == 200
    assert assert_valid_discovery(reply.json) == {"services": [{
        "hook": "patient-view", "id": "probe", "title": "Probe", "description": "A probe service.",
        "prefetch": {"patient": "Patient/{{context.patientId}}"}, "usageRequirements": "None.",
    }]}


def test_usage_requirements_name_the_scopes_needed(discovered: dict) -> None:
    for entry in discovered["services"]:
        requirements = entry["usageRequirements"]
        assert "patient/*.read" in requirements or "patient/*.rs" in requirements, requirements


# --------------------------------------------------------------------------- prefetch templates

# The RECOMMENDED query subset (notes P7): instance read; type search with reference, token (OR by comma,
# optional :in), date (eq/lt/gt/ge/le) parameters; _count and _sort.
_TOKEN = re.compile(r"\{\{[^{}]*\}\}")
_ALLOWED_TOKENS = {"{{context.patientId}}", "{{context.userId}}", "{{context.encounterId}}",
                   "{{userPractitionerId}}", "{{userPractitionerRoleId}}", "{{userPatientId}}",
                   "{{userRelatedPersonId}}"}
_REFERENCE_PARAMS = {"patient", "subject", "encounter"}
_TOKEN_PARAMS = {"code", "category", "clinical-status", "verification-status", "status"}
_DATE_PARAMS = {"date", "onset-date", "recorded-date"}
_DATE_VALUE = re.compile(r"^(eq|lt|gt|ge|le)?(\d{4}(-\d{2}(-\d{2})?)?|\{\{[^{}]+\}\})$")
_TOKEN_VALUE = re.compile(r"^[^,|\s]+\|[^,|\s]+$")


def _templates(discovered: dict) -> list[tuple[str, str, str]]:
    return [(entry["id"], key, template) for entry in discovered["services"]
            for key, template in entry.get("prefetch", {}).items()]


def _check_in_recommended_subset(template: str) -> None:
    tokens = set(_TOKEN.findall(template))
    assert tokens <= _ALLOWED_TOKENS, f"tokens outside 2.0 (no nested paths, no FHIRPath): {tokens - _ALLOWED_TOKENS}"
    path, _, query = template.partition("?")
    segments = path.split("/")
    assert re.fullmatch(r"[A-Z][A-Za-z]+", segments[0]), f"must start with a resource type: {template}"
    if not query:
        assert len(segments) == 2 and segments[1] in _ALLOWED_TOKENS, f"an instance read: {template}"
        return
    assert len(segments) == 1, f"a type search: {template}"
    for name, value in parse_qsl(query, keep_blank_values=True):
        base, _, modifier = name.partition(":")
        if base in _REFERENCE_PARAMS:
            assert not modifier and value in _ALLOWED_TOKENS, f"reference parameter {name}={value}"
        elif base in _TOKEN_PARAMS:
            assert modifier in ("", "in"), f"token modifier :{modifier}"
            if modifier == "in":  # the value is a ValueSet's canonical URL
                assert re.fullmatch(r"https://[A-Za-z0-9.\-]+(/[A-Za-z0-9.\-]+)+", value), f"{name}={value}"
            else:
                assert all(_TOKEN_VALUE.match(v) for v in value.split(",")), f"token values system|code: {value}"
        elif base in _DATE_PARAMS:
            assert _DATE_VALUE.match(value), f"date parameter {name}={value}"
        elif base == "_count":
            assert value.isdigit()
        elif base == "_sort":
            assert re.fullmatch(r"-?[a-z][a-z-]*(,-?[a-z][a-z-]*)*", value), f"_sort={value}"
        else:
            pytest.fail(f"parameter {name} is outside the recommended prefetch subset ({template})")


def test_prefetch_templates_use_only_the_recommended_query_subset(discovered: dict) -> None:
    templates = _templates(discovered)
    assert templates
    for service_id, key, template in templates:
        try:
            _check_in_recommended_subset(template)
        except AssertionError as error:
            raise AssertionError(f"{service_id} prefetch.{key}: {error}") from None


def test_prefetch_templates_only_use_tokens_each_hook_provides(discovered: dict) -> None:
    """patient-view gives patientId/userId/encounterId; the order hooks the same (their prefetch tokens)."""
    for entry in discovered["services"]:
        for template in entry.get("prefetch", {}).values():
            assert "{{context.patientId}}" in template


def test_staging_prefetch_asks_for_patient_conditions_and_observations(discovered: dict) -> None:
    staging = next(entry for entry in discovered["services"] if entry["id"] == STAGING)
    prefetch = staging["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert urlsplit(prefetch["conditions"]).path == "Condition"
    observations = dict(parse_qsl(urlsplit(prefetch["observations"]).query))
    assert observations["patient"] == "{{context.patientId}}"
    assert len(observations["code"].split(",")) > 10  # only the codes the rules read, not every lab result


def test_discovery_may_be_cached_briefly_and_has_cors(service: Service) -> None:
    reply = service.client().discovery()
    cache_control = reply.header("Cache-Control") or ""
    assert "no-store" in cache_control or re.search(r"max-age=(\d+)", cache_control)
    assert reply.header("Access-Control-Allow-Origin") in ("*", "http://localhost:8080")


def test_a_trailing_slash_on_the_discovery_url_still_finds_discovery(service: Service) -> None:
    """The sandbox calls the discovery URL as typed; with a trailing slash, `aud` carries it too (§2.1)."""
    client = service.client()
    path = "/cds-services/"
    reply = client.transport.send("GET", path, {"Authorization": f"Bearer {client.token_for(path)}"}, None)
    assert reply.status == 200
    assert_valid_discovery(reply.json)


# --------------------------------------------------------------------------- the schema catches what it must

_ENTRY = {"hook": "patient-view", "id": "probe", "title": "Probe", "description": "A probe."}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"services": []}, id="no-services"),
        pytest.param({}, id="no-services-member"),
        pytest.param({"services": [{k: v for k, v in _ENTRY.items() if k != "hook"}]}, id="no-hook"),
        pytest.param({"services": [{k: v for k, v in _ENTRY.items() if k != "description"}]}, id="no-description"),
        pytest.param({"services": [{**_ENTRY, "id": "a/b"}]}, id="id-not-a-path-segment"),
        pytest.param({"services": [{**_ENTRY, "prefetch": {}}]}, id="empty-prefetch"),
        pytest.param({"services": [{**_ENTRY, "prefetch": {"p": ""}}]}, id="empty-template"),
        pytest.param({"services": [{**_ENTRY, "usageRequirements": ""}]}, id="empty-usage-requirements"),
        pytest.param({"services": [{**_ENTRY, "name": "pre-1.0"}]}, id="unknown-member"),
        pytest.param({"services": [_ENTRY, _ENTRY]}, id="duplicate-ids"),
    ],
)
def test_the_discovery_schema_rejects_what_the_spec_forbids(body: dict) -> None:
    with pytest.raises(AssertionError):
        assert_valid_discovery(body)
