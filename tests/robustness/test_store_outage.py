"""Failing neighbour: the PostgreSQL store goes away and comes back, during service and feedback calls.

A real PostgreSQL (tests/support/postgres.py) is stopped and restarted under a running app:

- service calls keep answering with valid cards (the audit record is skipped and logged);
- feedback answers 503 with an OperationOutcome ("nothing was stored, retry later") while it is down;
- /readyz is 503 while it is down and 200 once it is back, without restarting the app;
- nothing acknowledged is lost: every entry acknowledged before, and every entry acknowledged after
  (including the retries of those refused during the outage), is in the store, exactly once.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings

from cds_service.http.app import create_app
from cds_service.store import open_store
from tests.cds_service.cds_hooks_schema import assert_operation_outcome
from tests.robustness.contract import (
    EXAMPLE_REQUESTS,
    assert_feedback_contract,
    assert_service_contract,
    example_request,
    robustness_settings,
)
from tests.robustness.hostile import encode, feedback_body, mutated
from tests.support.postgres import PostgresServer
from tests.support.store_readers import feedback_records

pytestmark = pytest.mark.integration

STAGING = "/cds-services/neuroblastoma-staging"
FEEDBACK = f"{STAGING}/feedback"


@pytest.fixture
def app(postgres_url: str) -> Iterator[Flask]:
    yield create_app(robustness_settings(postgres_url))


def call(client: FlaskClient, name: str) -> list[dict[str, Any]]:
    body = dict(example_request(name), hookInstance=str(uuid.uuid4()))
    response = client.post(STAGING, json=body)
    assert response.status_code == 200, response.get_data()
    return assert_service_contract(200, response.get_data())["cards"]


_clock = iter(range(10**6))


def feedback_for(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per card, each with its own timestamp (so each is a new entry, not a duplicate)."""
    entries = []
    for card in cards:
        when = (datetime(2025, 6, 1, tzinfo=UTC) + timedelta(seconds=next(_clock))).isoformat().replace("+00:00", "Z")
        suggestions = card.get("suggestions", [])
        if suggestions:
            entries.append({"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": when,
                            "acceptedSuggestions": [{"id": suggestions[0]["uuid"]}]})
        else:
            entries.append({"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": when,
                            "overrideReason": {"userComment": "reviewed at the tumour board"}})
    return entries


def send_feedback(client: FlaskClient, entries: list[dict[str, Any]]) -> tuple[int, Any]:
    response = client.post(FEEDBACK, data=json.dumps({"feedback": entries}), content_type="application/json")
    return response.status_code, assert_feedback_contract(response.status_code, response.get_data(),
                                                          allowed={200, 503})


def stored_keys(postgres_url: str) -> list[tuple[str, str, str]]:
    store = open_store(postgres_url)
    try:
        return [(r.card, r.outcome, r.outcome_timestamp.isoformat()) for r in feedback_records(store, limit=100_000)]
    finally:
        store.dispose()


def entry_key(entry: dict[str, Any]) -> tuple[str, str, str]:
    when = datetime.fromisoformat(entry["outcomeTimestamp"].replace("Z", "+00:00")).astimezone(UTC)
    return entry["card"], entry["outcome"], when.isoformat()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_the_store_going_away_and_coming_back(app: Flask, postgres_server: PostgresServer, postgres_url: str,
                                              mode: str) -> None:
    client = app.test_client()
    acknowledged: list[dict[str, Any]] = []
    assert client.get("/readyz").status_code == 200

    for name in EXAMPLE_REQUESTS:  # before the outage
        entries = feedback_for(call(client, name))
        status, body = send_feedback(client, entries)
        assert status == 200 and {item["status"] for item in body["stored"]} == {"stored"}
        acknowledged += entries

    postgres_server.stop(mode)
    refused: list[dict[str, Any]] = []
    try:
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200
        for name in EXAMPLE_REQUESTS:  # during: cards still come, feedback is refused clearly
            started = time.monotonic()
            cards = call(client, name)
            assert time.monotonic() - started < 5, "a service call waited for the missing database"
            entries = feedback_for(cards)
            status, body = send_feedback(client, entries)
            assert status == 503
            outcome = assert_operation_outcome(body, code="transient")
            assert "nothing was stored" in outcome["issue"][0]["diagnostics"]
            refused += entries
        assert client.get("/readyz").status_code == 503
    finally:
        postgres_server.start()

    assert client.get("/readyz").status_code == 200
    status, body = send_feedback(client, refused)  # the client retries what was refused
    assert status == 200 and len(body["stored"]) == len(refused)
    acknowledged += refused
    for name in EXAMPLE_REQUESTS:  # after
        entries = feedback_for(call(client, name))
        status, _ = send_feedback(client, entries)
        assert status == 200
        acknowledged += entries

    stored = stored_keys(postgres_url)
    assert len(stored) == len(set(stored)), "an entry was stored twice"
    assert sorted(stored) == sorted(entry_key(e) for e in acknowledged), "acknowledged feedback was lost"


def test_feedback_text_postgresql_cannot_store_is_a_400_not_a_503(app: Flask) -> None:
    """A NUL character is valid JSON but PostgreSQL text cannot hold it: the entry is invalid, not 'retry later'."""
    client = app.test_client()
    cards = call(client, EXAMPLE_REQUESTS[0])
    entry = {"card": cards[0]["uuid"], "outcome": "overridden", "outcomeTimestamp": "2025-06-01T10:00:00Z",
             "overrideReason": {"userComment": "a\u0000b"}}
    response = client.post(FEEDBACK, data=json.dumps({"feedback": [entry]}), content_type="application/json")
    assert response.status_code == 400, response.get_data()
    assert_feedback_contract(400, response.get_data())


@pytest.fixture(scope="module")
def postgres_app(postgres_server: PostgresServer) -> Iterator[Flask]:
    if not postgres_server.is_running():
        postgres_server.start()
    database = postgres_server.create_database()
    yield create_app(robustness_settings(postgres_server.url_for(database)))
    if not postgres_server.is_running():
        postgres_server.start()
    postgres_server.drop_database(database)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated(feedback_body("8a121ac0-d75e-58d0-b7ec-d735f8812d6a", "0ac3811c-3572-50d5-962d-b81442084db9")))
def test_mutated_feedback_on_postgresql_is_never_a_503_or_500(postgres_app: Flask,
                                                               case: tuple[dict[str, Any], list[str]]) -> None:
    """Whatever a client sends, a healthy PostgreSQL store answers 200 or 400: 503 means "the store is down"."""
    document, _ = case
    response = postgres_app.test_client().post(FEEDBACK, data=encode(document), content_type="application/json")
    assert_feedback_contract(response.status_code, response.get_data())


def test_the_store_asks_postgresql_for_synchronous_commits(postgres_url: str) -> None:
    """Acknowledged means written: a server configured with synchronous_commit=off (as the test server is)
    lost acknowledged feedback on a crash (`pg_ctl stop -m immediate`) until the store asked for it per session."""
    store = open_store(postgres_url)
    try:
        with store.read() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        store.dispose()
