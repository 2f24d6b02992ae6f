"""The feedback and audit store against real databases: a SQLite file and a real PostgreSQL server.

PostgreSQL comes from tests/support/postgres.py (`postgres_url`: a fresh database per test).
"""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cds_service.store import (
    SCHEMA_VERSION,
    AuditRecord,
    FeedbackEntry,
    GroupCommit,
    IssuedCard,
    PreparedCall,
    SchemaVersionError,
    Store,
    StoreError,
    StoreUnavailable,
    override_report,
    parse_feedback,
    render_report,
)
from cds_service.store.schema import audit_log, cards, feedback, schema_version
from tests.support.postgres import PostgresServer

pytestmark = pytest.mark.integration

SERVICE = "nb-staging"
REASON_SYSTEM = "https://nbcds.example.org/CodeSystem/override-reason"
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
        "stage": "L2",
        "stage_candidates": ("L2", "M"),
        "inrg2009_group": "H",
        "inrg2009_risk": "intermediate",
        "cog2021_risk": "intermediate",
        "card_uuids": (new_uuid(), new_uuid()),
        "prefetch": {
            "patient": "supplied",
            "conditions": "fetched",
            "observations": "missing",
            "mibg": "empty",
        },
    }
    values.update(overrides)
    return AuditRecord(**values)


def count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.from_url(db_url)
    yield opened
    opened.dispose()


# --------------------------------------------------------------------------------------------
# Schema


def test_schema_is_created_and_versioned(store: Store) -> None:
    assert store.schema_version() == SCHEMA_VERSION
    tables = set(sa.inspect(store.engine).get_table_names())
    assert {"schema_version", "cards", "feedback", "audit_log"} <= tables
    store.ping()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    with Store.from_url(f"sqlite:///{tmp_path / 'sub' / 'dir' / 'x.sqlite3'}") as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert (tmp_path / "sub" / "dir" / "x.sqlite3").exists()


def test_opening_twice_is_harmless(db_url: str) -> None:
    with Store.from_url(db_url), Store.from_url(db_url) as second:
        assert second.schema_version() == SCHEMA_VERSION
        assert count(second, schema_version) == 1


def test_newer_schema_version_is_refused(db_url: str) -> None:
    with Store.from_url(db_url) as store, store.engine.begin() as conn:
        conn.execute(
            sa.insert(schema_version).values(version=SCHEMA_VERSION + 1, applied_at=datetime.now(UTC))
        )
    with pytest.raises(SchemaVersionError, match=rf"version {SCHEMA_VERSION + 1}.*newer release"):
        Store.from_url(db_url)
    lazy = Store.from_url(db_url, initialize=False)
    try:
        with pytest.raises(SchemaVersionError):
            lazy.ping()
    finally:
        lazy.dispose()


