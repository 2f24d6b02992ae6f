"""Bringing a database to the schema this code writes: Alembic revisions, run in-process at start-up.

- One transaction does it all, holding the upgrade lock: PostgreSQL's advisory lock (DDL is transactional
  there), SQLite's write lock (`BEGIN IMMEDIATE`). Workers starting together take turns; the later ones
  find the database at head and do nothing. A failed upgrade leaves the database as it was.
- A database made before Alembic has the old hand-rolled `schema_version` table (version 1) and no
  `alembic_version`: it is stamped at revision 0001 (the same tables), upgraded, and `schema_version` dropped.
- A database at a revision this code does not know (written by a newer release) is refused with
  `SchemaVersionError` before anything is changed.

No alembic.ini: the revisions ship inside the package (`migrations/`), found next to this module.
"""

from __future__ import annotations

import functools
import re
import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from .engine import Database
from .errors import SchemaVersionError

__all__ = ["SchemaGate", "downgrade_schema", "head_revision", "upgrade_schema"]

MIGRATIONS_DIRECTORY = Path(__file__).with_name("migrations")
LEGACY_VERSION_TABLE = "schema_version"
_LEGACY_REVISION = "0001"  # what `schema_version` 1 holds
_STORE_TABLES = frozenset({"cards", "feedback", "audit_log", "jwt_replay"})
_PG_UPGRADE_LOCK_KEY = 0x6E62_6364_735F_7631  # arbitrary constant, the same one the pre-Alembic code took


def _alembic_config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    config.attributes["connection"] = conn
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIRECTORY))


def head_revision() -> str:
    """The newest revision this code knows."""
    head = _scripts().get_current_head()
    assert head is not None, "the store's migrations have no head"  # noqa: S101 - shipped with the code
    return head


def _shown(revision: object) -> str:
    """A revision id from the database, safe to put in a message."""
    return re.sub(r"[^A-Za-z0-9_.-]", "?", str(revision))[:32]


def _take_upgrade_lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_UPGRADE_LOCK_KEY)))
    # SQLite: the write transaction (BEGIN IMMEDIATE) is the lock.


def _legacy_version(conn: Connection) -> int | None:
    table = sa.table(LEGACY_VERSION_TABLE, sa.column("version", sa.Integer))
    return conn.execute(sa.select(sa.func.max(table.c.version))).scalar()


def _adopt_legacy_schema(conn: Connection) -> None:
    """Stamp a pre-Alembic database at 0001 if its `schema_version` says it holds exactly those tables."""
    version = _legacy_version(conn)
    if version is not None and version > 1:
        raise SchemaVersionError(
            f"the database schema is version {int(version)}, but this code only knows version 1 of the old "
            "numbering: it was written by a newer release. Run that release (or newer), or point the service "
            "at another database; refusing to start."
        )
    if version != 1:
        raise SchemaVersionError("the database has an empty schema_version table; refusing to guess its schema")
    MigrationContext.configure(conn).stamp(_scripts(), _LEGACY_REVISION)


def _current_known_revisions(conn: Connection) -> tuple[str, ...]:
    """The database's current revisions; SchemaVersionError if this code does not know one."""
    current = MigrationContext.configure(conn).get_current_heads()
    scripts = _scripts()
    for revision in current:
        try:
            known = scripts.get_revision(revision)
        except CommandError:  # "Can't locate revision identified by ..."
            known = None
        if known is None:
            raise SchemaVersionError(
                f"the database schema is at revision {_shown(revision)!r}, which this code does not know: it "
                "was written by a newer release. Run that release (or newer), or point the service at another "
                "database; refusing to start."
            )
    return current


def _upgrade_in(conn: Connection) -> None:
    """Adopt a pre-Alembic database, refuse an unknown one, upgrade to head (inside the caller's transaction)."""
    tables = set(sa.inspect(conn).get_table_names())
    legacy = "alembic_version" not in tables and LEGACY_VERSION_TABLE in tables
    if legacy:
        _adopt_legacy_schema(conn)
    elif "alembic_version" not in tables and tables & _STORE_TABLES:
        raise SchemaVersionError("the database holds store tables but no schema revision; refusing to guess it")
    if _current_known_revisions(conn) != (head_revision(),):
        command.upgrade(_alembic_config(conn), "head")
    if legacy:
        sa.Table(LEGACY_VERSION_TABLE, sa.MetaData()).drop(conn)


def upgrade_schema(database: Database) -> None:
    """Bring the database to head (idempotent, safe to run from many processes at once)."""
    with database.transaction(write=True) as conn:
        _take_upgrade_lock(conn)
        _upgrade_in(conn)


def downgrade_schema(database: Database, revision: str) -> None:
    """Take the database back to `revision` (an operator's step before running an older release)."""
    with database.transaction(write=True) as conn:
        _take_upgrade_lock(conn)
        _current_known_revisions(conn)
        command.downgrade(_alembic_config(conn), revision)


class SchemaGate:
    """Upgrades the schema once per process, on first use, so the service can start while its database is down."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._lock = threading.Lock()
        self._done = False

    def ensure(self) -> None:
        """Upgrade now unless done already: StoreUnavailable if the database is down, SchemaVersionError if newer."""
        if self._done:
            return
        with self._lock:
            if not self._done:
                upgrade_schema(self._database)
                self._done = True
