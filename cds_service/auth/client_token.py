"""Verification of the JWT a CDS client sends as `Authorization: Bearer <JWT>`.

CDS Hooks 2.0 (§ "Trusting CDS Clients"): the client signs a short-lived JWT for every discovery,
service and feedback call. We accept it only if

- `alg` is ES384 or RS384 (never `none`/HS*: an HS256 token "signed" with our copy of the public
  key would otherwise verify), `kid` names a key in the issuer's configured JWK Set;
- `iss` is allow-listed and a `jku`, if sent, is one configured for that issuer (never fetched
  because the token says so);
- `aud` equals the endpoint URL called, as the deployment configured it (never as the request's
  `Host` or `X-Forwarded-*` headers say: the HTTP layer passes `NBCDS_PUBLIC_BASE_URL` + the path),
  after normalising slashes (the sandbox calls `.../cds-services//id`), or an audience configured
  for the issuer (MELD, Epic);
- `exp`, `iat` (and `nbf` if present) hold within a leeway (the sandbox rounds `iat` up);
- `jti` was not seen before (replay), and `tenant` is allow-listed when the issuer restricts it.

Every failure is a `ClientAuthError` with a short reason for the log; the token itself is never
put into an exception or a log line. The HTTP layer answers 401 without detail. An audience
mismatch also carries the audiences expected and received (bounded), so an integrator can see
which URL their EHR was configured with: they are not secret.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import jwt
from jwt.exceptions import (
    DecodeError,
    ExpiredSignatureError,
    ImmatureSignatureError,
    InvalidAlgorithmError,
    InvalidIssuedAtError,
    InvalidIssuerError,
    InvalidJTIError,
    InvalidKeyError,
    InvalidSignatureError,
    MissingRequiredClaimError,
    PyJWTError,
)

from cds_service.protocol.origins import canonical_url

from .jwks_cache import ALLOWED_ALGORITHMS, JwksCache, JwksUnavailableError
from .key_fetch import DEFAULT_FETCHER, KeySetSource
from .replay_cache import InMemoryReplayCache, ReplayCache, ReplayCacheFullError
from .trusted_issuers import TrustedIssuer, TrustedIssuerConfigError

__all__ = [
    "AuthFailureReason",
    "ClientAuthError",
    "ClientTokenVerifier",
    "VerifiedClient",
]

_MAX_TOKEN_CHARS = 16 * 1024
_MAX_ID_CHARS = 256
_MAX_LOGGED_AUDIENCES = 4
_MAX_LOGGED_AUDIENCE_CHARS = 200
# Year 9999: anything beyond is not a timestamp a real client sends, and it keeps datetime happy.
_MAX_TIMESTAMP = 253_402_300_799
_JWS_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_REQUIRED_CLAIMS = ("exp", "iat", "iss", "jti")


class AuthFailureReason(StrEnum):
    """Machine-readable reasons, safe to log (they never contain token material)."""

    MISSING_AUTHORIZATION = "missing_authorization"
    NOT_BEARER = "not_bearer"
    MALFORMED_TOKEN = "malformed_token"  # noqa: S105 - a reason code, not a secret
    TOKEN_TOO_LARGE = "token_too_large"  # noqa: S105 - a reason code, not a secret
    UNSUPPORTED_ALG = "unsupported_alg"
    UNSUPPORTED_TYP = "unsupported_typ"
    UNSUPPORTED_CRIT = "unsupported_crit"
    MISSING_KID = "missing_kid"
    MISSING_ISS = "missing_iss"
    UNKNOWN_ISSUER = "unknown_issuer"
    UNTRUSTED_JKU = "untrusted_jku"
    JWKS_UNAVAILABLE = "jwks_unavailable"
    UNKNOWN_KID = "unknown_kid"
    ALG_KEY_MISMATCH = "alg_key_mismatch"
    BAD_SIGNATURE = "bad_signature"
    MISSING_EXP = "missing_exp"
    MISSING_IAT = "missing_iat"
    MISSING_JTI = "missing_jti"
    MISSING_AUD = "missing_aud"
    INVALID_EXP = "invalid_exp"
    INVALID_IAT = "invalid_iat"
    INVALID_NBF = "invalid_nbf"
    INVALID_AUD = "invalid_aud"
    INVALID_JTI = "invalid_jti"
    INVALID_TENANT = "invalid_tenant"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    WRONG_AUDIENCE = "wrong_audience"
    TENANT_NOT_ALLOWED = "tenant_not_allowed"
    REPLAYED_JTI = "replayed_jti"
    REPLAY_CACHE_FULL = "replay_cache_full"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - a reason code, not a secret


class ClientAuthError(Exception):
    """The client JWT was rejected. `reason` is for the log; the response is a bare 401.

    `issuer` is set only once `iss` matched a trusted issuer, so it is a configured value and not
    attacker-chosen text. `expected_audiences`/`received_audiences` are set on `wrong_audience` only,
    from a token whose signature verified, and bounded (a few values of at most 200 characters).
    """

    def __init__(self, reason: AuthFailureReason, *, issuer: str | None = None,
                 expected_audiences: tuple[str, ...] = (), received_audiences: tuple[str, ...] = ()) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.issuer = issuer
        self.expected_audiences = expected_audiences
        self.received_audiences = received_audiences

    def __str__(self) -> str:
        return self.reason.value


@dataclass(frozen=True, slots=True)
class VerifiedClient:
    """What a verified token tells us about the caller (useful for audit logs)."""

    issuer: str
    kid: str
    jti: str
    tenant: str | None
    subject: str | None
    expires_at: datetime


def _timestamp(payload: Mapping[str, Any], name: str) -> float | None:
    """A NumericDate claim as a number, or None if it is not one (strings, bools, NaN, absurd)."""
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not 0 <= value <= _MAX_TIMESTAMP:
        return None
    return float(value)


def _shown_audiences(values: Iterable[str]) -> tuple[str, ...]:
    """Audiences for the log: a few, each shortened and printable (they came in a signed token)."""
    shown = []
    for value in list(values)[:_MAX_LOGGED_AUDIENCES]:
        text = "".join(ch if ch.isprintable() else "?" for ch in value[:_MAX_LOGGED_AUDIENCE_CHARS])
        shown.append(text + ("…" if len(value) > _MAX_LOGGED_AUDIENCE_CHARS else ""))
    return tuple(shown)


def _pyjwt_failure(exc: PyJWTError) -> AuthFailureReason:
    """Map PyJWT's exceptions onto our reasons (most specific classes first)."""
    if isinstance(exc, MissingRequiredClaimError):
        try:
            return AuthFailureReason(f"missing_{exc.claim}")
        except ValueError:
            return AuthFailureReason.INVALID_TOKEN
    mapping: tuple[tuple[type[PyJWTError], AuthFailureReason], ...] = (
        (ExpiredSignatureError, AuthFailureReason.EXPIRED),
        (ImmatureSignatureError, AuthFailureReason.NOT_YET_VALID),
        (InvalidSignatureError, AuthFailureReason.BAD_SIGNATURE),
        (InvalidAlgorithmError, AuthFailureReason.ALG_KEY_MISMATCH),
        (InvalidKeyError, AuthFailureReason.ALG_KEY_MISMATCH),
        (InvalidIssuedAtError, AuthFailureReason.INVALID_IAT),
        (InvalidIssuerError, AuthFailureReason.UNKNOWN_ISSUER),
        (InvalidJTIError, AuthFailureReason.INVALID_JTI),
        (DecodeError, AuthFailureReason.INVALID_TOKEN),
    )
    for exc_type, reason in mapping:
        if isinstance(exc, exc_type):
            return reason
    return AuthFailureReason.INVALID_TOKEN