def test_newer_schema_is_refused_before_anything_is_created(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        schema_version.create(engine)
        with engine.begin() as conn:
            conn.execute(
                sa.insert(schema_version).values(version=SCHEMA_VERSION + 5, applied_at=datetime.now(UTC))
            )
        with pytest.raises(SchemaVersionError):
            Store.from_url(db_url)
        assert not sa.inspect(engine).has_table("feedback")
    finally:
        engine.dispose()


def test_bad_urls_are_value_errors() -> None:
    for url in ("mysql://x/y", "not a url", "postgresql+asyncpg://u@h/db"):
        with pytest.raises(ValueError, match=r"."):
            Store.from_url(url)


# --------------------------------------------------------------------------------------------
# Feedback


def test_same_entry_twice_is_stored_once(store: Store) -> None:
    card, suggestion = new_uuid(), new_uuid()
    store.record_cards("hook-1", SERVICE, [IssuedCard(card, "stage-risk", (suggestion,))])
    batch = entries(accepted(card, suggestion))

    first = store.save_feedback(SERVICE, batch)
    second = store.save_feedback(SERVICE, batch)

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
    saved = store.save_feedback(SERVICE, batch)
    assert [s.created for s in saved] == [True, False, False, True]
    assert [s.index for s in saved] == [0, 1, 2, 3]
    assert count(store, feedback) == 2


def test_feedback_on_unknown_card_is_stored_and_flagged(store: Store) -> None:
    unknown = new_uuid()
    (saved,) = store.save_feedback(SERVICE, entries(overridden(unknown, "not-applicable")))
    assert saved.created
    assert not saved.card_known
    assert saved.hook_instance is None
    (row,) = store.feedback_records(card=unknown)
    assert row.card_known is False
    assert row.hook_instance is None
    assert row.card_kind is None


def test_card_issued_by_another_service_is_unknown_here(store: Store) -> None:
    card = new_uuid()
    store.record_cards("hook-x", "other-service", [IssuedCard(card, "work-up")])
    (saved,) = store.save_feedback(SERVICE, entries(overridden(card, comment="n/a")))
    assert not saved.card_known


def test_feedback_is_linked_to_card_and_hook_instance(store: Store) -> None:
    stage_card, workup_card, suggestion = new_uuid(), new_uuid(), new_uuid()
    t0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert (
        store.record_cards(
            "hook-A",
            SERVICE,
            [IssuedCard(stage_card, "stage-risk", (suggestion,)), IssuedCard(workup_card, "work-up")],
            created_at=t0,
        )
        == 2
    )
    # The same card uuid re-issued by a later hook instance: feedback links to the latest issuance.
    assert (
        store.record_cards(
            "hook-B", SERVICE, [IssuedCard(workup_card, "work-up")], created_at=t0 + timedelta(minutes=5)
        )
        == 1
    )
    # Recording the same cards again is a no-op.
    assert store.record_cards("hook-B", SERVICE, [IssuedCard(workup_card, "work-up")]) == 0
    assert store.issued_cards("hook-A") == [
        IssuedCard(stage_card, "stage-risk", (suggestion,)),
        IssuedCard(workup_card, "work-up"),
    ]

    saved = store.save_feedback(
        SERVICE, entries(accepted(stage_card, suggestion), overridden(workup_card, "already-done"))
    )
    assert [(s.card_known, s.hook_instance, s.card_kind) for s in saved] == [
        (True, "hook-A", "stage-risk"),
        (True, "hook-B", "work-up"),
    ]
    (stage_row,) = store.feedback_records(hook_instance="hook-A")
    assert stage_row.card == stage_card
    assert stage_row.accepted_suggestions == (suggestion,)
    assert stage_row.outcome_timestamp == datetime(2024, 3, 1, 10, 15, 30, tzinfo=UTC)
    with store.engine.connect() as conn:
        linked = conn.execute(
            sa.select(cards.c.hook_instance, cards.c.card_uuid)
            .join(feedback, feedback.c.card_id == cards.c.id)
            .order_by(feedback.c.id)
        ).all()
    assert [tuple(r) for r in linked] == [("hook-A", stage_card), ("hook-B", workup_card)]


def test_override_reason_and_comment_round_trip(store: Store) -> None:
    card = new_uuid()
    store.save_feedback(SERVICE, entries(overridden(card, "not-applicable", "free text", "Not applicable")))
    (row,) = store.feedback_records(card=card)
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
        stage=None,
        stage_candidates=(),
        inrg2009_group=None,
        inrg2009_risk=None,
        cog2021_risk=None,
        card_uuids=(),
        prefetch={},
    )
    first_id = store.record_audit(record)
    second_id = store.record_audit(minimal)
    assert second_id > first_id
    assert store.audit_records() == [record, minimal]
    assert store.audit_records(hook_instance=record.hook_instance) == [record]
    (back,) = store.audit_records(hook_instance=record.hook_instance)
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
        {"stage_candidates": "L2"},
        {"stage": "x" * 33},
        {"hook_instance": "x" * 129},
        {"hook_instance": "line\nbreak"},
        {"patient_ref": "Bearer eyJhbGciOi.J9"},
        {"service_id": ""},
    ],
    ids=repr,
)
def test_audit_record_accepts_no_free_text(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"."):
        audit(**overrides)


