"""`POST {base}/cds-services/{id}/feedback` (CDS Hooks 2.0 § Feedback; notes §1.7 F1–F5, §2.1, §4 item 3).

Feedback is sent as the sandbox sends it (accepted with the suggestion uuid; overridden with a reason
Coding that has no display) and as the spec allows (userComment, batches, repeats). Stored feedback
is checked in the store itself, on SQLite and on a real PostgreSQL.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cds_service.cds_hooks_schema import assert_operation_outcome, assert_valid_cards_response, issue_text
from tests.cds_service.client_simulator import (
    EPIC,
    SANDBOX,
    Service,
    accepted,
    example_patient,
    hook_request,
    overridden,
    running_service,
)
from tests.support.store_readers import feedback_records

STAGING = "neuroblastoma-staging"
PATIENT = example_patient("nb-l1-low")
NOT_APPLICABLE = {"system": "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes",
                  "code": "patient-ineligible"}
UNKNOWN_CARD = "0b8f9a8e-3c1d-4e5f-9a7b-123456789abc"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def service(request, tmp_path: Path) -> Iterator[Service]:
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    with running_service(tmp_path, **overrides) as running:
        yield running


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def issued_card(service: Service) -> tuple[str, str, str]:
    """(hookInstance, card uuid, suggestion uuid) of a stage-risk card the service has just issued."""
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    reply = service.client().call(STAGING, body)
    assert reply.status == 200
    card = assert_valid_cards_response(reply.json)["cards"][0]
    return body["hookInstance"], card["uuid"], card["suggestions"][0]["uuid"]


def test_accepted_feedback_is_stored_linked_to_the_issued_card(service: Service) -> None:
    hook_instance, card, suggestion = issued_card(service)
    reply = service.client().feedback(STAGING, {"feedback": [accepted(card, suggestion)]})
    assert reply.status == 200
    assert reply.header("Cache-Control") == "no-store"
    assert reply.json == {"stored": [{"index": 0, "card": card, "status": "stored"}]}
    [record] = feedback_records(service.store, card=card)
    assert record.outcome == "accepted"
    assert record.accepted_suggestions == (suggestion,)
    assert record.card_known and record.hook_instance == hook_instance and record.card_kind == "stage-risk"


def test_overridden_as_the_sandbox_sends_it_without_display(service: Service) -> None:
    _, card, _ = issued_card(service)
    reply = service.client().feedback(STAGING, {"feedback": [overridden(card, NOT_APPLICABLE)]})
    assert reply.status == 200
    [record] = feedback_records(service.store, card=card)
    assert record.outcome == "overridden"
    assert record.override_reason.reason.code == "patient-ineligible"
    assert record.override_reason.reason.display is None


def test_overridden_with_a_comment_only_and_without_any_reason(service: Service) -> None:
    _, card, _ = issued_card(service)
    entries = [overridden(card, comment="Discussed at tumour board", timestamp="2025-06-01T10:00:00Z"),
               overridden(card, timestamp="2025-06-01T10:05:00+02:00")]
    reply = service.client(EPIC).feedback(STAGING, {"feedback": entries})
    assert reply.status == 200
    assert [item["status"] for item in reply.json["stored"]] == ["stored", "stored"]
    assert len(feedback_records(service.store, card=card)) == 2


def test_repeated_feedback_is_stored_once(service: Service) -> None:
    _, card, suggestion = issued_card(service)
    entry = accepted(card, suggestion, timestamp="2025-06-01T10:00:00Z")
    client = service.client()
    first = client.feedback(STAGING, {"feedback": [entry, entry]})
    again = client.feedback(STAGING, {"feedback": [entry]})
    assert [item["status"] for item in first.json["stored"]] == ["stored", "duplicate"]
    assert [item["status"] for item in again.json["stored"]] == ["duplicate"]
    assert len(feedback_records(service.store, card=card)) == 1


def test_a_batch_with_one_bad_entry_is_400_naming_it_while_the_good_ones_are_stored(service: Service) -> None:
    _, card, suggestion = issued_card(service)
    batch = [accepted(card, suggestion, timestamp="2025-06-01T10:00:00Z"),
             {"card": card, "outcome": "ignored", "outcomeTimestamp": "2025-06-01T10:00:00Z"},
             overridden(card, NOT_APPLICABLE, timestamp="2025-06-01T10:01:00Z")]
    reply = service.client().feedback(STAGING, {"feedback": batch})
    assert reply.status == 400
    outcome = assert_operation_outcome(reply.json, code="invalid")
    assert "feedback[1]" in issue_text(outcome)
    assert "feedback[0]" in issue_text(outcome) and "feedback[2]" in issue_text(outcome)  # reported as stored
    assert reply.header("Cache-Control") == "no-store"
    assert sorted(r.outcome for r in feedback_records(service.store, card=card)) == ["accepted", "overridden"]


def test_feedback_for_an_unknown_card_is_stored_and_flagged(service: Service) -> None:
    reply = service.client().feedback(STAGING, {"feedback": [overridden(UNKNOWN_CARD, NOT_APPLICABLE)]})
    assert reply.status == 200
    assert reply.json == {"stored": [{"index": 0, "card": UNKNOWN_CARD, "status": "stored", "cardKnown": False}]}
    [record] = feedback_records(service.store, card=UNKNOWN_CARD)
    assert not record.card_known and record.hook_instance is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({}, "feedback", id="no-feedback-member"),
        pytest.param({"feedback": {"card": UNKNOWN_CARD}}, "feedback", id="feedback-not-array"),
        pytest.param({"feedback": [{"card": "not-a-uuid", "outcome": "overridden",
                                    "outcomeTimestamp": "2025-06-01T10:00:00Z"}]}, "feedback[0]", id="card-not-uuid"),
        pytest.param({"feedback": [{"card": UNKNOWN_CARD, "outcome": "accepted",
                                    "outcomeTimestamp": "2025-06-01T10:00:00Z"}]}, "feedback[0]",
                     id="accepted-without-suggestions"),
        pytest.param({"feedback": [{"card": UNKNOWN_CARD, "outcome": "overridden",
                                    "outcomeTimestamp": "yesterday"}]}, "feedback[0]", id="bad-timestamp"),
        pytest.param({"feedback": [{"card": UNKNOWN_CARD, "outcome": "overridden", "overrideReason": {},
                                    "outcomeTimestamp": "2025-06-01T10:00:00Z"}]}, "feedback[0]",
                     id="empty-override-reason"),
    ],
)
def test_invalid_feedback_is_400(sqlite_service: Service, body, field: str) -> None:
    reply = sqlite_service.client().feedback(STAGING, body)
    assert reply.status == 400
    assert field in issue_text(assert_operation_outcome(reply.json))
    assert feedback_records(sqlite_service.store) == []


def test_feedback_that_is_not_json_is_400(sqlite_service: Service) -> None:
    reply = sqlite_service.client().feedback(STAGING, None, raw=b"card=1")
    assert reply.status == 400
    assert_operation_outcome(reply.json)


def test_feedback_needs_a_token_for_the_feedback_url(sqlite_service: Service) -> None:
    client = sqlite_service.client(SANDBOX)
    body = {"feedback": [overridden(UNKNOWN_CARD)]}
    service_url_token = client.token_for(f"/cds-services/{STAGING}")
    assert client.feedback(STAGING, body, token=service_url_token).status == 401
    assert client.feedback(STAGING, body, token=None).status == 401
    assert feedback_records(sqlite_service.store) == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_feedback_with_the_store_down_is_503_and_cards_are_still_served(tmp_path: Path) -> None:
    down = f"postgresql+psycopg://nbcds@127.0.0.1:{_closed_port()}/nbcds?connect_timeout=2"
    with running_service(tmp_path, database_url=down) as svc:
        client = svc.client()
        call = client.call(STAGING, hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch()))
        assert call.status == 200  # clinical answers do not wait for the audit store
        card = assert_valid_cards_response(call.json)["cards"][0]["uuid"]
        reply = client.feedback(STAGING, {"feedback": [overridden(card, NOT_APPLICABLE)]})
        assert reply.status == 503
        assert_operation_outcome(reply.json, code="transient")
        assert reply.header("Cache-Control") == "no-store"
        ready = svc.app.test_client().get("/readyz")
        assert ready.status_code == 503
