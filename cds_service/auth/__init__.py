"""Authentication of CDS clients (the EHR's `Authorization: Bearer <JWT>`), per CDS Hooks 2.0.

The HTTP layer calls `ClientTokenVerifier.verify(header, endpoint_urls)` on discovery, service and
feedback requests and turns any `ClientAuthError` into a bare 401 (logging only `err.reason`).
"""

from .client_token import (
    AuthFailureReason,
    ClientAuthError,
    ClientTokenVerifier,
    VerifiedClient,
)
from .jwks_cache import ALLOWED_ALGORITHMS, JwksCache, JwksUnavailableError, parse_jwks
from .key_fetch import JwksFetchError, KeySetFetcher, KeySetSource
from .replay_cache import FallbackReplayCache, InMemoryReplayCache, ReplayCache, ReplayCacheFullError
from .trusted_issuers import (
    SANDBOX_ISSUER,
    SANDBOX_JKU,
    SANDBOX_JWKS_PATH,
    TrustedIssuer,
    TrustedIssuerConfigError,
    parse_trusted_issuers,
    sandbox_trusted_issuer,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "SANDBOX_ISSUER",
    "SANDBOX_JKU",
    "SANDBOX_JWKS_PATH",
    "AuthFailureReason",
    "ClientAuthError",
    "ClientTokenVerifier",
    "FallbackReplayCache",
    "InMemoryReplayCache",
    "JwksCache",
    "JwksFetchError",
    "JwksUnavailableError",
    "KeySetFetcher",
    "KeySetSource",
    "ReplayCache",
    "ReplayCacheFullError",
    "TrustedIssuer",
    "TrustedIssuerConfigError",
    "VerifiedClient",
    "parse_jwks",
    "parse_trusted_issuers",
    "sandbox_trusted_issuer",
]