# --------------------------------------------------------------------------------------------
# Durability and availability


def test_everything_survives_a_restart(db_url: str) -> None:
    card, suggestion = new_uuid(), new_uuid()
    batch = entries(accepted(card, suggestion), overridden(new_uuid(), comment="c"))
    record = audit()
    store = Store.from_url(db_url)
    store.record_cards("hook-1", SERVICE, [IssuedCard(card, "stage-risk", (suggestion,))])
    store.save_feedback(SERVICE, batch)
    store.record_audit(record)
    store.dispose()
    del store

    reopened = Store.from_url(db_url)
    try:
        assert reopened.issued_cards("hook-1") == [IssuedCard(card, "stage-risk", (suggestion,))]
        assert len(reopened.feedback_records()) == 2
        assert reopened.audit_records() == [record]
        assert [s.duplicate for s in reopened.save_feedback(SERVICE, batch)] == [True, True]
    finally:
        reopened.dispose()


def test_sqlite_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory.sqlite3"
    directory.mkdir()
    with pytest.raises(StoreUnavailable):
        Store.from_url(f"sqlite:///{directory}")
    lazy = Store.from_url(f"sqlite:///{directory}", initialize=False)
    try:
        with pytest.raises(StoreUnavailable):
            lazy.ping()
    finally:
        lazy.dispose()


def test_postgres_outage_is_store_unavailable_and_recovers(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    store = Store.from_url(postgres_url)
    try:
        before = entries(overridden(new_uuid(), "not-applicable"))
        store.save_feedback(SERVICE, before)
        store.ping()

        postgres_server.stop()
        with pytest.raises(StoreUnavailable):
            store.ping()
        with pytest.raises(StoreUnavailable):
            store.save_feedback(SERVICE, entries(overridden(new_uuid(), comment="x")))
        with pytest.raises(StoreUnavailable):
            store.record_audit(audit())
        with pytest.raises(StoreUnavailable):
            Store.from_url(postgres_url)
        not_yet_ready = Store.from_url(postgres_url, initialize=False)  # a service may start anyway
        with pytest.raises(StoreUnavailable):
            not_yet_ready.ping()

        postgres_server.start()
        store.ping()
        not_yet_ready.ping()
        not_yet_ready.dispose()
        assert [s.duplicate for s in store.save_feedback(SERVICE, before)] == [True]
        assert store.record_audit(audit()) > 0
        assert len(store.feedback_records()) == 1
    finally:
        store.dispose()


# --------------------------------------------------------------------------------------------
# Several processes writing at once (gunicorn workers)


def _worker(url: str, worker: int, shared_cards: list[str], rounds: int) -> list[bool]:
    store = Store.from_url(url)
    created: list[bool] = []
    try:
        for round_ in range(rounds):
            card = shared_cards[round_ % len(shared_cards)]
            store.record_cards(f"hook-{round_}", SERVICE, [IssuedCard(card, "stage-risk")])
            saved = store.save_feedback(SERVICE, entries(overridden(card, "not-applicable")))
            created.extend(s.created for s in saved)
            store.record_audit(audit(hook_instance=f"w{worker}-r{round_}"))
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
    with Store.from_url(db_url) as store:
        assert count(store, feedback) == len(shared_cards)
        assert count(store, audit_log) == workers * rounds
        assert count(store, cards) == min(rounds, len(shared_cards) * rounds)
        assert all(row.card_known for row in store.feedback_records())


# --------------------------------------------------------------------------------------------
# Report


def test_override_report_numbers(store: Store) -> None:
    stage_cards = [new_uuid() for _ in range(4)]
    missing_cards = [new_uuid() for _ in range(2)]
    suggestion = new_uuid()
    store.record_cards("hook-1", SERVICE, [IssuedCard(c, "stage-risk", (suggestion,)) for c in stage_cards])
    store.record_cards("hook-1", SERVICE, [IssuedCard(c, "missing-data") for c in missing_cards])
    store.record_cards("hook-2", SERVICE, [IssuedCard(new_uuid(), "work-up")])
    store.save_feedback(
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
        ),
    )
    store.save_feedback(SERVICE, entries(accepted(stage_cards[0], suggestion)))  # duplicate: not counted

    report = override_report(
        store, reason_displays={(REASON_SYSTEM, "data-elsewhere"): "Data recorded elsewhere"}
    )

    assert [k.card_kind for k in report.kinds] == ["stage-risk", "missing-data", "work-up", None]
    stage = report.kind("stage-risk")
    assert stage is not None
    assert (stage.cards_issued, stage.feedback_count, stage.accepted, stage.overridden, stage.comments) == (
        4,
        4,
        3,
        1,
        1,
    )
    assert stage.acceptance_rate == pytest.approx(0.75)
    assert stage.override_rate == pytest.approx(0.25)
    assert [(r.code, r.count, r.with_comment) for r in stage.reasons] == [("not-applicable", 1, 1)]

    missing = report.kind("missing-data")
    assert missing is not None
    assert (missing.cards_issued, missing.feedback_count, missing.accepted, missing.overridden) == (
        2,
        3,
        0,
        3,
    )
    assert missing.acceptance_rate == 0
    assert missing.override_rate == 1
    assert [(r.code, r.display, r.count, r.with_comment) for r in missing.reasons] == [
        ("data-elsewhere", "Data recorded elsewhere", 1, 0),
        ("not-applicable", "Not applicable", 1, 0),
        (None, None, 1, 1),
    ]

    workup = report.kind("work-up")
    assert workup is not None
    assert (workup.cards_issued, workup.feedback_count) == (1, 0)
    assert workup.acceptance_rate is None

    unknown = report.kind(None)
    assert unknown is not None
    assert (unknown.feedback_count, unknown.overridden) == (1, 1)

    text = render_report(report)
    assert SECRET_COMMENT not in text
    assert "Jane" not in text
    assert "Card kind: stage-risk" in text
    assert "acceptance rate:  75.0%" in text
    assert "override rate:    25.0%" in text
    assert "Data recorded elsewhere" in text
    assert "(no coded reason)" in text
    assert "[1 with comment]" in text
    assert "n/a" in text  # work-up: no feedback yet

    scoped = override_report(store, service_id="other-service")
    assert scoped.kinds == ()
    assert "No cards issued" in render_report(scoped)


