"""The store's ports: the SQL implementations and the in-memory fakes both satisfy them, and agree."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from cds_service.protocol.feedback import parse_feedback
from cds_service.store import (
    AuditLog,
    AuditRecord,
    FeedbackLog,
    IssuedCard,
    Readiness,
    Store,
    StoreUnavailable,
    open_store,
)
from tests.support.store_fakes import InMemoryAuditLog, InMemoryFeedbackLog, InMemoryReadiness

SERVICE = "neuroblastoma-staging"


def test_the_sql_store_and_the_fakes_satisfy_the_ports() -> None:
    with open_store("sqlite://") as store:
        assert isinstance(store.audit, AuditLog) and isinstance(store.feedback, FeedbackLog)
        assert isinstance(store, Readiness)
    fake_audit = InMemoryAuditLog()
    assert isinstance(fake_audit, AuditLog)
    assert isinstance(InMemoryFeedbackLog(fake_audit), FeedbackLog)
    assert isinstance(InMemoryReadiness(), Readiness)


def _sql() -> tuple[AuditLog, FeedbackLog, Store]:
    store = open_store("sqlite://")
    return store.audit, store.feedback, store


def _fake() -> tuple[AuditLog, FeedbackLog, None]:
    audit = InMemoryAuditLog()
    return audit, InMemoryFeedbackLog(audit), None


@pytest.mark.parametrize("make", [_sql, _fake], ids=["sql", "in-memory"])
def test_feedback_is_idempotent_and_linked_to_the_latest_issuance(make) -> None:
    audit, feedback, store = make()
    card = str(uuid.uuid4())
    for hook_instance, minute in (("hook-A", 0), ("hook-B", 5)):
        record = AuditRecord(service_id=SERVICE, received_at=datetime(2025, 1, 1, 9, minute, tzinfo=UTC),
                             ruleset_version="r1", http_status=200, latency_ms=1.0, hook_instance=hook_instance)
        audit.record_call(record, [IssuedCard(card, "work-up")])
    entry = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2025-01-01T10:00:00Z"}
    unknown = {**entry, "card": str(uuid.uuid4())}
    batch = parse_feedback({"feedback": [entry, entry, unknown]}).entries
    first, again = feedback.save(SERVICE, batch), feedback.save(SERVICE, batch[:1])
    assert [(s.created, s.card_known, s.hook_instance, s.card_kind) for s in first] == [
        (True, True, "hook-B", "work-up"), (False, True, "hook-B", "work-up"), (True, False, None, None)]
    assert [s.duplicate for s in again] == [True]
    if store is not None:
        store.dispose()


def test_a_fake_that_is_down_raises_store_unavailable() -> None:
    readiness = InMemoryReadiness()
    readiness.down = True
    with pytest.raises(StoreUnavailable):
        readiness.ping()
