"""Opening the database: URL rules, one engine per backend, transactions, and driver errors as store errors.

SQLite (the default) is opened in WAL mode with foreign keys, a busy timeout and `synchronous=FULL`, and
write transactions start with `BEGIN IMMEDIATE`: several gunicorn workers writing one file then queue on
the busy timeout instead of failing when a reader tries to upgrade its lock. PostgreSQL (production)
sessions ask for `synchronous_commit=on` whatever the server's default, so an acknowledged write survives
a server crash. A forked child forgets its parent's pooled connections instead of sharing them.

Unavailability (connection refused or lost, database locked past the busy timeout, disk full) becomes
`StoreUnavailable`, so the HTTP layer can answer 503; any other driver error becomes `StoreError`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from .errors import StoreError, StoreUnavailable

__all__ = [
    "DEFAULT_SQLITE_BUSY_TIMEOUT_MS",
    "Database",
    "create_engine",
    "normalise_url",
    "translating_driver_errors",
]

DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 10_000
_PG_CONNECT_TIMEOUT_S = 5
_SQLITE_BEGIN_OPTION = "nbcds_sqlite_begin"
_REASON_LIMIT = 160  # characters of a driver's message kept in a StoreUnavailable


def normalise_url(url: str | sa.URL) -> sa.URL:
    """`sqlite:///path` or `postgresql+psycopg://...` (`postgres://` and `postgresql://` mean psycopg)."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError("not a database URL: use sqlite:///path or postgresql+psycopg://...") from None
    backend = parsed.get_backend_name()
    if parsed.drivername in ("postgres", "postgresql"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "postgresql" and parsed.get_driver_name() != "psycopg":
        raise ValueError("PostgreSQL URLs must use the psycopg driver: postgresql+psycopg://...")
    if backend == "sqlite" and parsed.get_driver_name() != "pysqlite":
        raise ValueError("SQLite URLs must use the standard driver: sqlite:///path")
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend[:32]!r}: use sqlite:///path or postgresql+psycopg://...")
    return parsed


def _sqlite_is_memory(url: sa.URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


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


def _postgres_engine(url: sa.URL, *, echo: bool) -> Engine:
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        # synchronous_commit=on for our sessions whatever the server's default: a commit is only
        # acknowledged once its WAL is written, so acknowledged feedback survives a server crash.
        connect_args={"connect_timeout": _PG_CONNECT_TIMEOUT_S, "application_name": "nbcds",
                      "options": "-c synchronous_commit=on"},
        echo=echo,
    )


def _sqlite_engine(url: sa.URL, *, busy_ms: int, echo: bool) -> Engine:
    memory = _sqlite_is_memory(url)
    if memory:  # one connection shared by every thread, or each would see its own empty database
        engine = sa.create_engine(url, poolclass=sa.pool.StaticPool, connect_args={"check_same_thread": False},
                                  echo=echo)
    else:
        Path(str(url.database)).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": busy_ms / 1000.0}, echo=echo)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let the "begin" listener below issue BEGIN (pysqlite's implicit transactions would defer it
        # and break transactional DDL and BEGIN IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            if not memory:
                _enable_wal(cursor, busy_ms)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_SQLITE_BEGIN_OPTION) == "IMMEDIATE"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def create_engine(url: sa.URL, *, sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
                  echo: bool = False) -> Engine:
    """An engine set up for `url` (already normalised) as described above."""
    if url.get_backend_name() == "postgresql":
        return _postgres_engine(url, echo=echo)
    return _sqlite_engine(url, busy_ms=sqlite_busy_timeout_ms, echo=echo)


_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.DisconnectionError,
    sa.exc.TimeoutError,
)


@contextmanager
def translating_driver_errors() -> Iterator[None]:
    """Raise SQLAlchemy and driver errors as `StoreUnavailable` or `StoreError` (the original as the cause)."""
    try:
        yield
    except _UNAVAILABLE_ERRORS as exc:
        raise StoreUnavailable(f"database unavailable: {_reason(exc)}") from exc
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise StoreUnavailable(f"database connection lost: {_reason(exc)}") from exc
        raise StoreError(f"database error: {_error_code(exc)}") from exc


def _reason(exc: BaseException) -> str:
    """The first line of the driver's message, bounded (e.g. "database is locked", "connection refused").

    Never SQLAlchemy's own text, which appends the SQL and its parameters.
    """
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0][:_REASON_LIMIT] if lines else type(exc).__name__


def _error_code(exc: sa.exc.DBAPIError) -> str:
    """The error's class and code only: a constraint or type error's message may quote the value refused."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
    name = type(exc).__name__
    return f"{name} ({str(code)[:32]})" if code else name


def _forget_pool_after_fork(engine_ref: weakref.ReferenceType[Engine]) -> None:
    engine = engine_ref()
    if engine is not None:
        engine.dispose(close=False)  # the parent's connections are the parent's: do not close them


class Database:
    """An engine and the rules for using it: every statement runs in `transaction()`. Thread- and fork-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_engine = (
            engine.execution_options(**{_SQLITE_BEGIN_OPTION: "IMMEDIATE"}) if self.is_sqlite else engine
        )
        # An in-memory SQLite database is one shared connection (StaticPool): one user at a time.
        self._connection_lock: AbstractContextManager[object] = (
            threading.RLock() if isinstance(engine.pool, sa.pool.StaticPool) else contextlib.nullcontext()
        )
        engine_ref = weakref.ref(engine)
        os.register_at_fork(after_in_child=lambda: _forget_pool_after_fork(engine_ref))

    @classmethod
    def open(cls, url: str | sa.URL, *, sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
             echo: bool = False) -> Database:
        """Parse `url` (ValueError if it is not one we support) and set up its engine; connects lazily."""
        parsed = normalise_url(url)
        try:
            return cls(create_engine(parsed, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms, echo=echo))
        except OSError as exc:
            raise StoreUnavailable(f"cannot prepare the database location: {exc.strerror or 'error'}") from exc

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction, committed on leaving (rolled back on error); driver errors as store errors.

        `write=True` takes SQLite's write lock at BEGIN.
        """
        engine = self._write_engine if write else self.engine
        with self._connection_lock, translating_driver_errors(), engine.begin() as conn:
            yield conn

    def insert_or_ignore(self, table: sa.Table, *conflict_columns: str) -> sa.Insert:
        """`INSERT ... ON CONFLICT (conflict_columns) DO NOTHING` (SQLite >= 3.24 and PostgreSQL)."""
        dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        return dialect_insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))

    def insert_or_update_where(self, table: sa.Table, conflict_column: str, update_columns: tuple[str, ...],
                               where: sa.ColumnElement[bool]) -> sa.Insert:
        """`INSERT ... ON CONFLICT (conflict_column) DO UPDATE SET update_columns = excluded... WHERE where`.

        It writes nothing when the conflicting row fails `where` (add `.returning(...)` to tell).
        """
        dialect_insert = sqlite.insert if self.is_sqlite else postgresql.insert
        statement = dialect_insert(table)
        return statement.on_conflict_do_update(
            index_elements=[conflict_column], set_={name: statement.excluded[name] for name in update_columns},
            where=where)

    def dispose(self) -> None:
        """Close pooled connections; the next transaction reconnects."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)!r})"
