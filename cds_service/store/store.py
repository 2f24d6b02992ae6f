"""The store as callers wire it: one object holding the audit log and the feedback log over one database.

`open_store(url)` is the composition root's one call. `Store.audit` and `Store.feedback` satisfy the
protocols in ports.py, `Store.ping()` the readiness one, `Store.replay` the client-token verifier's
`ReplayCache` (the used JWTs, shared by every process). The schema is brought up to date on first use
(or at once with `initialize=True`), so a service may start while its database is still down.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .audit_log import SqlAuditLog
from .engine import DEFAULT_SQLITE_BUSY_TIMEOUT_MS, Database
from .feedback import SqlFeedbackLog
from .migrate import SchemaGate
from .replay import SqlReplayCache

__all__ = ["Store", "open_store"]


class Store:
    """Feedback, issued cards and the audit log in one database. Thread-safe; fork-safe."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._schema = SchemaGate(database)
        self.audit = SqlAuditLog(database, self._schema.ensure)
        self.feedback = SqlFeedbackLog(database, self._schema.ensure)
        self.replay = SqlReplayCache(database, self._schema.ensure)

    def initialize(self) -> None:
        """Bring the schema up to date now (StoreUnavailable, SchemaVersionError); otherwise on first use."""
        self._schema.ensure()

    def ping(self) -> None:
        """Readiness: raise StoreUnavailable (or SchemaVersionError) unless the store is usable."""
        self._schema.ensure()
        with self.database.transaction(write=False) as conn:
            conn.execute(sa.select(1))

    def read(self) -> AbstractContextManager[Connection]:
        """A read-only transaction for reports: `with store.read() as conn: ...`."""
        self._schema.ensure()
        return self.database.transaction(write=False)

    def dispose(self) -> None:
        """Close pooled connections; the store reconnects if used again."""
        self.database.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Store({self.database!r})"


def open_store(url: str | sa.URL, *, initialize: bool = True,
               sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS, echo: bool = False) -> Store:
    """Open `sqlite:///path` or `postgresql+psycopg://user@host:port/db` (ValueError for anything else).

    With `initialize=True` the schema is brought up to date now, raising StoreUnavailable if the database
    cannot be reached and SchemaVersionError if it was written by a newer release.
    """
    store = Store(Database.open(url, sqlite_busy_timeout_ms=sqlite_busy_timeout_ms, echo=echo))
    if initialize:
        try:
            store.initialize()
        except BaseException:
            store.dispose()
            raise
    return store
