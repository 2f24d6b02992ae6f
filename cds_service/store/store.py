"""The feedback and audit store: SQLAlchemy Core over SQLite (default) or PostgreSQL (production).

Guarantees:

- Every write commits before the method returns, so anything acknowledged survives a restart.
- Feedback is idempotent: a unique idempotency key plus `INSERT ... ON CONFLICT DO NOTHING`
  (both SQLite >= 3.24 and PostgreSQL) stores each entry once; `save_feedback` reports which
  entries were new and which were duplicates.
- The schema is created at start and versioned (`schema_version` table); a database written by
  newer code is refused with `SchemaVersionError`.
- Database unavailability (connection refused, database locked past the busy timeout, disk
  errors) surfaces as `StoreUnavailable`, so the HTTP layer can answer 503.

SQLite is opened in WAL mode with foreign keys, a busy timeout and `synchronous=FULL`; write
transactions start with `BEGIN IMMEDIATE` so several gunicorn worker processes writing the same
file queue on the busy timeout instead of failing on a lock upgrade. Pools are reset in a forked
child so a process never uses a connection opened by its parent.

The audit API takes typed, validated fields only (identifiers, digests, codes, counts): there is
deliberately no way to store a request body, a token or a name.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine

from .feedback_entries import (
    Coding,
    FeedbackEntry,
    OverrideReason,
    feedback_idempotency_key,
    normalise_uuid,
)
from .schema import SCHEMA_VERSION, audit_log, cards, feedback, metadata, schema_version

__all__ = [
    "CARD_KINDS",
    "MIGRATIONS",
    "PREFETCH_OUTCOMES",
    "AuditRecord",
    "IssuedCard",
    "PreparedCall",
    "SavedFeedback",
    "SchemaVersionError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoredFeedback",
]

CARD_KINDS: tuple[str, ...] = ("stage-risk", "missing-data", "work-up", "resection-check")
PREFETCH_OUTCOMES: tuple[str, ...] = ("supplied", "fetched", "missing", "failed", "empty", "unavailable", "partial")
PrefetchOutcome = Literal["supplied", "fetched", "missing", "failed", "empty", "unavailable", "partial"]

# Upgrade steps: MIGRATIONS[v] brings a database at version v to version v + 1 (inside the
# start-up transaction, before `create_all`). Empty while SCHEMA_VERSION is 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

_DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 10_000
_PG_CONNECT_TIMEOUT_S = 5
_PG_INIT_LOCK_KEY = 0x6E62_6364_735F_7631  # arbitrary constant: serialises concurrent schema set-up
_SQLITE_BEGIN_OPTION = "nbcds_sqlite_begin"

_IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9._:/|=+@-]+$")
_LABEL_RE = re.compile(r"^[A-Za-z0-9 ._+/()-]+$")
_CARD_KIND_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_PREFETCH_KEY_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------------------------
# Errors


class StoreError(Exception):
    """Base class of the store's errors."""


class StoreUnavailable(StoreError):  # noqa: N818 - the name the HTTP layer maps to 503
    """The database cannot be reached or used right now (answer 503, retry later)."""


class SchemaVersionError(StoreError):
    """The database schema is not one this code can use (e.g. written by a newer release)."""


_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE_ERRORS as exc:
        raise StoreUnavailable(f"database unavailable: {_short(exc)}") from exc
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(f"database connection lost: {_short(exc)}") from exc
        raise StoreError(f"database error: {_short(exc)}") from exc


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


# --------------------------------------------------------------------------------------------
# Validation helpers (the audit API takes no free-form text)


