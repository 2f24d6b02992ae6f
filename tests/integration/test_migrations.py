"""The store's Alembic migrations on a SQLite file and a real PostgreSQL (tests/support/postgres.py).

Fresh databases, databases made by the pre-Alembic code (tests/support/legacy_store.py) upgrading in
place with their data, workers starting together, a database from a newer release, and the way down.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from cds_service.protocol.feedback import parse_feedback
from cds_service.store import AuditRecord, IssuedCard, SchemaVersionError, open_store
from cds_service.store.engine import Database
from cds_service.store.migrate import downgrade_schema, head_revision, upgrade_schema
from cds_service.store.tables import audit_log, metadata
from tests.support.legacy_store import (
    CARD_UUIDS,
    EXPECTED_RESULTS,
    LEGACY_AUDIT_ROWS,
    LEGACY_METADATA,
    create_legacy_store,
)
from tests.support.store_readers import audit_records, feedback_records, issued_cards, schema_revision

pytestmark = pytest.mark.integration

_OLD_RESULT_COLUMNS = ("stage", "stage_candidates", "inrg2009_group", "inrg2009_risk", "cog2021_risk")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def differences_from_tables(url: str) -> list[Any]:
    """What Alembic's autogenerate sees between the database and tables.py (empty: they agree)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def audit_columns(url: str) -> list[dict[str, Any]]:
    """Every audit_log row as a dict of its columns (whatever columns the table has now), oldest first."""
    engine = sa.create_engine(url)
    try:
        table = sa.Table("audit_log", sa.MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(sa.select(table).order_by(table.c.id))]
    finally:
        engine.dispose()


def test_a_fresh_database_gets_exactly_the_tables_of_tables_py(db_url: str) -> None:
    open_store(db_url).dispose()
    assert differences_from_tables(db_url) == []
    assert table_names(db_url) == {"alembic_version", "cards", "feedback", "audit_log", "jwt_replay"}


def test_a_pre_alembic_database_upgrades_in_place_and_keeps_its_data(db_url: str) -> None:
    create_legacy_store(db_url)
    with open_store(db_url) as store:
        assert schema_revision(store.database.engine) == head_revision()
        assert "schema_version" not in table_names(db_url)
        records = audit_records(store)
        assert [record.results.model_dump(mode="json") for record in records] == EXPECTED_RESULTS
        for record, old in zip(records, LEGACY_AUDIT_ROWS, strict=True):  # every other column as it was
            # (revision 0003: the outcome the old code called "missing" is the pipeline's "skipped")
            prefetch = {key: "skipped" if value == "missing" else value for key, value in old["prefetch"].items()}
            assert (record.hook_instance, record.service_id, record.received_at, record.latency_ms,
                    record.http_status, list(record.card_uuids), dict(record.prefetch), record.inputs_digest) == (
                old["hook_instance"], old["service_id"], old["received_at"], old["latency_ms"],
                old["http_status"], old["card_uuids"], prefetch, old["inputs_digest"])
        assert [card.uuid for card in issued_cards(store, "hook-0")] == list(CARD_UUIDS)
        [old_feedback] = feedback_records(store)
        assert (old_feedback.card, old_feedback.card_known, old_feedback.card_kind) == (CARD_UUIDS[0], True,
                                                                                      "stage-risk")
        # and the upgraded store works: new feedback links to the card the old code recorded
        entry = {"card": CARD_UUIDS[1], "outcome": "overridden", "outcomeTimestamp": "2025-02-01T10:00:00Z"}
        [saved] = store.feedback.save("neuroblastoma-staging", parse_feedback({"feedback": [entry]}).entries)
        assert saved.created and saved.card_known and saved.hook_instance == "hook-0"
    assert differences_from_tables(db_url) == []


def test_a_pre_alembic_database_of_a_newer_version_is_refused_untouched(db_url: str) -> None:
    create_legacy_store(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO schema_version (version, applied_at) VALUES (2, :now)"),
                         {"now": datetime.now(UTC).replace(tzinfo=None)})
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError, match=r"version 2.*newer release"):
        open_store(db_url)
    assert "alembic_version" not in table_names(db_url)
    assert [row["stage"] for row in audit_columns(db_url)] == [row["stage"] for row in LEGACY_AUDIT_ROWS]


