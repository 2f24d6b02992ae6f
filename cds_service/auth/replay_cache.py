"""Replay protection for client JWTs: remember each (iss, jti) until the token can no longer be used.

CDS Hooks asks for a `jti` nonce precisely so a captured token cannot be replayed. An entry only
needs to live until the token's `exp` plus the verifier's clock leeway; after that the expiry
check rejects the token anyway, so memory stays bounded by (request rate x token lifetime).

The in-memory cache is per process: with several gunicorn workers a replay may land on another
worker. The service therefore uses the store's table (`cds_service/store/replay.py`), shared by every
worker and replica, with the in-memory cache only as the fallback while the database is unreachable
(`FallbackReplayCache`). Unit tests use the in-memory one.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["FallbackReplayCache", "InMemoryReplayCache", "ReplayCache", "ReplayCacheFullError"]

log = logging.getLogger(__name__)


class ReplayCacheFullError(RuntimeError):
    """The cache is at capacity with unexpired entries.

    We fail closed rather than evict live entries: evicting would silently re-open the replay
    window for those tokens.
    """


@runtime_checkable
class ReplayCache(Protocol):
    """Anything that can atomically record a (issuer, jti) pair until a wall-clock deadline."""

    def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Record the pair; return True if it was unseen, False if it is a replay."""
        ...


class InMemoryReplayCache:
    """Thread-safe, size-bounded, expiring set of (issuer, jti) pairs."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self._max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._expiry: dict[tuple[str, str], float] = {}
        # Min-heap of (expires_at, key) so purging expired entries is O(log n) each.
        self._heap: list[tuple[float, tuple[str, str]]] = []

    def __len__(self) -> int:
        with self._lock:
            self._purge(self._clock())
            return len(self._expiry)

    def _purge(self, now: float) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            expires_at, key = heapq.heappop(heap)
            if self._expiry.get(key) == expires_at:
                del self._expiry[key]

    def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
        """Return True and remember the pair if unseen (or expired); False if it is a replay."""
        key = (issuer, jti)
        with self._lock:
            now = self._clock()
            self._purge(now)
            if key in self._expiry:
                return False
            if expires_at <= now:
                # Already unusable: nothing to remember, and the verifier rejects it on `exp`.
                return True
            if len(self._expiry) >= self._max_entries:
                raise ReplayCacheFullError("replay cache full")
            self._expiry[key] = expires_at
            heapq.heappush(self._heap, (expires_at, key))
            return True


class FallbackReplayCache:
    """A shared cache, and a per-process one used while the shared one raises one of `failures`.

    While the database is down, clinical answers must go on (docs/reliability.md): tokens are then checked
    against this process's memory only. After a failure the shared cache is left alone for
    `retry_after_seconds` (a database that does not answer at all costs its connect timeout once per
    interval, not on every call), and the switch is logged once per outage. Any other exception propagates.
    """

    def __init__(self, shared: ReplayCache, local: ReplayCache, failures: tuple[type[Exception], ...],
                 *, retry_after_seconds: float = 5.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._shared = shared
        self._local = local
        self._failures = failures
        self._retry_after = retry_after_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._shared_down_until: float | None = None

    def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
        with self._lock:
            down = self._shared_down_until is not None and self._monotonic() < self._shared_down_until
        if not down:
            try:
                fresh = self._shared.check_and_store(issuer, jti, expires_at)
            except self._failures as error:
                with self._lock:
                    first = self._shared_down_until is None
                    self._shared_down_until = self._monotonic() + self._retry_after
                if first:
                    log.warning("the shared replay cache is unavailable (%s): checking this process's memory only "
                                "until it is back", type(error).__name__)
            else:
                with self._lock:
                    if self._shared_down_until is not None:
                        log.warning("the shared replay cache is back")
                    self._shared_down_until = None
                return fresh
        return self._local.check_and_store(issuer, jti, expires_at)