def _check_identifier(name: str, value: object, max_length: int, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length or not _IDENTIFIER_RE.match(value):
        raise ValueError(
            f"{name} must be an identifier of 1..{max_length} characters [A-Za-z0-9._:/|=+@-], "
            f"got {type(value).__name__}"
        )
    return str(value)


def _check_hook_instance(value: object, *, optional: bool = False) -> str | None:
    # The client's own identifier (a uuid in practice; CDS Hooks only says "string"): any
    # printable text of up to 128 characters, like the hook request parser accepts.
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > 128 or not value.isprintable():
        raise ValueError("hook_instance must be 1..128 printable characters")
    return value


def _check_label(name: str, value: object, max_length: int = 32, *, optional: bool = True) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length or not _LABEL_RE.match(value):
        raise ValueError(f"{name} must be a short code of 1..{max_length} characters [A-Za-z0-9 ._+/()-]")
    return str(value)


def _check_uuid(name: str, value: object) -> str:
    normalised = normalise_uuid(value)
    if normalised is None:
        raise ValueError(f"{name} must be a uuid string (8-4-4-4-12 hexadecimal digits)")
    return normalised


def _check_aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class IssuedCard:
    """A card the service returned: its uuid, kind (e.g. `stage-risk`) and suggestion uuids."""

    uuid: str
    kind: str
    suggestion_uuids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", _check_uuid("card uuid", self.uuid))
        if not isinstance(self.kind, str) or not _CARD_KIND_RE.match(self.kind):
            raise ValueError("card kind must be a lower-case slug such as 'stage-risk'")
        object.__setattr__(
            self,
            "suggestion_uuids",
            tuple(_check_uuid("suggestion uuid", s) for s in self.suggestion_uuids),
        )


@dataclass(frozen=True)
class AuditRecord:
    """One service call, as identifiers and derived results only.

    `inputs_digest` is a sha256 hex digest computed by the caller; `patient_ref` is stored as
    given (the caller decides between a FHIR id and a keyed hash). `prefetch` maps each prefetch
    key to `supplied`, `fetched`, `missing`, `failed` or `empty`. `hook_instance`, `hook`,
    `inputs_digest` and `patient_ref` may be None for calls rejected before the body was read.
    """

    service_id: str
    received_at: datetime
    ruleset_version: str
    http_status: int
    latency_ms: float
    hook_instance: str | None = None
    hook: str | None = None
    inputs_digest: str | None = None
    patient_ref: str | None = None
    stage: str | None = None
    stage_candidates: tuple[str, ...] = ()
    inrg2009_group: str | None = None
    inrg2009_risk: str | None = None
    cog2021_risk: str | None = None
    card_uuids: tuple[str, ...] = ()
    prefetch: Mapping[str, PrefetchOutcome] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _check_identifier("service_id", self.service_id, 128)
        set_(self, "received_at", _check_aware("received_at", self.received_at))
        _check_identifier("ruleset_version", self.ruleset_version, 64)
        if isinstance(self.http_status, bool) or not isinstance(self.http_status, int):
            raise ValueError("http_status must be an int")
        if not 100 <= self.http_status <= 599:
            raise ValueError("http_status must be between 100 and 599")
        latency = self.latency_ms
        if isinstance(latency, bool) or not isinstance(latency, int | float) or not math.isfinite(latency):
            raise ValueError("latency_ms must be a finite number")
        if latency < 0:
            raise ValueError("latency_ms must not be negative")
        set_(self, "latency_ms", float(latency))
        _check_hook_instance(self.hook_instance, optional=True)
        _check_identifier("hook", self.hook, 128, optional=True)
        if self.inputs_digest is not None and (
            not isinstance(self.inputs_digest, str) or not _DIGEST_RE.match(self.inputs_digest)
        ):
            raise ValueError("inputs_digest must be a lower-case sha256 hex digest (64 characters)")
        _check_identifier("patient_ref", self.patient_ref, 128, optional=True)
        _check_label("stage", self.stage)
        if isinstance(self.stage_candidates, str):
            raise ValueError("stage_candidates must be a sequence of codes, not a string")
        candidates = tuple(self.stage_candidates)
        if len(candidates) > 16:
            raise ValueError("stage_candidates has more than 16 items")
        for candidate in candidates:
            _check_label("stage_candidates item", candidate, optional=False)
        set_(self, "stage_candidates", candidates)
        _check_label("inrg2009_group", self.inrg2009_group)
        _check_label("inrg2009_risk", self.inrg2009_risk)
        _check_label("cog2021_risk", self.cog2021_risk)
        if isinstance(self.card_uuids, str):
            raise ValueError("card_uuids must be a sequence of uuids, not a string")
        uuids = tuple(_check_uuid("card_uuids item", u) for u in self.card_uuids)
        if len(uuids) > 64:
            raise ValueError("card_uuids has more than 64 items")
        set_(self, "card_uuids", uuids)
        if not isinstance(self.prefetch, Mapping):
            raise ValueError("prefetch must be a mapping of prefetch key to outcome")
        if len(self.prefetch) > 64:
            raise ValueError("prefetch has more than 64 keys")
        prefetch: dict[str, str] = {}
        for key, outcome in self.prefetch.items():
            if not isinstance(key, str) or not _PREFETCH_KEY_RE.match(key):
                raise ValueError("prefetch keys must be identifiers of 1..64 characters [A-Za-z0-9_.-]")
            if outcome not in PREFETCH_OUTCOMES:
                raise ValueError(f"prefetch[{key!r}] must be one of {', '.join(PREFETCH_OUTCOMES)}")
            prefetch[key] = str(outcome)
        set_(self, "prefetch", MappingProxyType(prefetch))


@dataclass(frozen=True)
class PreparedCall:
    """A call's checked audit row and card rows (`Store.prepare_call`), for `Store.write_calls`."""

    audit_values: Mapping[str, Any]
    card_rows: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class SavedFeedback:
    """What `save_feedback` did with one entry (same order as the entries given)."""

    index: int
    card: str
    idempotency_key: str
    created: bool
    card_known: bool
    hook_instance: str | None = None
    card_kind: str | None = None

    @property
    def duplicate(self) -> bool:
        return not self.created


@dataclass(frozen=True)
class StoredFeedback:
    """A feedback row as read back from the store."""

    id: int
    idempotency_key: str
    service_id: str
    card: str
    card_known: bool
    hook_instance: str | None
    card_kind: str | None
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason: OverrideReason | None
    outcome_timestamp: datetime
    received_at: datetime


# --------------------------------------------------------------------------------------------
# Engine


def _normalise_url(url: str | sa.URL) -> sa.URL:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ValueError("PostgreSQL URLs must use the psycopg driver: postgresql+psycopg://...")
    elif backend == "sqlite" and parsed.get_driver_name() != "pysqlite":
        raise ValueError("SQLite URLs must use the standard driver: sqlite:///path")
    elif backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r}: use sqlite:///path or postgresql+psycopg://...")
    return parsed


