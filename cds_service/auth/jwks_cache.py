"""Per-issuer cache of the CDS clients' public signing keys; a slow key endpoint cannot hang anything.

Why not `jwt.PyJWKClient`: it fetches from whatever URL it is given with a single timeout, and it
refetches on *every* unknown `kid`, so a stream of tokens with random `kid`s would make us hammer
the EHR's key endpoint. Here each issuer has one configured key source, an unknown `kid` triggers
at most one refetch per `min_refetch_seconds`, and a failed refetch keeps the keys we already have
(key rotation, cds-hooks/sandbox#38, must not take the service down). Parsing and the crypto stay
PyJWT's (`PyJWK`).

A token only has to *name* a trusted issuer (no valid signature needed) to make us look its keys up,
so the look-up must stay cheap whatever the issuer's key endpoint does (issue 16: a dripping endpoint
held a lock for ever and every request behind it):

- a fetch has **one total deadline** (`fetch_deadline_seconds`, body included: `key_fetch.py`);
- **no lock is held across I/O**: the cache's lock guards a few field updates only;
- **one fetch in flight per issuer**: tokens arriving meanwhile wait for that fetch, never beyond its
  deadline, and at most `max_waiting` requests of this process wait on key fetches at once; the others
  are answered at once from what is cached (an unknown `kid` is then a prompt 401);
- **a short negative cache**: whatever a fetch's outcome, the issuer's endpoint is not asked again for
  `min_refetch_seconds`; tokens meanwhile are answered from the cache.

Only keys usable with the algorithms CDS Hooks recommends are kept: EC P-384 for ES384 and RSA
(>= 2048 bits) for RS384. Each is bound to its algorithm, so a token can never pick another one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jwt import PyJWK
from jwt.exceptions import PyJWTError

from .key_fetch import DEFAULT_FETCHER, JwksFetchError, KeySetSource
from .trusted_issuers import TrustedIssuer, TrustedIssuerConfigError

__all__ = ["ALLOWED_ALGORITHMS", "JwksCache", "JwksUnavailableError", "parse_jwks"]

log = logging.getLogger(__name__)

#: The only JWS algorithms accepted (CDS Hooks: ES384 and RS384 RECOMMENDED; `none` and HS* forbidden).
ALLOWED_ALGORITHMS: tuple[str, ...] = ("ES384", "RS384")
_MIN_RSA_BITS = 2048
# Private-key members are dropped so a keypair file configured by mistake still yields public keys only.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# A fetch whose future has not finished this long after its deadline is treated as lost (never expected).
_LOST_FETCH_GRACE_SECONDS = 5.0


class JwksUnavailableError(Exception):
    """No key set could be obtained for an issuer (nothing cached and the source failed)."""


def _algorithm_for(jwk: Mapping[str, Any]) -> str | None:
    """The single accepted algorithm a JWK may verify, or None if it is not usable for us."""
    kty, declared = jwk.get("kty"), jwk.get("alg")
    if kty == "EC" and jwk.get("crv") == "P-384":
        alg = "ES384"
    elif kty == "RSA":
        alg = "RS384"
    else:
        return None
    if declared is not None and declared != alg:
        return None
    return alg


def parse_jwks(data: Any) -> dict[str, PyJWK]:
    """Turn a JWK Set into {kid: PyJWK bound to ES384/RS384}; raise ValueError if none is usable."""
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWK Set")
    keys: dict[str, PyJWK] = {}
    for raw in data["keys"]:
        if not isinstance(raw, Mapping):
            continue
        kid = raw.get("kid")
        if not isinstance(kid, str) or not kid or kid in keys:
            continue  # CDS Hooks requires kid; a duplicate kid is ambiguous, so the first one wins.
        if raw.get("use", "sig") != "sig":
            continue
        key_ops = raw.get("key_ops")
        if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
            continue
        alg = _algorithm_for(raw)
        if alg is None:
            continue
        public = {name: value for name, value in raw.items() if name not in _PRIVATE_MEMBERS}
        try:
            jwk = PyJWK.from_dict(public, algorithm=alg)
        except (PyJWTError, ValueError, TypeError):
            continue
        if alg == "RS384" and getattr(jwk.key, "key_size", 0) < _MIN_RSA_BITS:
            continue
        keys[kid] = jwk
    if not keys:
        raise ValueError("JWK Set has no usable ES384/RS384 signing key")
    return keys


def _read_file(path: str) -> Mapping[str, Any]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError) as exc:
        raise JwksFetchError(type(exc).__name__) from None
    if not isinstance(value, dict):
        raise JwksFetchError("not_a_jwks")
    return value


@dataclass
class _Fetch:
    """A key fetch in flight: `done` is set once its outcome is applied to the cache."""

    ends_at: float  # the fetch's deadline, on the cache's monotonic clock
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _IssuerKeys:
    config: TrustedIssuer
    keys: dict[str, PyJWK] | None = None
    loaded_at: float = 0.0
    last_attempt: float | None = None
    fetch: _Fetch | None = None

    @property
    def static(self) -> bool:
        return self.config.jwks is not None


class JwksCache:
    """Signing keys per trusted issuer, refreshed lazily, rate-limited and never waited on beyond a deadline.

    - URL sources are fetched on first use (the EHR may be down when we start), inline and file
      sources are loaded at construction so a broken configuration fails fast.
    - A refresh happens when a `kid` is unknown or the set is older than `max_age_seconds` (so a
      key the client withdrew stops being trusted), never more than once per `min_refetch_seconds`.
    - See the module docstring for what a slow or failing key endpoint can and cannot do.
    """

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        *,
        min_refetch_seconds: float = 5.0,
        max_age_seconds: float = 3600.0,
        fetch_deadline_seconds: float = 2.0,
        max_waiting: int = 2,
        monotonic: Callable[[], float] = time.monotonic,
        fetcher: KeySetSource = DEFAULT_FETCHER,
    ) -> None:
        if fetch_deadline_seconds <= 0 or max_waiting < 0:
            raise ValueError("the fetch deadline must be > 0 and max_waiting >= 0")
        self._min_refetch = float(min_refetch_seconds)
        self._max_age = float(max_age_seconds)
        self._deadline = float(fetch_deadline_seconds)
        self._max_waiting = max_waiting
        self._monotonic = monotonic
        self._fetcher = fetcher
        self._lock = threading.Lock()  # guards the entries' fields and `_waiting`; never held across I/O
        self._waiting = 0
        self._entries: dict[str, _IssuerKeys] = {}
        for issuer in issuers:
            if issuer.issuer in self._entries:
                raise TrustedIssuerConfigError(f"duplicate trusted issuer {issuer.issuer!r}")
            entry = _IssuerKeys(config=issuer)
            if issuer.jwks_url is None:
                try:
                    entry.keys = parse_jwks(self._local_source(issuer))
                except (ValueError, JwksFetchError) as exc:
                    raise TrustedIssuerConfigError(
                        f"issuer {issuer.issuer!r}: unusable JWKS ({exc})"
                    ) from None
                entry.loaded_at = self._monotonic()
            self._entries[issuer.issuer] = entry

    @property
    def fetch_deadline_seconds(self) -> float:
        return self._deadline

    @staticmethod
    def _local_source(issuer: TrustedIssuer) -> Mapping[str, Any]:
        if issuer.jwks is not None:
            return issuer.jwks
        if issuer.jwks_file is not None:
            return _read_file(issuer.jwks_file)
        raise JwksFetchError("no_local_source")  # unreachable: URL sources are fetched

    def kids(self, issuer: str) -> frozenset[str]:
        """The `kid`s currently cached for an issuer (for diagnostics and tests)."""
        with self._lock:
            entry = self._entries.get(issuer)
            return frozenset(entry.keys) if entry is not None and entry.keys is not None else frozenset()

    def get_key(self, issuer: str, kid: str) -> PyJWK | None:
        """The key for (issuer, kid), refreshing if allowed; None if the kid stays unknown.

        Raises KeyError for an unconfigured issuer and JwksUnavailableError if no key set has
        ever been obtained for it. Returns within the fetch deadline, whatever the key endpoint does.
        """
        entry = self._entries[issuer]
        reload_file = False
        started: _Fetch | None = None
        wait_for: _Fetch | None = None
        with self._lock:
            now = self._monotonic()
            fresh = entry.keys is not None and (entry.static or now - entry.loaded_at <= self._max_age)
            if fresh and entry.keys is not None and kid in entry.keys:
                return entry.keys[kid]
            if entry.fetch is not None and now > entry.fetch.ends_at + _LOST_FETCH_GRACE_SECONDS:
                entry.fetch = None
            if entry.fetch is None and self._may_refresh(entry, now):
                entry.last_attempt = now
                if entry.config.jwks_url is not None:
                    entry.fetch = started = _Fetch(ends_at=now + self._deadline)
                else:
                    reload_file = True
            if entry.fetch is not None and self._waiting < self._max_waiting:
                wait_for = entry.fetch
                self._waiting += 1
        if started is not None and entry.config.jwks_url is not None:
            self._start_fetch(entry, entry.config.jwks_url, started)
        if reload_file:
            self._reload_file(entry)
        if wait_for is not None:
            try:
                wait_for.done.wait(max(0.0, wait_for.ends_at - self._monotonic()))
            finally:
                with self._lock:
                    self._waiting -= 1
        with self._lock:
            if entry.keys is None:
                raise JwksUnavailableError(issuer)
            return entry.keys.get(kid)

    def _may_refresh(self, entry: _IssuerKeys, now: float) -> bool:
        return not entry.static and (entry.last_attempt is None or now - entry.last_attempt >= self._min_refetch)

    def _start_fetch(self, entry: _IssuerKeys, url: str, fetch: _Fetch) -> None:
        """Start the fetch (it runs on the fetcher's loop); its outcome is applied when it ends."""
        try:
            future = self._fetcher.start(url, self._deadline)
        except Exception as exc:  # the fetcher could not even start: a failed fetch, never a failed request
            log.warning("JWKS fetch not started for issuer %s: %s", entry.config.issuer, type(exc).__name__)
            with self._lock:
                if entry.fetch is fetch:
                    entry.fetch = None
            fetch.done.set()
            return
        future.add_done_callback(lambda done: self._apply(entry, fetch, done))

    def _apply(self, entry: _IssuerKeys, fetch: _Fetch, future: Future[Mapping[str, Any]]) -> None:
        """Store a fetched key set (parsed outside the lock); a failure keeps what we had."""
        keys: dict[str, PyJWK] | None = None
        try:
            keys = parse_jwks(future.result())
        except (ValueError, JwksFetchError) as exc:
            # Keep whatever we had: an outage of the client's key endpoint must not revoke keys.
            reason = exc.reason if isinstance(exc, JwksFetchError) else "unusable_jwks"
            log.warning("JWKS refresh failed for issuer %s: %s", entry.config.issuer, reason)
        except Exception as exc:  # cancelled, or a bug in the fetcher: still a failed fetch
            log.warning("JWKS refresh failed for issuer %s: %s", entry.config.issuer, type(exc).__name__)
        with self._lock:
            if keys is not None:
                entry.keys, entry.loaded_at = keys, self._monotonic()
            if entry.fetch is fetch:
                entry.fetch = None
        fetch.done.set()

    def _reload_file(self, entry: _IssuerKeys) -> None:
        """Re-read a JWKS file (key rotation); a failure keeps what we had."""
        try:
            keys = parse_jwks(self._local_source(entry.config))
        except (ValueError, JwksFetchError) as exc:
            log.warning("JWKS reload failed for issuer %s: %s", entry.config.issuer, exc)
            return
        with self._lock:
            entry.keys, entry.loaded_at = keys, self._monotonic()
