"""Replay protection for client JWTs shared by every worker and replica: the used tokens, in the database.

CDS Hooks asks for a `jti` nonce so that a captured token cannot be used twice. A per-process memory of
`jti`s let every token work once per gunicorn worker and once per replica (issue 16); here one table holds
them for every process that shares the database.

`check_and_store(issuer, jti, expires_at)` is one statement, atomic on SQLite and PostgreSQL alike:
`INSERT … ON CONFLICT (token_key) DO UPDATE … WHERE the stored row has expired … RETURNING token_key`. It
writes a row and returns it (True: first use) unless a live row is there (nothing returned, False: a
replay), and two processes racing with the same token cannot both win. (RETURNING rather than the rowcount,
which psycopg reports as -1 for this statement.) The key is a sha256 of the issuer and the `jti` (fixed
width, no token material). Rows are kept until the token's `exp` plus the verifier's leeway, after which
the token fails its `exp` check anyway; expired rows are deleted at most once a minute per process.

It satisfies the verifier's `ReplayCache` port (cds_service/auth/replay_cache.py) without importing it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from .engine import Database
from .tables import UTCDateTime, jwt_replay

__all__ = ["SqlReplayCache", "replay_key"]

PURGE_INTERVAL_SECONDS = 60.0


def replay_key(issuer: str, jti: str) -> str:
    """The row key of a token: sha256 of its issuer and `jti` (a NUL cannot occur in either, so no ambiguity)."""
    return hashlib.sha256(f"{issuer}\x00{jti}".encode("utf-8", "surrogatepass")).hexdigest()


def _instant(epoch_seconds: float) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC)


class SqlReplayCache:
    """The used-token table (implements `cds_service.auth.ReplayCache`). Thread- and fork-safe.

    Raises `StoreUnavailable` / `StoreError` like every store method: the composition root decides what a
    failure means (it falls back to a per-process cache while the database is down).
    """

    def __init__(self, database: Database, ensure_schema: Callable[[], None],
                 clock: Callable[[], float] = time.time) -> None:
        self._database = database
        self._ensure_schema = ensure_schema
        self._clock = clock
        self._purge_lock = threading.Lock()
        self._next_purge = 0.0
        # Insert, or take over the row of an expired earlier use; a live row is left alone (a replay).
        self._remember = database.insert_or_update_where(
            jwt_replay, "token_key", ("expires_at",),
            where=jwt_replay.c.expires_at <= sa.bindparam("now", type_=UTCDateTime)).returning(jwt_replay.c.token_key)

    def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record the token; True if it was unused (or its earlier use has expired), False if it is a replay."""
        now = self._clock()
        if expires_at <= now:
            return True  # already unusable: nothing to remember, and the verifier refuses it on `exp`
        self._ensure_schema()
        with self._database.transaction(write=True) as conn:
            self._purge_if_due(conn, now)
            written = conn.execute(self._remember, {"token_key": replay_key(issuer, jti),
                                                    "expires_at": _instant(expires_at), "now": _instant(now)})
            return written.first() is not None

    def _purge_if_due(self, conn: sa.Connection, now: float) -> None:
        with self._purge_lock:
            if now < self._next_purge:
                return
            self._next_purge = now + PURGE_INTERVAL_SECONDS
        conn.execute(sa.delete(jwt_replay).where(jwt_replay.c.expires_at <= _instant(now)))

    def purge(self) -> int:
        """Delete every expired row now; how many were deleted (for operators and tests)."""
        self._ensure_schema()
        with self._database.transaction(write=True) as conn:
            return int(conn.execute(sa.delete(jwt_replay).where(
                jwt_replay.c.expires_at <= _instant(self._clock()))).rowcount)