def test_in_memory_sqlite_is_shared_and_thread_safe() -> None:
    with Store.from_url("sqlite://") as store:

        def write() -> None:
            for _ in range(25):
                store.ping()
                store.record_audit(audit())

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert count(store, audit_log) == 100


def test_one_call_written_alone_keeps_its_audit_record_and_cards(store: Store) -> None:
    card, suggestion = new_uuid(), new_uuid()
    record = audit(card_uuids=(card,))
    store.write_calls([store.prepare_call(record, [IssuedCard(card, "stage-risk", (suggestion,))])])
    assert count(store, audit_log) == 1
    assert [c.uuid for c in store.issued_cards(record.hook_instance)] == [card]
    saved = store.save_feedback(record.service_id, entries(accepted(card, suggestion)))
    assert saved[0].card_known and saved[0].hook_instance == record.hook_instance



# --------------------------------------------------------------------------------------------
# Group commit: the hook path's audit writes (cds_service.store.group_commit)


def test_write_calls_stores_every_call_and_its_cards_in_one_transaction(store: Store) -> None:
    calls = []
    for _ in range(5):
        card, suggestion = new_uuid(), new_uuid()
        record = audit(card_uuids=(card,))
        calls.append((record, card, suggestion))
    store.write_calls([store.prepare_call(r, [IssuedCard(c, "stage-risk", (s,))]) for r, c, s in calls])
    assert count(store, audit_log) == 5
    assert count(store, cards) == 5
    for record, card, suggestion in calls:
        [stored] = store.audit_records(hook_instance=record.hook_instance)
        assert stored == record
        saved = store.save_feedback(SERVICE, entries(accepted(card, suggestion)))
        assert saved[0].card_known and saved[0].hook_instance == record.hook_instance


