"""The feedback and audit store against real databases: a SQLite file and a real PostgreSQL server.

PostgreSQL comes from tests/support/postgres.py (`postgres_url`: a fresh database per test).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cds_service.protocol.feedback import parse_feedback
from cds_service.protocol.override_reasons import REASON_DISPLAYS
from cds_service.store import (
    AuditRecord,
    FeedbackEntry,
    IssuedCard,
    SchemaVersionError,
    Store,
    StoreError,
    StoreUnavailable,
    open_store,
    override_report,
    render_report,
)
from cds_service.store.migrate import head_revision
from cds_service.store.tables import audit_log, cards, feedback
from tests.support.postgres import PostgresServer
from tests.support.store_readers import audit_records, feedback_records, issued_cards, schema_revision

pytestmark = pytest.mark.integration

SERVICE = "nb-staging"
REASON_SYSTEM = "https://fhir.hospital.example/CodeSystem/override-reason"
NON_ADHERENCE = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
SECRET_COMMENT = "Jane Doe (MRN 987654) was staged at another centre"


def new_uuid() -> str:
    return str(uuid.uuid4())


def accepted(card: str, suggestion: str, when: str = "2024-03-01T10:15:30Z") -> dict[str, Any]:
    return {
        "card": card,
        "outcome": "accepted",
        "acceptedSuggestions": [{"id": suggestion}],
        "outcomeTimestamp": when,
    }


def overridden(
    card: str,
    code: str | None = None,
    comment: str | None = None,
    display: str | None = None,
    when: str = "2024-03-01T10:16:00Z",
) -> dict[str, Any]:
    entry: dict[str, Any] = {"card": card, "outcome": "overridden", "outcomeTimestamp": when}
    reason: dict[str, Any] = {}
    if code is not None:
        reason["reason"] = {"code": code, "system": REASON_SYSTEM}
        if display is not None:
            reason["reason"]["display"] = display
    if comment is not None:
        reason["userComment"] = comment
    if reason:
        entry["overrideReason"] = reason
    return entry


def entries(*raw: dict[str, Any]) -> list[FeedbackEntry]:
    batch = parse_feedback({"feedback": list(raw)})
    assert batch.errors == []
    return batch.entries


def audit(**overrides: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "service_id": SERVICE,
        "received_at": datetime(2024, 3, 1, 10, 15, 0, 123456, tzinfo=UTC),
        "ruleset_version": "inrgss-2009+cog-2021.1",
        "http_status": 200,
        "latency_ms": 12.5,
        "hook_instance": new_uuid(),
        "hook": "patient-view",
        "inputs_digest": hashlib.sha256(b"inputs").hexdigest(),
        "patient_ref": "Patient/nb-test-1",
        "results": {
            "stages": {"inrgss": {"stage": "L2", "candidates": ["L2", "M"]}},
            "risks": {"inrg2009": {"risk": "intermediate", "group": "H"}, "cog2021": {"risk": "intermediate"}},
        },
        "card_uuids": (new_uuid(), new_uuid()),
        "prefetch": {
            "patient": "supplied",
            "conditions": "fetched",
            "observations": "skipped",
            "mibg": "empty",
        },
    }
    values.update(overrides)
    return AuditRecord(**values)


def issue(store: Store, hook_instance: str, service_id: str, issued: Iterable[IssuedCard],
          created_at: datetime | None = None) -> None:
    """Record a call of `hook_instance` that issued these cards (the way cards get into the store)."""
    store.audit.record_call(audit(hook_instance=hook_instance, service_id=service_id,
                                  received_at=created_at or datetime.now(UTC)), issued)


def count(store: Store, table: sa.Table) -> int:
    with store.database.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = open_store(db_url)
    yield opened
    opened.dispose()


# --------------------------------------------------------------------------------------------
# Schema


def test_schema_is_created_at_the_newest_revision(store: Store) -> None:
    assert schema_revision(store.database.engine) == head_revision()
    tables = set(sa.inspect(store.database.engine).get_table_names())
    assert {"alembic_version", "cards", "feedback", "audit_log"} <= tables
    assert "schema_version" not in tables
    store.ping()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.sqlite3'}") as store:
        with store.database.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert (tmp_path / "sub" / "dir" / "x.sqlite3").exists()


def test_opening_twice_is_harmless(db_url: str) -> None:
    with open_store(db_url), open_store(db_url) as second:
        assert schema_revision(second.database.engine) == head_revision()
        with second.database.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1


def _set_revision(db_url: str, revision: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :revision"), {"revision": revision})
    finally:
        engine.dispose()


def test_a_newer_revision_is_refused(db_url: str) -> None:
    open_store(db_url).dispose()
    _set_revision(db_url, "0099_from_the_future")
    with pytest.raises(SchemaVersionError, match=r"revision '0099_from_the_future'.*newer release"):
        open_store(db_url)
    lazy = open_store(db_url, initialize=False)
    try:
        with pytest.raises(SchemaVersionError):
            lazy.ping()
        with pytest.raises(SchemaVersionError):
            lazy.feedback.save(SERVICE, entries(overridden(new_uuid(), "not-applicable")))
    finally:
        lazy.dispose()


def test_a_newer_revision_is_refused_before_anything_is_created(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('ffff0000')"))
        with pytest.raises(SchemaVersionError):
            open_store(db_url)
        assert not sa.inspect(engine).has_table("feedback")
    finally:
        engine.dispose()


def test_bad_urls_are_value_errors() -> None:
    for url in ("mysql://x/y", "not a url", "postgresql+asyncpg://u@h/db"):
        with pytest.raises(ValueError, match=r"."):
            open_store(url)


# --------------------------------------------------------------------------------------------
# Feedback


def test_same_entry_twice_is_stored_once(store: Store) -> None:
    card, suggestion = new_uuid(), new_uuid()
    issue(store, "hook-1", SERVICE, [IssuedCard(card, "stage-risk", (suggestion,))])
    batch = entries(accepted(card, suggestion))

    first = store.feedback.save(SERVICE, batch)
    second = store.feedback.save(SERVICE, batch)

    assert [s.created for s in first] == [True]
    assert [s.duplicate for s in second] == [True]
    assert first[0].idempotency_key == second[0].idempotency_key
    assert count(store, feedback) == 1


def test_duplicates_within_one_batch_and_offset_spellings(store: Store) -> None:
    card, suggestion = new_uuid(), new_uuid()
    batch = entries(
        accepted(card, suggestion, "2024-03-01T10:15:30Z"),
        accepted(card, suggestion, "2024-03-01T11:15:30+01:00"),  # the same instant
        accepted(card.upper(), suggestion, "2024-03-01T10:15:30.000Z"),  # same card, same instant
        overridden(card, "not-applicable", when="2024-03-01T10:15:30Z"),  # a different entry
    )
    saved = store.feedback.save(SERVICE, batch)
    assert [s.created for s in saved] == [True, False, False, True]
    assert [s.index for s in saved] == [0, 1, 2, 3]
    assert count(store, feedback) == 2


def test_feedback_on_unknown_card_is_stored_and_flagged(store: Store) -> None:
    unknown = new_uuid()
    (saved,) = store.feedback.save(SERVICE, entries(overridden(unknown, "not-applicable")))
    assert saved.created
    assert not saved.card_known
    assert saved.hook_instance is None
    (row,) = feedback_records(store, card=unknown)
    assert row.card_known is False
    assert row.hook_instance is None
    assert row.card_kind is None


def test_card_issued_by_another_service_is_unknown_here(store: Store) -> None:
    card = new_uuid()
    issue(store, "hook-x", "other-service", [IssuedCard(card, "work-up")])
    (saved,) = store.feedback.save(SERVICE, entries(overridden(card, comment="n/a")))
    assert not saved.card_known


def test_feedback_is_linked_to_card_and_hook_instance(store: Store) -> None:
    stage_card, workup_card, suggestion = new_uuid(), new_uuid(), new_uuid()
    t0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    issue(store, "hook-A", SERVICE,
          [IssuedCard(stage_card, "stage-risk", (suggestion,)), IssuedCard(workup_card, "work-up")], created_at=t0)
    # The same card uuid re-issued by a later hook instance: feedback links to the latest issuance.
    issue(store, "hook-B", SERVICE, [IssuedCard(workup_card, "work-up")], created_at=t0 + timedelta(minutes=5))
    # Recording the same cards again is a no-op.
    issue(store, "hook-B", SERVICE, [IssuedCard(workup_card, "work-up")])
    assert issued_cards(store, "hook-B") == [IssuedCard(workup_card, "work-up")]
    assert issued_cards(store, "hook-A") == [
        IssuedCard(stage_card, "stage-risk", (suggestion,)),
        IssuedCard(workup_card, "work-up"),
    ]

    saved = store.feedback.save(
        SERVICE, entries(accepted(stage_card, suggestion), overridden(workup_card, "already-done"))
    )
    assert [(s.card_known, s.hook_instance, s.card_kind) for s in saved] == [
        (True, "hook-A", "stage-risk"),
        (True, "hook-B", "work-up"),
    ]
    (stage_row,) = feedback_records(store, hook_instance="hook-A")
    assert stage_row.card == stage_card
    assert stage_row.accepted_suggestions == (suggestion,)
    assert stage_row.outcome_timestamp == datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)
    with store.database.engine.connect() as conn:
        linked = conn.execute(
            sa.select(cards.c.hook_instance, cards.c.card_uuid)
            .join(feedback, feedback.c.card_id == cards.c.id)
            .order_by(feedback.c.id)
        ).all()
    assert [tuple(r) for r in linked] == [("hook-A", stage_card), ("hook-B", workup_card)]


def test_override_reason_and_comment_round_trip(store: Store) -> None:
    card = new_uuid()
    store.feedback.save(SERVICE, entries(overridden(card, "not-applicable", "free text", "Not applicable")))
    (row,) = feedback_records(store, card=card)
    assert row.outcome == "overridden"
    assert row.override_reason is not None
    assert row.override_reason.reason is not None
    assert (row.override_reason.reason.code, row.override_reason.reason.display) == (
        "not-applicable",
        "Not applicable",
    )
    assert row.override_reason.user_comment == "free text"


# --------------------------------------------------------------------------------------------
# Audit


def test_audit_round_trip(store: Store) -> None:
    record = audit()
    minimal = audit(
        http_status=401,
        hook_instance=None,
        hook=None,
        inputs_digest=None,
        patient_ref=None,
        results={},
        card_uuids=(),
        prefetch={},
    )
    store.audit.record_call(record)
    store.audit.record_call(minimal)
    assert audit_records(store) == [record, minimal]
    assert audit_records(store, hook_instance=record.hook_instance) == [record]
    (back,) = audit_records(store, hook_instance=record.hook_instance)
    assert back.received_at.tzinfo is not None
    assert back.received_at == datetime(2024, 3, 1, 10, 15, 0, 123456, tzinfo=UTC)
    assert dict(back.prefetch) == dict(record.prefetch)


@pytest.mark.parametrize(
    "overrides",
    [
        {"patient_ref": "Jane Doe"},
        {"inputs_digest": "not-a-digest"},
        {"inputs_digest": hashlib.sha256(b"x").hexdigest().upper()},
        {"prefetch": {"patient": "ok"}},
        {"prefetch": {"patient name": "supplied"}},
        {"received_at": datetime(2024, 3, 1, 10, 15)},
        {"http_status": 99},
        {"http_status": True},
        {"latency_ms": -1},
        {"latency_ms": float("nan")},
        {"card_uuids": ("not-a-uuid",)},
        {"card_uuids": "0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b"},
        {"results": {"stages": {"inrgss": {"stage": "L2", "candidates": "L2"}}}},
        {"results": {"stages": {"inrgss": {"stage": "x" * 33}}}},
        {"results": {"stages": {"inrgss": {"candidates": [f"S{n}" for n in range(17)]}}}},
        {"results": {"risks": {"cog2021": {"risk": "low", "note": "free text"}}}},
        {"results": {"risks": {"cog 2021": {"risk": "low"}}}},
        {"results": {"risks": {"cog2021": {"group": "Jane Doe, MRN 987654"}}}},
        {"results": {"risks": {f"schema{n}": {} for n in range(17)}}},
        {"results": {"stages": {}, "risks": {}, "comment": "free text"}},
        {"prefetch": {f"key{n}": "supplied" for n in range(65)}},
        {"ruleset_version": "x" * 65},
        {"hook": "patient view"},
        {"prefetch": {"Jane Doe": "supplied"}},
        {"results": {"risks": {"Jane Doe MRN 987654": {"risk": "low"}}}},
        {"hook_instance": "x" * 129},
        {"hook_instance": "line\nbreak"},
        {"patient_ref": "Bearer eyJhbGciOi.J9"},
        {"service_id": ""},
    ],
    ids=repr,
)
def test_audit_record_accepts_no_free_text(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r".") as raised:
        audit(**overrides)
    for planted in ("Jane", "Bearer", "free text", "MRN"):  # the refusal does not repeat what it refused
        assert planted not in str(raised.value)


# --------------------------------------------------------------------------------------------
# Durability and availability


def test_everything_survives_a_restart(db_url: str) -> None:
    card, suggestion = new_uuid(), new_uuid()
    batch = entries(accepted(card, suggestion), overridden(new_uuid(), comment="c"))
    record = audit(hook_instance="hook-1")
    store = open_store(db_url)
    store.audit.record_call(record, [IssuedCard(card, "stage-risk", (suggestion,))])
    store.feedback.save(SERVICE, batch)
    store.dispose()
    del store

    reopened = open_store(db_url)
    try:
        assert issued_cards(reopened, "hook-1") == [IssuedCard(card, "stage-risk", (suggestion,))]
        assert len(feedback_records(reopened)) == 2
        assert audit_records(reopened) == [record]
        assert [s.duplicate for s in reopened.feedback.save(SERVICE, batch)] == [True, True]
    finally:
        reopened.dispose()


def test_sqlite_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory.sqlite3"
    directory.mkdir()
    with pytest.raises(StoreUnavailable):
        open_store(f"sqlite:///{directory}")
    lazy = open_store(f"sqlite:///{directory}", initialize=False)
    try:
        with pytest.raises(StoreUnavailable):
            lazy.ping()
    finally:
        lazy.dispose()


def test_postgres_outage_is_store_unavailable_and_recovers(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    store = open_store(postgres_url)
    try:
        before = entries(overridden(new_uuid(), "not-applicable"))
        store.feedback.save(SERVICE, before)
        store.ping()

        postgres_server.stop()
        with pytest.raises(StoreUnavailable):
            store.ping()
        with pytest.raises(StoreUnavailable):
            store.feedback.save(SERVICE, entries(overridden(new_uuid(), comment="x")))
        with pytest.raises(StoreUnavailable):
            store.audit.record_call(audit())
        with pytest.raises(StoreUnavailable):
            open_store(postgres_url)
        not_yet_ready = open_store(postgres_url, initialize=False)  # a service may start anyway
        with pytest.raises(StoreUnavailable):
            not_yet_ready.ping()

        postgres_server.start()
        store.ping()
        not_yet_ready.ping()
        not_yet_ready.dispose()
        assert [s.duplicate for s in store.feedback.save(SERVICE, before)] == [True]
        store.audit.record_call(audit())
        assert len(audit_records(store)) == 1
        assert len(feedback_records(store)) == 1
    finally:
        store.dispose()


# --------------------------------------------------------------------------------------------
# Several processes writing at once (gunicorn workers)


def _worker(url: str, worker: int, shared_cards: list[str], rounds: int) -> list[bool]:
    store = open_store(url)
    created: list[bool] = []
    try:
        for round_ in range(rounds):
            card = shared_cards[round_ % len(shared_cards)]
            # Every worker's call of round r has the hook instance hook-r: each card row is stored once.
            store.audit.record_call(audit(hook_instance=f"hook-{round_}"), [IssuedCard(card, "stage-risk")])
            saved = store.feedback.save(SERVICE, entries(overridden(card, "not-applicable")))
            created.extend(s.created for s in saved)
    finally:
        store.dispose()
    return created


def test_several_processes_write_concurrently(db_url: str) -> None:
    workers, rounds = 4, 25
    shared_cards = [new_uuid() for _ in range(5)]
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(
            pool.map(
                _worker, [db_url] * workers, range(workers), [shared_cards] * workers, [rounds] * workers
            )
        )
    created = [flag for result in results for flag in result]
    assert len(created) == workers * rounds
    assert sum(created) == len(shared_cards)  # each distinct entry stored exactly once
    with open_store(db_url) as store:
        assert count(store, feedback) == len(shared_cards)
        assert count(store, audit_log) == workers * rounds
        assert count(store, cards) == min(rounds, len(shared_cards) * rounds)
        assert all(row.card_known for row in feedback_records(store))


# --------------------------------------------------------------------------------------------
# Report


def test_override_report_counts_each_card_once_with_its_latest_outcome(store: Store) -> None:
    stage_cards = [new_uuid() for _ in range(4)]
    missing_cards = [new_uuid() for _ in range(2)]
    suggestion = new_uuid()
    issue(store, "hook-1", SERVICE, [IssuedCard(c, "stage-risk", (suggestion,)) for c in stage_cards])
    issue(store, "hook-1", SERVICE, [IssuedCard(c, "missing-data") for c in missing_cards])
    issue(store, "hook-2", SERVICE, [IssuedCard(new_uuid(), "work-up")])
    store.feedback.save(
        SERVICE,
        entries(
            accepted(stage_cards[0], suggestion),
            accepted(stage_cards[1], suggestion),
            accepted(stage_cards[2], suggestion),
            overridden(stage_cards[3], "not-applicable", SECRET_COMMENT),
            overridden(missing_cards[0], "not-applicable", display="Not applicable"),
            overridden(missing_cards[1], "data-elsewhere"),
            overridden(missing_cards[1], comment=SECRET_COMMENT, when="2024-03-01T10:17:00Z"),
            overridden(new_uuid(), "not-applicable"),
            # The sandbox: the suggestion clicked (accepted), then the card dismissed (overridden, later).
            overridden(stage_cards[2], "need-more-info", when="2024-03-01T10:20:00Z") | {
                "overrideReason": {"reason": {"system": NON_ADHERENCE, "code": "need-more-info"}}},
        ),
    )
    store.feedback.save(SERVICE, entries(accepted(stage_cards[0], suggestion)))  # duplicate: not counted

    report = override_report(
        store, reason_displays={(REASON_SYSTEM, "data-elsewhere"): "Data recorded elsewhere"}
    )

    assert [k.card_kind for k in report.kinds] == ["stage-risk", "missing-data", "work-up", None]
    stage = report.kind("stage-risk")
    assert stage is not None
    assert (stage.cards_issued, stage.cards_with_feedback, stage.accepted, stage.overridden, stage.comments) == (
        4, 4, 2, 2, 1)
    assert (stage.entries, stage.changed) == (5, 1)  # card 2 was accepted, then dismissed: counted once
    assert stage.acceptance_rate == pytest.approx(0.5)
    assert stage.override_rate == pytest.approx(0.5)
    assert [(r.code, r.display, r.count, r.with_comment) for r in stage.reasons] == [
        ("need-more-info", REASON_DISPLAYS[(NON_ADHERENCE, "need-more-info")], 1, 0),  # a CDS Hooks 3.0 code
        ("not-applicable", None, 1, 1),
    ]

    missing = report.kind("missing-data")
    assert missing is not None
    assert (missing.cards_issued, missing.cards_with_feedback, missing.accepted, missing.overridden) == (2, 2, 0, 2)
    assert missing.acceptance_rate == 0
    assert missing.override_rate == 1
    assert [(r.code, r.display, r.count, r.with_comment) for r in missing.reasons] == [
        ("not-applicable", "Not applicable", 1, 0),
        (None, None, 1, 1),  # the later comment-only override replaced "data-elsewhere"
    ]

    workup = report.kind("work-up")
    assert workup is not None
    assert (workup.cards_issued, workup.cards_with_feedback) == (1, 0)
    assert workup.acceptance_rate is None

    unknown = report.kind(None)
    assert unknown is not None
    assert (unknown.cards_with_feedback, unknown.overridden) == (1, 1)

    [week] = [p for p in report.weekly() if p.card_kind == "stage-risk"]
    assert (week.start.isoformat(), week.accepted, week.overridden) == ("2024-02-26", 2, 2)

    text = render_report(report)
    assert SECRET_COMMENT not in text
    assert "Jane" not in text
    assert "Card kind: stage-risk" in text
    assert "acceptance rate:  50.0%" in text
    assert "override rate:    50.0%" in text
    assert "1 changed their outcome" in text
    assert "need for more information" in text and "[need-more-info]" in text
    assert "(no coded reason)" in text
    assert "[1 with comment]" in text
    assert "n/a" in text  # work-up: no feedback yet

    scoped = override_report(store, service_id="other-service")
    assert scoped.kinds == ()
    assert "No cards issued" in render_report(scoped)


def test_in_memory_sqlite_is_shared_and_thread_safe() -> None:
    with open_store("sqlite://") as store:

        def write() -> None:
            for _ in range(25):
                store.ping()
                store.audit.record_call(audit())

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert count(store, audit_log) == 100


def test_one_call_written_alone_keeps_its_audit_record_and_cards(store: Store) -> None:
    card, suggestion = new_uuid(), new_uuid()
    record = audit(card_uuids=(card,))
    store.audit.record_call(record, [IssuedCard(card, "stage-risk", (suggestion,))])
    assert count(store, audit_log) == 1
    assert [c.uuid for c in issued_cards(store, record.hook_instance)] == [card]
    saved = store.feedback.save(record.service_id, entries(accepted(card, suggestion)))
    assert saved[0].card_known and saved[0].hook_instance == record.hook_instance


# --------------------------------------------------------------------------------------------
# One call's audit row and cards: written together, exactly, or not at all


def stored(store: Store, table: sa.Table) -> list[tuple[Any, ...]]:
    """Every row but its id, each value as the database holds it (SQLite: quote(); PostgreSQL: ::text)."""

    def as_stored(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
        return sa.func.quote(column) if store.database.dialect == "sqlite" else sa.cast(column, sa.Text)

    query = sa.select(*(as_stored(c) for c in table.columns if not c.primary_key)).order_by(table.c.id)
    with store.database.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_calls_are_stored_with_edge_values_exactly(store: Store) -> None:
    shared_hook, shared_card = new_uuid(), new_uuid()
    records_and_cards = [
        (audit(), [IssuedCard(new_uuid(), "stage-risk", (new_uuid(), new_uuid())), IssuedCard(new_uuid(), "work-up")]),
        # another time zone, no microseconds, a whole-number latency, a non-ASCII hook instance
        (audit(received_at=datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
               latency_ms=7, hook_instance="hook-é-1", prefetch={}),
         [IssuedCard(new_uuid(), "missing-data")]),
        # a call rejected before its body was read: no hook instance, no cards, empty lists
        (audit(http_status=401, hook_instance=None, hook=None, inputs_digest=None, patient_ref=None, results={},
               card_uuids=(), prefetch={}), []),
        # the same card twice for one hook instance: stored once (ON CONFLICT DO NOTHING)
        (audit(hook_instance=shared_hook), [IssuedCard(shared_card, "stage-risk")]),
        (audit(hook_instance=shared_hook), [IssuedCard(shared_card, "stage-risk")]),
    ]
    for record, issued in records_and_cards:
        store.audit.record_call(record, issued)

    written = [stored(store, cards), stored(store, audit_log)]
    assert audit_records(store) == [record for record, _ in records_and_cards]
    assert len(written[0]) == 4 and len(written[1]) == 5
    if store.database.dialect == "sqlite":  # SQLAlchemy's SQLite DATETIME format, naive UTC
        assert written[1][1][3] == "'2025-01-01 04:59:59.000000'"
    else:
        assert written[1][1][3] == "2025-01-01 04:59:59+00"


def test_cards_need_the_calls_hook_instance() -> None:
    with pytest.raises(ValueError, match="hook_instance"), open_store("sqlite://") as store:
        store.audit.record_call(audit(hook_instance=None), [IssuedCard(new_uuid(), "stage-risk")])


def _unchecked(record: AuditRecord, **values: Any) -> AuditRecord:
    """A record with values the model would refuse: to make the database itself refuse a row."""
    return AuditRecord.model_construct(**{**dict(record), **values})


@pytest.mark.parametrize("broken_row", ["audit", "card"])
def test_a_call_is_written_whole_or_not_at_all(store: Store, broken_row: str) -> None:
    record, issued = audit(), [IssuedCard(new_uuid(), "stage-risk"), IssuedCard(new_uuid(), "work-up")]
    if broken_row == "audit":
        broken_record, broken_cards = _unchecked(record, service_id=None), issued
    else:
        object.__setattr__(issued[1], "kind", None)  # past IssuedCard's own check
        broken_record, broken_cards = record, issued
    with pytest.raises(StoreError) as raised:
        store.audit.record_call(broken_record, broken_cards)
    assert not isinstance(raised.value, StoreUnavailable)
    assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)  # the driver's error, as SQLAlchemy wraps it
    assert "None" not in str(raised.value) and len(str(raised.value)) < 100  # no values in the message
    assert count(store, audit_log) == count(store, cards) == 0
    store.audit.record_call(audit(), [IssuedCard(new_uuid(), "stage-risk")])  # the connection is usable again
    assert count(store, audit_log) == count(store, cards) == 1


def test_recording_on_a_locked_sqlite_database_is_unavailable_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with open_store(f"sqlite:///{path}", sqlite_busy_timeout_ms=100) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match="locked"):
                store.audit.record_call(audit())
        finally:
            holder.rollback()
            holder.close()
        store.audit.record_call(audit())
        assert count(store, audit_log) == 1


def test_recording_on_a_full_sqlite_disk_is_unavailable_then_recovers(tmp_path: Path) -> None:
    """The driver's own error from the inserts (not from BEGIN) is StoreUnavailable."""
    with open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}") as store:

        def limit_pages(limit: int | None) -> None:  # the pool's one connection, used by record_call next
            with store.database.engine.connect() as conn:
                pages = limit or conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                conn.exec_driver_sql(f"PRAGMA max_page_count = {int(pages)}")

        record = audit()
        many_cards = [IssuedCard(new_uuid(), "stage-risk", tuple(new_uuid() for _ in range(20))) for _ in range(64)]
        limit_pages(None)
        with pytest.raises(StoreUnavailable, match="full") as raised:
            store.audit.record_call(record, many_cards)
        assert isinstance(raised.value.__cause__, sa.exc.OperationalError)
        limit_pages(1 << 30)
        assert count(store, audit_log) == count(store, cards) == 0
        store.audit.record_call(record, many_cards)
        assert count(store, audit_log) == 1 and count(store, cards) == 64


def test_recording_on_a_lost_postgres_connection_is_unavailable_then_recovers(postgres_url: str) -> None:
    """The connection dies between BEGIN and the inserts: StoreUnavailable, and the pool replaces it."""
    admin = sa.create_engine(postgres_url)
    with open_store(postgres_url) as store:

        def terminate(conn: sa.Connection) -> None:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with admin.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        sa.event.listen(store.database.engine, "begin", terminate)
        try:
            with pytest.raises(StoreUnavailable) as raised:
                store.audit.record_call(audit(), [IssuedCard(new_uuid(), "stage-risk")])
        finally:
            sa.event.remove(store.database.engine, "begin", terminate)
        assert isinstance(raised.value.__cause__, sa.exc.OperationalError)
        assert raised.value.__cause__.connection_invalidated
        store.audit.record_call(audit(), [IssuedCard(new_uuid(), "stage-risk")])
        assert count(store, audit_log) == count(store, cards) == 1
    admin.dispose()
