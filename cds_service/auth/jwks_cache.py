"""Per-issuer cache of the CDS clients' public signing keys.

Why not `jwt.PyJWKClient`: it fetches from whatever URL it is given with a single timeout, and it
refetches on *every* unknown `kid`, so a stream of tokens with random `kid`s would make us hammer
the EHR's key endpoint. Here each issuer has one configured key source, an unknown `kid` triggers
at most one refetch per `min_refetch_seconds`, and a failed refetch keeps the keys we already have
(key rotation, cds-hooks/sandbox#38, must not take the service down). Parsing and the crypto stay
PyJWT's (`PyJWK`).

Only keys usable with the algorithms CDS Hooks recommends are kept: EC P-384 for ES384 and RSA
(>= 2048 bits) for RS384. Each is bound to its algorithm, so a token can never pick another one.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from jwt import PyJWK
from jwt.exceptions import PyJWTError

from .trusted_issuers import TrustedIssuer, TrustedIssuerConfigError

__all__ = ["ALLOWED_ALGORITHMS", "JwksCache", "JwksUnavailableError", "parse_jwks"]

log = logging.getLogger(__name__)

#: The only JWS algorithms accepted (CDS Hooks: ES384 and RS384 RECOMMENDED; `none` and HS* forbidden).
ALLOWED_ALGORITHMS: tuple[str, ...] = ("ES384", "RS384")
_MIN_RSA_BITS = 2048
_MAX_JWKS_BYTES = 512 * 1024
# Private-key members are dropped so a keypair file configured by mistake still yields public keys only.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

Fetcher = Callable[[str, tuple[float, float]], Mapping[str, Any]]


class JwksUnavailableError(Exception):
    """No key set could be obtained for an issuer (nothing cached and the source failed)."""


class _JwksFetchError(Exception):
    pass


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


def _fetch_url(url: str, timeout: tuple[float, float]) -> Mapping[str, Any]:
    """GET a JWKS with connect/read timeouts, no redirects and a size cap (it is attacker-reachable I/O)."""
    deadline = time.monotonic() + sum(timeout)
    try:
        with requests.get(
            url,
            timeout=timeout,
            allow_redirects=False,
            stream=True,
            headers={"Accept": "application/jwk-set+json, application/json"},
        ) as response:
            if response.status_code != 200:
                raise _JwksFetchError(f"http_{response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(chunk_size=16384):
                body += chunk
                if len(body) > _MAX_JWKS_BYTES:
                    raise _JwksFetchError("too_large")
                if time.monotonic() > deadline:
                    raise _JwksFetchError("too_slow")
    except requests.RequestException as exc:
        raise _JwksFetchError(type(exc).__name__) from None
    try:
        return json.loads(body)
    except ValueError:
        raise _JwksFetchError("not_json") from None


def _read_file(path: str) -> Mapping[str, Any]:
    try:
        with Path(path).open(encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as exc:
        raise _JwksFetchError(type(exc).__name__) from None


@dataclass
class _IssuerKeys:
    config: TrustedIssuer
    keys: dict[str, PyJWK] | None = None
    loaded_at: float = 0.0
    last_attempt: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def static(self) -> bool:
        return self.config.jwks is not None


class JwksCache:
    """Signing keys per trusted issuer, refreshed lazily and rate-limited.

    - URL sources are fetched on first use (the EHR may be down when we start), inline and file
      sources are loaded at construction so a broken configuration fails fast.
    - A refresh happens when a `kid` is unknown or the set is older than `max_age_seconds` (so a
      key the client withdrew stops being trusted), never more than once per `min_refetch_seconds`.
    - Fetches for one issuer are serialised under a per-issuer lock, so a burst of tokens with a
      new `kid` costs one request.
    """

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        *,
        min_refetch_seconds: float = 5.0,
        max_age_seconds: float = 3600.0,
        fetch_timeout_seconds: tuple[float, float] = (2.0, 3.0),
        monotonic: Callable[[], float] = time.monotonic,
        fetcher: Fetcher = _fetch_url,
    ) -> None:
        self._min_refetch = float(min_refetch_seconds)
        self._max_age = float(max_age_seconds)
        self._timeout = (float(fetch_timeout_seconds[0]), float(fetch_timeout_seconds[1]))
        self._monotonic = monotonic
        self._fetcher = fetcher
        self._entries: dict[str, _IssuerKeys] = {}
        for issuer in issuers:
            if issuer.issuer in self._entries:
                raise TrustedIssuerConfigError(f"duplicate trusted issuer {issuer.issuer!r}")
            entry = _IssuerKeys(config=issuer)
            if issuer.jwks_url is None:
                try:
                    entry.keys = parse_jwks(self._load(issuer))
                except (ValueError, _JwksFetchError) as exc:
                    raise TrustedIssuerConfigError(
                        f"issuer {issuer.issuer!r}: unusable JWKS ({exc})"
                    ) from None
                entry.loaded_at = self._monotonic()
            self._entries[issuer.issuer] = entry

    def _load(self, issuer: TrustedIssuer) -> Mapping[str, Any]:
        if issuer.jwks is not None:
            return issuer.jwks
        if issuer.jwks_file is not None:
            return _read_file(issuer.jwks_file)
        if issuer.jwks_url is None:  # unreachable: TrustedIssuer guarantees one source
            raise _JwksFetchError("no_source")
        return self._fetcher(issuer.jwks_url, self._timeout)

    def _refresh(self, entry: _IssuerKeys, now: float) -> None:
        entry.last_attempt = now
        try:
            keys = parse_jwks(self._load(entry.config))
        except (ValueError, _JwksFetchError) as exc:
            # Keep whatever we had: an outage of the client's key endpoint must not revoke keys.
            log.warning("JWKS refresh failed for issuer %s: %s", entry.config.issuer, exc)
            return
        entry.keys = keys
        entry.loaded_at = self._monotonic()

    def kids(self, issuer: str) -> frozenset[str]:
        """The `kid`s currently cached for an issuer (for diagnostics and tests)."""
        entry = self._entries.get(issuer)
        return frozenset(entry.keys) if entry is not None and entry.keys is not None else frozenset()

    def get_key(self, issuer: str, kid: str) -> PyJWK | None:
        """The key for (issuer, kid), refreshing if allowed; None if the kid stays unknown.

        Raises KeyError for an unconfigured issuer and JwksUnavailableError if no key set has
        ever been obtained for it.
        """
        entry = self._entries[issuer]
        with entry.lock:
            now = self._monotonic()
            stale = entry.keys is None or (not entry.static and now - entry.loaded_at > self._max_age)
            if entry.keys is not None and not stale and kid in entry.keys:
                return entry.keys[kid]
            may_refresh = not entry.static and (
                entry.last_attempt is None or now - entry.last_attempt >= self._min_refetch
            )
            if may_refresh:
                self._refresh(entry, now)
            if entry.keys is None:
                raise JwksUnavailableError(issuer)
            return entry.keys.get(kid)