def stored(store: Store, table: sa.Table) -> list[tuple[Any, ...]]:
    """Every row but its id, each value as the database holds it (SQLite: quote(); PostgreSQL: ::text)."""

    def as_stored(column: sa.Column[Any]) -> sa.ColumnElement[Any]:
        return sa.func.quote(column) if store.dialect == "sqlite" else sa.cast(column, sa.Text)

    query = sa.select(*(as_stored(c) for c in table.columns if not c.primary_key)).order_by(table.c.id)
    with store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def write_calls_with_sqlalchemy(store: Store, calls: Sequence[PreparedCall]) -> None:
    """What write_calls did before it handed its inserts to the driver: SQLAlchemy Core's executemany."""
    insert = sqlite_insert if store.dialect == "sqlite" else pg_insert
    card_rows = [row for call in calls for row in call.card_rows]
    with store.engine.begin() as conn:
        conn.execute(insert(cards).on_conflict_do_nothing(index_elements=["card_uuid", "hook_instance"]), card_rows)
        conn.execute(sa.insert(audit_log), [call.audit_values for call in calls])


def test_write_calls_stores_exactly_what_sqlalchemy_core_stores(store: Store) -> None:
    shared_hook, shared_card = new_uuid(), new_uuid()
    records_and_cards = [
        (audit(), [IssuedCard(new_uuid(), "stage-risk", (new_uuid(), new_uuid())), IssuedCard(new_uuid(), "work-up")]),
        # another time zone, no microseconds, a whole-number latency, a non-ASCII hook instance
        (audit(received_at=datetime(2024, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
               latency_ms=7, hook_instance="hook-é-1", prefetch={}),
         [IssuedCard(new_uuid(), "missing-data")]),
        # a call rejected before its body was read: no hook instance, no cards, empty lists
        (audit(http_status=401, hook_instance=None, hook=None, inputs_digest=None, patient_ref=None, stage=None,
               stage_candidates=(), inrg2009_group=None, card_uuids=(), prefetch={}), []),
        # the same card twice for one hook instance: stored once (ON CONFLICT DO NOTHING)
        (audit(hook_instance=shared_hook), [IssuedCard(shared_card, "stage-risk")]),
        (audit(hook_instance=shared_hook), [IssuedCard(shared_card, "stage-risk")]),
    ]
    calls = [store.prepare_call(record, issued) for record, issued in records_and_cards]

    store.write_calls(calls)
    written = [stored(store, cards), stored(store, audit_log)]
    assert store.audit_records() == [record for record, _ in records_and_cards]
    with store.engine.begin() as conn:
        conn.execute(sa.delete(cards))
        conn.execute(sa.delete(audit_log))
    write_calls_with_sqlalchemy(store, calls)

    assert [stored(store, cards), stored(store, audit_log)] == written
    assert len(written[0]) == 4 and len(written[1]) == 5
    if store.dialect == "sqlite":  # SQLAlchemy's SQLite DATETIME format, naive UTC
        assert written[1][1][3] == "'2025-01-01 04:59:59.000000'"


@pytest.mark.parametrize("broken_row", ["audit", "card"])
def test_write_calls_is_all_or_nothing(store: Store, broken_row: str) -> None:
    good = store.prepare_call(audit(), [IssuedCard(new_uuid(), "stage-risk")])
    other = store.prepare_call(audit(), [IssuedCard(new_uuid(), "work-up")])
    if broken_row == "audit":
        broken = PreparedCall({**other.audit_values, "service_id": None}, other.card_rows)
    else:
        broken = PreparedCall(other.audit_values, ({**other.card_rows[0], "card_kind": None},))
    with pytest.raises(StoreError) as raised:
        store.write_calls([good, broken])
    assert not isinstance(raised.value, StoreUnavailable)
    assert isinstance(raised.value.__cause__, sa.exc.IntegrityError)  # the driver's error, as SQLAlchemy wraps it
    assert count(store, audit_log) == count(store, cards) == 0
    store.write_calls([good])  # the connection is usable again
    assert count(store, audit_log) == count(store, cards) == 1


def test_write_calls_on_a_locked_sqlite_database_is_unavailable_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    with Store.from_url(f"sqlite:///{path}", sqlite_busy_timeout_ms=100) as store:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreUnavailable, match="locked"):
                store.write_calls([store.prepare_call(audit())])
        finally:
            holder.rollback()
            holder.close()
        store.write_calls([store.prepare_call(audit())])
        assert count(store, audit_log) == 1


