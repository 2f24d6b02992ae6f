"""The staging service fetching what the client did not prefetch, from a real FHIR server over HTTP.

The FHIR server is Medplum's engine in memory (tests/support/fhir_engine.py), seeded with the example
patients' Bundles; the misbehaving cases use tests/support/faulty_fhir_server.py. The service itself
runs under Flask's test client: only its outgoing FHIR requests need a real network.

Spec: CDS Hooks 2.0 § Prefetch (notes P1, P4, P5, P9, P11): absent keys are the service's to fetch,
with `fhirAuthorization.access_token`; 412 when essential data cannot be obtained.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response, issue_text
from tests.cds_service.client_simulator import (
    EPIC,
    ORACLE,
    SANDBOX,
    Service,
    example_names,
    example_patient,
    fhir_authorization,
    hook_request,
    running_service,
)
from tests.cds_service.test_staging_service import check_against_expected
from tests.support.faulty_fhir_server import Reply as FhirReply
from tests.support.faulty_fhir_server import searchset

pytestmark = pytest.mark.integration

STAGING = "neuroblastoma-staging"
EXAMPLES = example_names()
KEYS = ("patient", "conditions", "observations")


@pytest.fixture
def engine(fhir_engine_with_token):
    """The secured engine, emptied; `load(engine, name)` seeds an example patient's Bundle."""
    fhir_engine_with_token.reset()
    return fhir_engine_with_token


def load(engine, *names: str):
    """Seed the examples' Bundles (the engine's searches slow down with every patient held, so only these)."""
    for name in names:
        engine.seed(example_patient(name).transaction())
    engine.clear_requests()
    return example_patient(names[0])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path, fhir_deadline_seconds=10.0, fhir_read_timeout_seconds=5.0) as running:
        yield running


def fallback_body(engine, patient_id: str, prefetch: dict[str, Any] | None, profile=SANDBOX,
                  token: str | None = None) -> dict[str, Any]:
    authorization = fhir_authorization(token or engine.token, profile, patient=patient_id)
    return hook_request(patient_id, prefetch=prefetch, fhir_server=engine.base_url, authorization=authorization)


def fhir_requests(engine) -> list[dict[str, Any]]:
    return [r for r in engine.requests_seen() if r["path"].startswith("/fhir/R4/")]


# --------------------------------------------------------------------------- every example, nothing prefetched


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_with_empty_prefetch_is_fetched_from_the_engine_with_the_token(service, engine, name) -> None:
    patient = load(engine, name)
    profile = (SANDBOX, EPIC, ORACLE)[EXAMPLES.index(name) % 3]
    reply = service.client(profile).call(STAGING, fallback_body(engine, patient.patient_id, {}, profile))
    assert reply.status == 200, reply.body[:500]
    cards = assert_valid_cards_response(reply.json)["cards"]
    check_against_expected(name, cards, patient.patient_id)

    seen = fhir_requests(engine)
    assert sorted(r["path"].split("?")[0] for r in seen) == [
        "/fhir/R4/Condition", "/fhir/R4/Observation", f"/fhir/R4/Patient/{patient.patient_id}"]
    assert {r["method"] for r in seen} == {"GET"}
    assert {r["authorization"] for r in seen} == {f"Bearer {engine.token}"}


def test_fallback_and_prefetch_give_the_same_cards(service, engine) -> None:
    """P8: prefetched data equals what the service gets by running the templates itself (all examples held)."""
    patient = load(engine, "nb-m-toddler-diploid", *(name for name in EXAMPLES if name != "nb-m-toddler-diploid"))
    client = service.client()
    fetched = client.call(STAGING, fallback_body(engine, patient.patient_id, None)).json
    supplied = client.call(STAGING, hook_request(patient.patient_id, prefetch=patient.prefetch())).json
    strip = [{k: v for k, v in card.items() if k not in ("uuid", "suggestions")} for card in fetched["cards"]]
    assert strip == [{k: v for k, v in card.items() if k not in ("uuid", "suggestions")}
                     for card in supplied["cards"]]


def test_a_partial_prefetch_fetches_only_the_missing_keys(service, engine) -> None:
    patient = load(engine, "nb-ms-infant", "nb-ms-toddler")
    body = fallback_body(engine, patient.patient_id, patient.prefetch(keys=("patient", "conditions")))
    reply = service.client().call(STAGING, body)
    check_against_expected("nb-ms-infant", assert_valid_cards_response(reply.json)["cards"], patient.patient_id)
    assert [r["path"].split("?")[0] for r in fhir_requests(engine)] == ["/fhir/R4/Observation"]


def test_null_prefetch_values_are_not_refetched(service, engine) -> None:
    patient = load(engine, "nb-ms-infant")
    body = fallback_body(engine, patient.patient_id, {**patient.prefetch(keys=("conditions", "observations")),
                                                      "patient": None})
    reply = service.client().call(STAGING, body)
    assert reply.status == 200
    assert fhir_requests(engine) == []  # null means "no data", not "please fetch" (P2)


