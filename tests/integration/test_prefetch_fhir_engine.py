"""The FHIR fallback against a real FHIR engine (Medplum, in memory, over HTTP)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from cds_service.protocol.prefetch import FetchPolicy, FhirClient, PrefetchRequest, RequestLimits, resolve_prefetch

pytestmark = pytest.mark.integration

PATIENT_ID = "nb-prefetch-1"
PATIENT_REF = f"Patient/{PATIENT_ID}"
TEMPLATES = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&_count=10",
}
OBSERVATION_COUNT = 30
CONTEXT = {"patientId": PATIENT_ID, "userId": "Practitioner/doc-1"}
POLICY = FetchPolicy(deadline_seconds=10.0, read_timeout_seconds=5.0)


def _observation(index: int, patient_ref: str = PATIENT_REF) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"{patient_ref.split('/')[1]}-obs-{index}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
        "subject": {"reference": patient_ref},
        "effectiveDateTime": f"2024-01-{1 + index % 28:02d}",
        "valueQuantity": {"value": index, "unit": "mm"},
    }


RESOURCES = [
    {"resourceType": "Patient", "id": PATIENT_ID, "birthDate": "2023-01-15", "gender": "male"},
    {"resourceType": "Patient", "id": "nb-prefetch-other"},
    *[
        {
            "resourceType": "Condition",
            "id": f"{PATIENT_ID}-dx-{n}",
            "subject": {"reference": PATIENT_REF},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "432328008"}]},
        }
        for n in range(2)
    ],
    *[_observation(i) for i in range(OBSERVATION_COUNT)],
    _observation(0, "Patient/nb-prefetch-other"),
]
OBSERVATION_IDS = {f"{PATIENT_ID}-obs-{i}" for i in range(OBSERVATION_COUNT)}


@pytest.fixture
def client() -> Iterator[FhirClient]:
    with FhirClient() as fhir_client:
        yield fhir_client


@pytest.fixture
def secured_engine(fhir_engine_with_token):
    fhir_engine_with_token.reset()
    fhir_engine_with_token.seed(RESOURCES)
    fhir_engine_with_token.clear_requests()
    return fhir_engine_with_token


def _request(engine, token: str | None, prefetch: dict | None = None) -> PrefetchRequest:
    return PrefetchRequest(context=CONTEXT, prefetch=prefetch, fhir_server=engine.base_url, access_token=token)


def test_all_keys_are_fetched_and_paged_with_the_token(secured_engine, client):
    result = resolve_prefetch(TEMPLATES, _request(secured_engine, secured_engine.token), client, POLICY)

    assert result.status_by_key() == {"patient": "fetched", "conditions": "fetched", "observations": "fetched"}
    assert [r["id"] for r in result["patient"].resources] == [PATIENT_ID]
    assert {r["id"] for r in result["conditions"].resources} == {f"{PATIENT_ID}-dx-0", f"{PATIENT_ID}-dx-1"}
    observations = result["observations"]
    assert observations.pages >= 3
    assert sorted(r["id"] for r in observations.resources) == sorted(OBSERVATION_IDS)  # no duplicates, none lost

    seen = secured_engine.requests_seen()
    observation_requests = [r for r in seen if r["path"].startswith("/fhir/R4/Observation")]
    assert len(observation_requests) == observations.pages
    assert any("_offset=" in r["path"] for r in observation_requests)  # the `next` pages were fetched
    assert len(seen) == 2 + observations.pages
    assert {r["method"] for r in seen} == {"GET"}
    assert {r["authorization"] for r in seen} == {f"Bearer {secured_engine.token}"}  # every page too


def test_a_wrong_token_fails_as_unauthorized(secured_engine, client):
    result = resolve_prefetch(TEMPLATES, _request(secured_engine, "not-the-token"), client, POLICY)
    assert result.status_by_key() == {key: "failed: unauthorized" for key in TEMPLATES}
    assert result.failed_keys() == list(TEMPLATES)
    assert result.all_resources() == []


def test_a_prefetched_first_page_is_paged_by_the_service(secured_engine, client):
    first_page = client.get_resource(
        f"{secured_engine.base_url}/Observation?patient={PATIENT_ID}&_count=10",
        token=secured_engine.token,
        limits=RequestLimits(deadline=time.monotonic() + 10),
    )
    secured_engine.clear_requests()
    prefetch = {"patient": None, "observations": first_page}
    result = resolve_prefetch(TEMPLATES, _request(secured_engine, secured_engine.token, prefetch), client, POLICY)

    assert result.status_by_key() == {"patient": "empty: null", "conditions": "fetched", "observations": "supplied"}
    assert {r["id"] for r in result["observations"].resources} == OBSERVATION_IDS
    assert {r["authorization"] for r in secured_engine.requests_seen()} == {f"Bearer {secured_engine.token}"}


def test_an_open_engine_is_queried_without_a_token_only_when_allowed(fhir_engine, client):
    fhir_engine.reset()
    fhir_engine.seed(RESOURCES)
    fhir_engine.clear_requests()
    refused = resolve_prefetch(TEMPLATES, _request(fhir_engine, None), client, POLICY)
    assert set(refused.status_by_key().values()) == {"failed: token-required"}
    assert fhir_engine.requests_seen() == []

    policy = FetchPolicy(deadline_seconds=10.0, allow_tokenless_servers=(fhir_engine.base_url,))
    result = resolve_prefetch(TEMPLATES, _request(fhir_engine, None), client, policy)
    assert set(result.status_by_key().values()) == {"fetched"}
    assert len(result["observations"].resources) == OBSERVATION_COUNT
    assert {r["authorization"] for r in fhir_engine.requests_seen()} == {None}