def test_write_calls_on_a_full_sqlite_disk_is_unavailable_then_recovers(tmp_path: Path) -> None:
    """The driver's own error from the inserts (not from BEGIN) is StoreUnavailable, like SQLAlchemy's."""
    with Store.from_url(f"sqlite:///{tmp_path / 'store.sqlite3'}") as store:

        def limit_pages(limit: int | None) -> None:  # the pool's one connection, used by write_calls next
            with store.engine.connect() as conn:
                pages = limit or conn.exec_driver_sql("PRAGMA page_count").scalar_one()
                conn.exec_driver_sql(f"PRAGMA max_page_count = {int(pages)}")

        calls = [store.prepare_call(audit(), [IssuedCard(new_uuid(), "stage-risk")]) for _ in range(50)]
        limit_pages(None)
        with pytest.raises(StoreUnavailable, match="full") as raised:
            store.write_calls(calls)
        assert isinstance(raised.value.__cause__, sa.exc.OperationalError)
        limit_pages(1 << 30)
        assert count(store, audit_log) == 0
        store.write_calls(calls)
        assert count(store, audit_log) == count(store, cards) == 50


def test_write_calls_on_a_lost_postgres_connection_is_unavailable_then_recovers(postgres_url: str) -> None:
    """The connection dies between BEGIN and the inserts: StoreUnavailable, and the pool replaces it."""
    admin = sa.create_engine(postgres_url)
    with Store.from_url(postgres_url) as store:

        def terminate(conn: sa.Connection) -> None:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with admin.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        sa.event.listen(store.engine, "begin", terminate)
        try:
            with pytest.raises(StoreUnavailable) as raised:
                store.write_calls([store.prepare_call(audit(), [IssuedCard(new_uuid(), "stage-risk")])])
        finally:
            sa.event.remove(store.engine, "begin", terminate)
        assert isinstance(raised.value.__cause__, sa.exc.OperationalError)
        assert raised.value.__cause__.connection_invalidated
        store.write_calls([store.prepare_call(audit(), [IssuedCard(new_uuid(), "stage-risk")])])
        assert count(store, audit_log) == count(store, cards) == 1
    admin.dispose()


def test_group_commit_batches_concurrent_callers_and_each_sees_its_own_commit(store: Store) -> None:
    batches: list[int] = []

    def write_batch(calls: Sequence[PreparedCall]) -> None:
        store.write_calls(calls)
        batches.append(len(calls))

    writer = GroupCommit(write_batch)
    threads, per_thread = 8, 25
    hook_instances: list[list[str]] = [[] for _ in range(threads)]
    barrier = threading.Barrier(threads)

    def caller(index: int) -> None:
        barrier.wait()
        for _ in range(per_thread):
            record = audit()
            writer.write(store.prepare_call(record, [IssuedCard(new_uuid(), "stage-risk")]), timeout=30)
            # Committed before write() returned: another connection sees it at once.
            assert len(store.audit_records(hook_instance=record.hook_instance)) == 1
            hook_instances[index].append(str(record.hook_instance))

    workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sum(len(h) for h in hook_instances) == threads * per_thread
    assert count(store, audit_log) == threads * per_thread == sum(batches)
    assert len(batches) < threads * per_thread  # several calls shared a transaction