def _sqlite_is_memory(url: sa.URL) -> bool:
    return url.database in (None, "", ":memory:") or bool(url.query.get("mode") == "memory")


def _enable_wal(cursor: Any, busy_ms: int) -> None:
    """Switch the file to WAL (persistent), retrying while other processes hold it.

    SQLite answers "database is locked" at once, without calling the busy handler, when several
    processes open a new file and switch it to WAL at the same moment (gunicorn workers starting
    together), so the busy timeout is applied here by hand.
    """
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    deadline = time.monotonic() + busy_ms / 1000.0
    delay = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            message = str(exc).lower()
            if ("locked" not in message and "busy" not in message) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


def _create_engine(url: sa.URL, *, sqlite_busy_timeout_ms: int, echo: bool) -> Engine:
    if url.get_backend_name() == "postgresql":
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            # synchronous_commit=on for our sessions whatever the server's default: a commit is only
            # acknowledged once its WAL is written, so acknowledged feedback survives a server crash.
            connect_args={"connect_timeout": _PG_CONNECT_TIMEOUT_S, "application_name": "nbcds",
                          "options": "-c synchronous_commit=on"},
            echo=echo,
        )
    memory = _sqlite_is_memory(url)
    if memory:
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.StaticPool,
            connect_args={"check_same_thread": False},
            echo=echo,
        )
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            connect_args={"timeout": sqlite_busy_timeout_ms / 1000.0},
            echo=echo,
        )
    busy_ms = int(sqlite_busy_timeout_ms)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN (pysqlite's implicit transactions would
        # otherwise defer it and break transactional DDL and BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            if not memory:
                _enable_wal(cursor, busy_ms)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")

    return engine


def _dispose_after_fork(engine_ref: weakref.ReferenceType[Engine]) -> None:
    engine = engine_ref()
    if engine is not None:
        # Forget the parent's connections without closing them (they belong to the parent).
        engine.dispose(close=False)


# --------------------------------------------------------------------------------------------
# The hook path's inserts, run by the DBAPI driver


class _DriverInsert:
    """An INSERT compiled once for a dialect, run with the DBAPI cursor's `executemany`.

    Why: `write_calls` runs once per group-commit batch, and SQLAlchemy's per-statement work (cache
    key, execution context, parameter processing, events) cost more CPU than SQLite's own
    executemany and commit. Measured in-process on SQLite, CPU per call written alone went from
    ~0.31 to ~0.20 ms (batches of 4: ~0.17 to ~0.13 ms). The SQL text and the bind processors
    (UTCDateTime, JSON, Float) are SQLAlchemy's own, taken once, so the rows written are the ones
    `conn.execute(statement, rows)` writes. Engine events and `echo` do not see these statements.
    """

    def __init__(self, statement: sa.Insert, dialect: sa.Dialect) -> None:
        table = statement.table
        keys = [column.key for column in table.columns if not column.primary_key]
        compiled = statement.compile(dialect=dialect, column_keys=keys, for_executemany=True)
        self.sql = compiled.string
        self._named = not compiled.positional  # psycopg: %(name)s; sqlite3: ? in positiontup order
        self._keys = tuple(keys if self._named else compiled.positiontup or ())
        processors = ((i, table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
                      for i, key in enumerate(self._keys))
        self._processors = [(i, process) for i, process in processors if process is not None]

    def parameters(self, row: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters for one row (a mapping of every column but the primary key)."""
        values = [row[key] for key in self._keys]
        for index, process in self._processors:
            values[index] = process(values[index])
        return dict(zip(self._keys, values, strict=True)) if self._named else values

    def executemany(self, conn: Connection, parameters: Sequence[Any]) -> None:
        """Run on `conn`'s DBAPI connection. A driver error is raised as SQLAlchemy would raise it
        (`sa.exc.OperationalError`, `sa.exc.IntegrityError`, ...), a lost connection invalidated."""
        dialect = conn.dialect
        dbapi_connection = conn.connection.dbapi_connection
        cursor = None
        try:
            cursor = dbapi_connection.cursor()
            cursor.executemany(self.sql, parameters)
        except dialect.loaded_dbapi.Error as exc:
            lost = dialect.is_disconnect(exc, dbapi_connection, cursor)
            if lost:
                conn.invalidate(exc)
            raise sa.exc.DBAPIError.instance(self.sql, None, exc, dialect.loaded_dbapi.Error,
                                             connection_invalidated=lost, dialect=dialect) from exc
        finally:
            if cursor is not None:
                with contextlib.suppress(Exception):
                    cursor.close()


# --------------------------------------------------------------------------------------------
# Store


class Store:
    """Feedback, issued cards and the audit log in one database. Thread-safe; fork-safe."""

    def __init__(self, engine: Engine, *, initialize: bool = True) -> None:
        self._engine = engine
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._write_engine = (
            engine.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"}) if self._is_sqlite else engine
        )
        self._init_lock = threading.Lock()
        # An in-memory SQLite database is one shared connection (StaticPool): serialise its use.
        self._connection_lock: AbstractContextManager[object] = (
            threading.RLock()
            if self._is_sqlite and isinstance(engine.pool, sa.pool.StaticPool)
            else contextlib.nullcontext()
        )
        self._initialized = False
        engine_ref = weakref.ref(engine)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=lambda: _dispose_after_fork(engine_ref))
        if initialize:
            self.initialize()

    @classmethod
    def from_url(
        cls,
        url: str | sa.URL,
        *,
        initialize: bool = True,
        sqlite_busy_timeout_ms: int = _DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
        echo: bool = False,
    ) -> Store:
        """Open `sqlite:///path` or `postgresql+psycopg://user@host:port/db`.

        With `initialize=True` (default) the schema is created/checked now, raising
        StoreUnavailable if the database cannot be reached and SchemaVersionError if it is too new.
        With `initialize=False` that happens on first use (e.g. the first `ping()`), so a service
        can start while its database is still down and report not-ready until it is up.
        """
        parsed = _normalise_url(url)
        try:
            engine = _create_engine(parsed, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms, echo=echo)
        except OSError as exc:
            raise StoreUnavailable(f"cannot prepare the database location: {exc}") from exc
        try:
            return cls(engine, initialize=initialize)
        except BaseException:
            engine.dispose()
            raise

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def dispose(self) -> None:
        """Close pooled connections. The store reconnects if used again."""
        self._engine.dispose()

    def initialize(self) -> None:
        """Create missing tables and check/record the schema version (idempotent, race-safe)."""
        if self._initialized:
            return
        with self._init_lock:
            if self._initialized:
                return
            with self._transaction(write=True) as conn:
                if not self._is_sqlite:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_INIT_LOCK_KEY)))
                self._initialize_schema(conn)
            self._initialized = True

    @staticmethod
    def _initialize_schema(conn: Connection) -> None:
        current: int | None = None
        if sa.inspect(conn).has_table(schema_version.name):
            current = conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()
        if current is not None and current > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"the database schema is version {current}, but this code only knows versions up to "
                f"{SCHEMA_VERSION}: it was written by a newer release. Run that release (or newer), "
                "or point the service at another database; refusing to start."
            )
        if current is not None and current < SCHEMA_VERSION:
            for version in range(current, SCHEMA_VERSION):
                step = MIGRATIONS.get(version)
                if step is None:
                    raise SchemaVersionError(
                        f"the database schema is version {current} and there is no migration from "
                        f"version {version} to {version + 1}; refusing to start."
                    )
                step(conn)
                conn.execute(sa.insert(schema_version).values(version=version + 1, applied_at=_now()))
        metadata.create_all(conn, checkfirst=True)
        if current is None:
            conn.execute(sa.insert(schema_version).values(version=SCHEMA_VERSION, applied_at=_now()))

    def schema_version(self) -> int | None:
        """The highest schema version recorded in the database."""
        with self._transaction(write=False) as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar()

    def ping(self) -> None:
        """Readiness: raise StoreUnavailable (or SchemaVersionError) unless the store is usable."""
        self.initialize()
        with self._transaction(write=False) as conn:
            conn.execute(sa.text("SELECT 1"))

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        engine = self._write_engine if write else self._engine
        with self._connection_lock, _translate_errors(), engine.begin() as conn:
            yield conn

    def _insert_ignore(self, table: sa.Table, *columns: str) -> sa.Insert:
        """`INSERT ... ON CONFLICT (columns) DO NOTHING RETURNING id`: a row comes back iff inserted.

        RETURNING (SQLite >= 3.35, PostgreSQL) rather than rowcount, which drivers may report as -1.
        """
        return self._insert_ignore_statement(table, *columns).returning(table.c.id)

    def _insert_ignore_statement(self, table: sa.Table, *columns: str) -> sa.Insert:
        dialect_insert = sqlite_dialect.insert if self._is_sqlite else pg_dialect.insert
        return dialect_insert(table).on_conflict_do_nothing(index_elements=list(columns))

    # -- writes ------------------------------------------------------------------------------

    def record_cards(
        self,
        hook_instance: str,
        service_id: str,
        issued: Iterable[IssuedCard],
        *,
        created_at: datetime | None = None,
    ) -> int:
        """Remember the cards a hook instance returned; returns how many rows were new."""
        rows = self._card_rows(hook_instance, service_id, issued, created_at)
        if not rows:
            return 0
        self.initialize()
        with self._transaction(write=True) as conn:
            return self._insert_cards(conn, rows)

    def record_audit(self, record: AuditRecord) -> int:
        """Append one audit record; returns its id."""
        values = self._audit_values(record)
        self.initialize()
        with self._transaction(write=True) as conn:
            return self._insert_audit(conn, values)

    def prepare_call(self, record: AuditRecord, issued: Iterable[IssuedCard] = ()) -> PreparedCall:
        """Check a call's audit record and cards and turn them into rows, ready for `write_calls`."""
        rows = self._card_rows(record.hook_instance or "", record.service_id, issued, record.received_at) \
            if record.hook_instance else []
        return PreparedCall(self._audit_values(record), tuple(rows))

    def write_calls(self, calls: Sequence[PreparedCall]) -> None:
        """Several calls' audit records and cards in one transaction (see `group_commit`).

        The inserts go straight to the driver (`_DriverInsert`: SQLAlchemy's own per-statement work
        cost more CPU than the database's), their parameters converted before the write lock is taken.
        """
        if not calls:
            return
        self.initialize()
        insert_cards, insert_audit = self._call_inserts
        card_parameters = [insert_cards.parameters(row) for call in calls for row in call.card_rows]
        audit_parameters = [insert_audit.parameters(call.audit_values) for call in calls]
        with self._transaction(write=True) as conn:
            if card_parameters:
                insert_cards.executemany(conn, card_parameters)
            insert_audit.executemany(conn, audit_parameters)

    @functools.cached_property
    def _call_inserts(self) -> tuple[_DriverInsert, _DriverInsert]:
        """`write_calls`' two inserts, compiled once (after `initialize`, so the dialect knows its server)."""
        dialect = self._engine.dialect
        return (
            _DriverInsert(self._insert_ignore_statement(cards, "card_uuid", "hook_instance"), dialect),
            _DriverInsert(sa.insert(audit_log), dialect),
        )

    @staticmethod
    def _card_rows(hook_instance: str, service_id: str, issued: Iterable[IssuedCard],
                   created_at: datetime | None) -> list[dict[str, Any]]:
        hook_instance = str(_check_hook_instance(hook_instance))
        service_id = str(_check_identifier("service_id", service_id, 128))
        created = _check_aware("created_at", created_at) if created_at is not None else _now()
        return [
            {
                "card_uuid": card.uuid,
                "hook_instance": hook_instance,
                "service_id": service_id,
                "card_kind": card.kind,
                "suggestion_uuids": list(card.suggestion_uuids),
                "created_at": created,
            }
            for card in issued
        ]

    def _insert_cards(self, conn: Connection, rows: list[dict[str, Any]]) -> int:
        statement = self._insert_ignore(cards, "card_uuid", "hook_instance")
        return sum(conn.execute(statement, row).first() is not None for row in rows)

    @staticmethod
    def _audit_values(record: AuditRecord) -> dict[str, Any]:
        if not isinstance(record, AuditRecord):
            raise TypeError("record_audit takes an AuditRecord")
        return {
            "hook_instance": record.hook_instance,
            "service_id": record.service_id,
            "hook": record.hook,
            "received_at": record.received_at,
            "ruleset_version": record.ruleset_version,
            "inputs_digest": record.inputs_digest,
            "patient_ref": record.patient_ref,
            "stage": record.stage,
            "stage_candidates": list(record.stage_candidates),
            "inrg2009_group": record.inrg2009_group,
            "inrg2009_risk": record.inrg2009_risk,
            "cog2021_risk": record.cog2021_risk,
            "card_uuids": list(record.card_uuids),
            "latency_ms": record.latency_ms,
            "http_status": record.http_status,
            "prefetch": dict(record.prefetch),
        }

    @staticmethod
    def _insert_audit(conn: Connection, values: dict[str, Any]) -> int:
        result = conn.execute(sa.insert(audit_log).values(**values))
        return int(result.inserted_primary_key[0])

    def save_feedback(
        self,
        service_id: str,
        entries: Iterable[FeedbackEntry],
        *,
        received_at: datetime | None = None,
    ) -> list[SavedFeedback]:
        """Store validated feedback entries idempotently, in one transaction.

        Each entry is linked to the latest issuance of its card by this service (card id, hook
        instance and kind); a card this service never issued is stored with card_known = False.
        Returns one SavedFeedback per entry, in order: created=True if newly stored, False if an
        identical entry (same idempotency key) was already stored, including earlier in the batch.
        """
        service_id = str(_check_identifier("service_id", service_id, 128))
        entries = list(entries)
        for entry in entries:
            if not isinstance(entry, FeedbackEntry):
                raise TypeError("save_feedback takes FeedbackEntry objects (see parse_feedback)")
        if not entries:
            return []
        received = _check_aware("received_at", received_at) if received_at is not None else _now()
        self.initialize()
        statement = self._insert_ignore(feedback, "idempotency_key")
        results: list[SavedFeedback] = []
        with self._transaction(write=True) as conn:
            issued = self._latest_issuances(conn, service_id, {entry.card for entry in entries})
            for entry in entries:
                key = feedback_idempotency_key(service_id, entry)
                card_row = issued.get(entry.card)
                reason = entry.override_reason
                coding = reason.reason if reason else None
                values = {
                    "idempotency_key": key,
                    "service_id": service_id,
                    "card_uuid": entry.card,
                    "card_known": card_row is not None,
                    "card_id": card_row.id if card_row is not None else None,
                    "hook_instance": card_row.hook_instance if card_row is not None else None,
                    "card_kind": card_row.card_kind if card_row is not None else None,
                    "outcome": entry.outcome,
                    "accepted_suggestions": list(entry.accepted_suggestions),
                    "override_reason_system": coding.system if coding else None,
                    "override_reason_code": coding.code if coding else None,
                    "override_reason_display": coding.display if coding else None,
                    "user_comment": reason.user_comment if reason else None,
                    "outcome_timestamp": entry.outcome_timestamp,
                    "received_at": received,
                }
                created = conn.execute(statement, values).first() is not None
                results.append(
                    SavedFeedback(
                        index=entry.index,
                        card=entry.card,
                        idempotency_key=key,
                        created=created,
                        card_known=card_row is not None,
                        hook_instance=card_row.hook_instance if card_row is not None else None,
                        card_kind=card_row.card_kind if card_row is not None else None,
                    )
                )
        return results

    @staticmethod
    def _latest_issuances(conn: Connection, service_id: str, card_uuids: set[str]) -> dict[str, sa.Row[Any]]:
        latest: dict[str, sa.Row[Any]] = {}
        ordered = sorted(card_uuids)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            rows = conn.execute(
                sa.select(cards.c.id, cards.c.card_uuid, cards.c.hook_instance, cards.c.card_kind)
                .where(cards.c.service_id == service_id, cards.c.card_uuid.in_(chunk))
                .order_by(cards.c.created_at, cards.c.id)
            )
            for row in rows:
                latest[row.card_uuid] = row  # later issuances overwrite earlier ones
        return latest

    # -- reads -------------------------------------------------------------------------------

    def issued_cards(self, hook_instance: str) -> list[IssuedCard]:
        """The cards recorded for a hook instance."""
        self.initialize()
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                sa.select(cards.c.card_uuid, cards.c.card_kind, cards.c.suggestion_uuids)
                .where(cards.c.hook_instance == hook_instance)
                .order_by(cards.c.id)
            ).all()
        return [IssuedCard(r.card_uuid, r.card_kind, tuple(r.suggestion_uuids or ())) for r in rows]

    def audit_records(self, *, hook_instance: str | None = None, limit: int = 1000) -> list[AuditRecord]:
        """Audit records, oldest first, optionally for one hook instance."""
        self.initialize()
        query = sa.select(audit_log).order_by(audit_log.c.id).limit(limit)
        if hook_instance is not None:
            query = query.where(audit_log.c.hook_instance == hook_instance)
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        return [
            AuditRecord(
                service_id=r.service_id,
                received_at=r.received_at,
                ruleset_version=r.ruleset_version,
                http_status=r.http_status,
                latency_ms=r.latency_ms,
                hook_instance=r.hook_instance,
                hook=r.hook,
                inputs_digest=r.inputs_digest,
                patient_ref=r.patient_ref,
                stage=r.stage,
                stage_candidates=tuple(r.stage_candidates or ()),
                inrg2009_group=r.inrg2009_group,
                inrg2009_risk=r.inrg2009_risk,
                cog2021_risk=r.cog2021_risk,
                card_uuids=tuple(r.card_uuids or ()),
                prefetch=dict(r.prefetch or {}),
            )
            for r in rows
        ]

    def feedback_records(
        self, *, card: str | None = None, hook_instance: str | None = None, limit: int = 1000
    ) -> list[StoredFeedback]:
        """Stored feedback, oldest first, optionally for one card uuid or hook instance."""
        self.initialize()
        query = sa.select(feedback).order_by(feedback.c.id).limit(limit)
        if card is not None:
            query = query.where(feedback.c.card_uuid == (normalise_uuid(card) or card))
        if hook_instance is not None:
            query = query.where(feedback.c.hook_instance == hook_instance)
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).all()
        result = []
        for r in rows:
            coding = (
                Coding(r.override_reason_system, r.override_reason_code, r.override_reason_display)
                if r.override_reason_code is not None
                else None
            )
            reason = OverrideReason(coding, r.user_comment) if coding is not None or r.user_comment else None
            result.append(
                StoredFeedback(
                    id=r.id,
                    idempotency_key=r.idempotency_key,
                    service_id=r.service_id,
                    card=r.card_uuid,
                    card_known=bool(r.card_known),
                    hook_instance=r.hook_instance,
                    card_kind=r.card_kind,
                    outcome=r.outcome,
                    accepted_suggestions=tuple(r.accepted_suggestions or ()),
                    override_reason=reason,
                    outcome_timestamp=r.outcome_timestamp,
                    received_at=r.received_at,
                )
            )
        return result

    def read(self) -> AbstractContextManager[Connection]:
        """A read-only transaction for reports: `with store.read() as conn: ...`."""
        self.initialize()
        return self._transaction(write=False)