def test_tables_without_any_version_are_refused(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        LEGACY_METADATA.tables["cards"].create(engine)
    finally:
        engine.dispose()
    with pytest.raises(SchemaVersionError, match="no schema revision"):
        open_store(db_url)


def test_down_to_the_first_revision_restores_the_old_columns_and_up_again(db_url: str) -> None:
    create_legacy_store(db_url)
    database = Database.open(db_url)
    try:
        upgrade_schema(database)
        # A row written by this code with a staging system the old columns cannot hold.
        new_record = AuditRecord(
            service_id="neuroblastoma-staging", received_at=datetime(2025, 3, 1, tzinfo=UTC), ruleset_version="r2",
            http_status=200, latency_ms=3.5, hook_instance=str(uuid.uuid4()),
            results={"stages": {"inrgss": {"stage": "M", "candidates": ["M"]}, "inss": {"stage": "4"}},
                     "risks": {"cog2021": {"risk": "high", "candidates": ["high"]}}},
        )
        with database.transaction(write=True) as conn:
            conn.execute(sa.insert(audit_log).values(
                service_id=new_record.service_id, received_at=new_record.received_at,
                ruleset_version=new_record.ruleset_version, http_status=200, latency_ms=3.5,
                hook_instance=new_record.hook_instance, card_uuids=[], prefetch={},
                results=new_record.results.model_dump(mode="json")))

        downgrade_schema(database, "0001")
        rows = audit_columns(db_url)
        assert "results" not in rows[0]
        assert [{name: row[name] for name in _OLD_RESULT_COLUMNS} for row in rows[:-1]] == [
            {name: old[name] for name in _OLD_RESULT_COLUMNS} for old in LEGACY_AUDIT_ROWS]
        assert {name: rows[-1][name] for name in _OLD_RESULT_COLUMNS} == {
            "stage": "M", "stage_candidates": ["M"], "inrg2009_group": None, "inrg2009_risk": None,
            "cog2021_risk": "high"}

        upgrade_schema(database)
        rows = audit_columns(db_url)
        assert [row["results"] for row in rows[:-1]] == EXPECTED_RESULTS
        assert rows[-1]["results"] == {"stages": {"inrgss": {"stage": "M", "candidates": ["M"]}},
                                       "risks": {"cog2021": {"risk": "high", "group": None, "candidates": []}}}
    finally:
        database.dispose()
    assert differences_from_tables(db_url) == []


def test_revision_0004_adds_the_replay_table_in_place_and_the_way_down_drops_it(db_url: str) -> None:
    """A database at 0003 holding calls and feedback gains `jwt_replay` and keeps its data; down again, back to 0003."""
    database = Database.open(db_url)
    try:
        upgrade_schema(database)
        downgrade_schema(database, "0003")
        assert "jwt_replay" not in table_names(db_url)
        with open_store(db_url, initialize=False) as old:  # written as 0003 had it (the tables are the same)
            record = AuditRecord(service_id="neuroblastoma-staging", received_at=datetime(2025, 3, 1, tzinfo=UTC),
                                 ruleset_version="r1", http_status=200, latency_ms=2.0, hook_instance="hook-0003",
                                 prefetch={"patient": "supplied"})
            with old.database.transaction(write=True) as conn:
                conn.execute(sa.insert(audit_log).values(
                    service_id=record.service_id, received_at=record.received_at, ruleset_version="r1",
                    http_status=200, latency_ms=2.0, hook_instance=record.hook_instance, card_uuids=[],
                    prefetch={"patient": "supplied"}, results={}))
        before = audit_columns(db_url)

        with open_store(db_url) as store:  # start-up upgrades in place
            assert schema_revision(store.database.engine) == head_revision() == "0004"
            assert store.replay.check_and_store("https://ehr.example.org", "jti-1", time.time() + 60) is True
            assert store.replay.check_and_store("https://ehr.example.org", "jti-1", time.time() + 60) is False
        assert audit_columns(db_url) == before
        assert differences_from_tables(db_url) == []

        downgrade_schema(database, "0003")
        assert "jwt_replay" not in table_names(db_url) and audit_columns(db_url) == before
    finally:
        database.dispose()


def _open_at(url: str, start_at: float) -> str | None:
    """A worker process starting: wait for the common start time, open the store, record a call."""
    time.sleep(max(0.0, start_at - time.time()))
    with open_store(url) as store:
        record = AuditRecord(service_id="neuroblastoma-staging", received_at=datetime.now(UTC),
                             ruleset_version="r1", http_status=200, latency_ms=1.0, hook_instance=str(uuid.uuid4()))
        store.audit.record_call(record, [IssuedCard(str(uuid.uuid4()), "stage-risk")])
        return schema_revision(store.database.engine)


@pytest.mark.parametrize("existing", ["fresh", "pre-alembic"])
def test_workers_starting_together_migrate_once(db_url: str, existing: str) -> None:
    if existing == "pre-alembic":
        create_legacy_store(db_url)
    workers = 4
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        start_at = time.time() + 3.0  # past the spawned interpreters' start-up
        revisions = list(pool.map(_open_at, [db_url] * workers, [start_at] * workers))
    assert revisions == [head_revision()] * workers
    assert "schema_version" not in table_names(db_url)
    assert differences_from_tables(db_url) == []
    rows = audit_columns(db_url)
    assert len(rows) == workers + (len(LEGACY_AUDIT_ROWS) if existing == "pre-alembic" else 0)