class ClientTokenVerifier:
    """Verifies CDS client JWTs against a fixed set of trusted issuers. Thread-safe.

    `leeway_seconds` applies to `exp`, `iat` and `nbf`. `jwks_min_refetch_seconds` rate-limits
    key refetches per issuer; `jwks_fetch_deadline_seconds` bounds a whole key fetch (see jwks_cache).
    Tokens living longer than `max_token_lifetime_seconds` (exp - iat) are refused, which also
    bounds how long the replay cache must remember a `jti` (CDS Hooks suggests <= 1 h).
    `monotonic` is only for tests of the refetch rate limit.
    """

    def __init__(
        self,
        issuers: Iterable[TrustedIssuer],
        leeway_seconds: float = 60,
        jwks_min_refetch_seconds: float = 5,
        jwks_fetch_deadline_seconds: float = 2.0,
        replay_cache: ReplayCache | None = None,
        *,
        jwks_max_age_seconds: float = 3600,
        max_token_lifetime_seconds: float = 3600,
        monotonic: Callable[[], float] = time.monotonic,
        key_fetcher: KeySetSource = DEFAULT_FETCHER,
    ) -> None:
        if leeway_seconds < 0 or max_token_lifetime_seconds <= 0:
            raise ValueError("leeway must be >= 0 and the maximum token lifetime > 0")
        issuer_list = tuple(issuers)
        self._issuers: dict[str, TrustedIssuer] = {}
        for issuer in issuer_list:
            if issuer.issuer in self._issuers:
                raise TrustedIssuerConfigError(f"duplicate trusted issuer {issuer.issuer!r}")
            self._issuers[issuer.issuer] = issuer
        self._extra_audiences: dict[str, frozenset[str]] = {
            issuer.issuer: frozenset(canonical_url(aud) for aud in issuer.audiences)
            for issuer in issuer_list
        }
        self._leeway = float(leeway_seconds)
        self._max_lifetime = float(max_token_lifetime_seconds)
        self._replay: ReplayCache = replay_cache if replay_cache is not None else InMemoryReplayCache()
        self.jwks_cache = JwksCache(
            issuer_list,
            min_refetch_seconds=jwks_min_refetch_seconds,
            max_age_seconds=jwks_max_age_seconds,
            fetch_deadline_seconds=jwks_fetch_deadline_seconds,
            monotonic=monotonic,
            fetcher=key_fetcher,
        )

    @property
    def issuers(self) -> tuple[TrustedIssuer, ...]:
        return tuple(self._issuers.values())

    def verify(self, authorization_header: str | None, endpoint_urls: str | Sequence[str]) -> VerifiedClient:
        """Verify the `Authorization` header of a request to the endpoint; raise ClientAuthError.

        `endpoint_urls`: the URL(s) the deployment is called at for this endpoint (one, from
        `NBCDS_PUBLIC_BASE_URL`, in production), any of which the token's `aud` may name.
        """
        endpoints = (endpoint_urls,) if isinstance(endpoint_urls, str) else tuple(endpoint_urls)
        token = self._bearer_token(authorization_header)
        header, unverified = self._unverified_parts(token)

        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise ClientAuthError(AuthFailureReason.UNSUPPORTED_ALG)
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.upper() != "JWT"):
            raise ClientAuthError(AuthFailureReason.UNSUPPORTED_TYP)
        if "crit" in header or "b64" in header:
            raise ClientAuthError(AuthFailureReason.UNSUPPORTED_CRIT)
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > _MAX_ID_CHARS:
            raise ClientAuthError(AuthFailureReason.MISSING_KID)

        iss = unverified.get("iss")
        if not isinstance(iss, str) or not iss:
            raise ClientAuthError(AuthFailureReason.MISSING_ISS)
        issuer = self._issuers.get(iss)
        if issuer is None:
            raise ClientAuthError(AuthFailureReason.UNKNOWN_ISSUER)

        def fail(reason: AuthFailureReason) -> ClientAuthError:
            return ClientAuthError(reason, issuer=issuer.issuer)

        jku = header.get("jku")
        if jku is not None and (not isinstance(jku, str) or jku not in issuer.accepted_jku):
            raise fail(AuthFailureReason.UNTRUSTED_JKU)

        try:
            key = self.jwks_cache.get_key(issuer.issuer, kid)
        except JwksUnavailableError:
            raise fail(AuthFailureReason.JWKS_UNAVAILABLE) from None
        if key is None:
            raise fail(AuthFailureReason.UNKNOWN_KID)
        if key.algorithm_name != alg:
            raise fail(AuthFailureReason.ALG_KEY_MISMATCH)

        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                issuer=issuer.issuer,
                leeway=self._leeway,
                options={
                    "require": list(_REQUIRED_CLAIMS),
                    "verify_aud": False,  # done below, with URL normalisation and per-issuer audiences
                    "verify_sub": False,  # `sub` is not a CDS Hooks claim (Epic adds one): ignore it
                    "enforce_minimum_key_length": True,
                },
            )
        except PyJWTError as exc:
            raise fail(_pyjwt_failure(exc)) from None

        expires_at = self._check_times(payload, fail)
        self._check_audience(payload, issuer, endpoints, fail)

        jti = payload.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > _MAX_ID_CHARS:
            raise fail(AuthFailureReason.INVALID_JTI)
        tenant = payload.get("tenant")
        if tenant is not None and not isinstance(tenant, str):
            raise fail(AuthFailureReason.INVALID_TENANT)
        if issuer.tenants and tenant not in issuer.tenants:
            raise fail(AuthFailureReason.TENANT_NOT_ALLOWED)
        subject = payload.get("sub")

        # Last, so that only fully valid tokens occupy the cache (a forged token must not be able
        # to "burn" a jti a legitimate client is about to use).
        try:
            fresh = self._replay.check_and_store(issuer.issuer, jti, expires_at + self._leeway)
        except ReplayCacheFullError:
            raise fail(AuthFailureReason.REPLAY_CACHE_FULL) from None
        if not fresh:
            raise fail(AuthFailureReason.REPLAYED_JTI)

        return VerifiedClient(
            issuer=issuer.issuer,
            kid=kid,
            jti=jti,
            tenant=tenant,
            subject=subject if isinstance(subject, str) else None,
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
        )

    @staticmethod
    def _bearer_token(authorization_header: str | None) -> str:
        if authorization_header is None or not authorization_header.strip():
            raise ClientAuthError(AuthFailureReason.MISSING_AUTHORIZATION)
        parts = authorization_header.split(None, 1)
        if parts[0].lower() != "bearer":
            raise ClientAuthError(AuthFailureReason.NOT_BEARER)
        if len(parts) < 2:
            raise ClientAuthError(AuthFailureReason.MALFORMED_TOKEN)
        token = parts[1].strip()
        if len(token) > _MAX_TOKEN_CHARS:
            raise ClientAuthError(AuthFailureReason.TOKEN_TOO_LARGE)
        if not _JWS_COMPACT.fullmatch(token):
            raise ClientAuthError(AuthFailureReason.MALFORMED_TOKEN)
        return token

    @staticmethod
    def _unverified_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Header and claims before verification: only used to choose the issuer and key."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except PyJWTError:
            raise ClientAuthError(AuthFailureReason.MALFORMED_TOKEN) from None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise ClientAuthError(AuthFailureReason.MALFORMED_TOKEN)
        return header, claims

    def _check_times(
        self, payload: Mapping[str, Any], fail: Callable[[AuthFailureReason], ClientAuthError]
    ) -> float:
        """Type and lifetime checks PyJWT leaves out (it accepts e.g. "123" as a NumericDate)."""
        exp = _timestamp(payload, "exp")
        if exp is None:
            raise fail(AuthFailureReason.INVALID_EXP)
        iat = _timestamp(payload, "iat")
        if iat is None:
            raise fail(AuthFailureReason.INVALID_IAT)
        if "nbf" in payload and _timestamp(payload, "nbf") is None:
            raise fail(AuthFailureReason.INVALID_NBF)
        if exp - iat > self._max_lifetime:
            raise fail(AuthFailureReason.LIFETIME_TOO_LONG)
        return exp

    def _check_audience(
        self,
        payload: Mapping[str, Any],
        issuer: TrustedIssuer,
        endpoints: tuple[str, ...],
        fail: Callable[[AuthFailureReason], ClientAuthError],
    ) -> None:
        aud = payload.get("aud")
        if aud is None:
            raise fail(AuthFailureReason.MISSING_AUD)
        values = [aud] if isinstance(aud, str) else aud
        if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
            raise fail(AuthFailureReason.INVALID_AUD)
        accepted = self._extra_audiences[issuer.issuer] | {canonical_url(url) for url in endpoints}
        if not any(canonical_url(value) in accepted for value in values):
            raise ClientAuthError(AuthFailureReason.WRONG_AUDIENCE, issuer=issuer.issuer,
                                  expected_audiences=_shown_audiences(sorted(accepted)),
                                  received_audiences=_shown_audiences(values))