def test_a_prefetched_first_page_is_paged_through_with_the_token(service, engine) -> None:
    patient = load(engine, "nb-l2-11q")
    assert len(patient.observations) > 6
    first_page = requests.get(f"{engine.base_url}/Observation", timeout=10,
                              params={"patient": patient.patient_id, "_count": "3"},
                              headers={"Authorization": f"Bearer {engine.token}",
                                       "Accept": "application/fhir+json"}).json()
    assert any(link["relation"] == "next" for link in first_page["link"])
    engine.clear_requests()
    prefetch = {**patient.prefetch(keys=("patient", "conditions")), "observations": first_page}
    reply = service.client().call(STAGING, fallback_body(engine, patient.patient_id, prefetch))
    check_against_expected("nb-l2-11q", assert_valid_cards_response(reply.json)["cards"], patient.patient_id)
    pages = fhir_requests(engine)
    assert len(pages) >= 2 and all("_offset=" in r["path"] or "_page" in r["path"] for r in pages)
    assert {r["authorization"] for r in pages} == {f"Bearer {engine.token}"}


def test_a_wrong_token_is_401_at_the_fhir_server_and_412_naming_the_keys(service, engine) -> None:
    patient = load(engine, "nb-l1-low")
    body = fallback_body(engine, patient.patient_id, {"patient": patient.patient}, token="expired-access-token")
    reply = service.client().call(STAGING, body)
    assert reply.status == 412
    text = issue_text(assert_operation_outcome(reply.json, code="processing"))
    assert "prefetch.conditions" in text and "prefetch.observations" in text and "prefetch.patient" not in text
    assert "unauthorized" not in text  # the same words for every network failure (the reason is in the log)
    assert "expired-access-token" not in text


def test_an_open_server_is_queried_without_a_token_only_when_allowed(tmp_path: Path, fhir_engine) -> None:
    fhir_engine.reset()
    patient = example_patient("nb-l1-low")
    fhir_engine.seed(patient.transaction())
    body = hook_request(patient.patient_id, fhir_server=fhir_engine.base_url)  # the sandbox on an open server
    with running_service(tmp_path / "closed") as svc:
        refused = svc.client().call(STAGING, body)
    assert refused.status == 412 and "token-required" in issue_text(assert_operation_outcome(refused.json))
    with running_service(tmp_path / "open", allow_tokenless_fhir_servers=[fhir_engine.root_url]) as svc:
        reply = svc.client().call(STAGING, body)
    check_against_expected("nb-l1-low", assert_valid_cards_response(reply.json)["cards"], patient.patient_id)


# --------------------------------------------------------------------------- a misbehaving FHIR server


@pytest.fixture
def faulty_service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path, fhir_deadline_seconds=1.0, fhir_read_timeout_seconds=2.0) as running:
        yield running


def _faulty_call(service: Service, server, patient) -> tuple[Any, float]:
    body = hook_request(patient.patient_id, prefetch=patient.prefetch(keys=("patient", "conditions")),
                        fhir_server=server.base_url, authorization=fhir_authorization("short-lived-token"))
    started = time.monotonic()
    reply = service.client().call(STAGING, body)
    return reply, time.monotonic() - started


NETWORK_FAILURE_DIAGNOSTICS = ("required FHIR data could not be obtained. Send it as prefetch, or a reachable "
                               "fhirServer with fhirAuthorization.")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        pytest.param(FhirReply.json(searchset([]), delay=5.0), "timeout", id="timeout"),
        pytest.param(FhirReply.error(503), "503", id="503-retried-then-412"),
        pytest.param(FhirReply.error(500), "500", id="500"),
        pytest.param(FhirReply.error(401), "unauthorized", id="401"),
        pytest.param(FhirReply.error(403), "forbidden", id="403"),
        pytest.param(FhirReply.json("{not json"), "", id="malformed-json"),
        pytest.param(FhirReply.close(), "", id="connection-closed"),
    ],
)
def test_a_failing_fhir_server_is_412_within_the_deadline(faulty_service, faulty_fhir_server, reply, reason) -> None:
    faulty_fhir_server.route("/fhir/Observation", reply)
    reply, elapsed = _faulty_call(faulty_service, faulty_fhir_server, example_patient("nb-l1-low"))
    assert reply.status == 412
    outcome = assert_operation_outcome(reply.json, code="processing")
    assert "prefetch.observations" in issue_text(outcome)
    # Whatever failed, the same words: a 412 must not tell a closed port from an open one (issue 16).
    assert outcome["issue"][0]["diagnostics"] == NETWORK_FAILURE_DIAGNOSTICS
    assert not reason or reason not in issue_text(outcome)
    assert elapsed < 1.0 + 1.5, elapsed  # the 1 s deadline plus scheduling noise, never the server's 5 s
    assert all(r.authorization == "Bearer short-lived-token" for r in faulty_fhir_server.requests)


def test_a_patient_read_answering_404_means_no_patient_data(faulty_service, faulty_fhir_server) -> None:
    patient = example_patient("nb-ms-infant")
    body = hook_request(patient.patient_id, prefetch=patient.prefetch(keys=("conditions", "observations")),
                        fhir_server=faulty_fhir_server.base_url, authorization=fhir_authorization("tok"))
    reply = faulty_service.client().call(STAGING, body)  # no route: the server answers 404
    cards = assert_valid_cards_response(reply.json)["cards"]
    assert any("dates of birth and diagnosis" in card["summary"] for card in cards)  # the test to do
    assert [r.path for r in faulty_fhir_server.requests] == [f"/fhir/Patient/{patient.patient_id}"]
