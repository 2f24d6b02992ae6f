"""Configuration of the CDS clients (JWT issuers) this service trusts.

CDS Hooks 2.0 (§ "Trusting CDS Clients") leaves key distribution to the service: the client
publishes a JWK Set, and the service SHOULD allow-list both `iss` and `jku`. We therefore never
derive a key location from the token itself; every trusted issuer carries exactly one key
source configured out of band (a JWKS URL, an inline JWKS or a local JWKS file).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "SANDBOX_ISSUER",
    "SANDBOX_JKU",
    "SANDBOX_JWKS_PATH",
    "TrustedIssuer",
    "TrustedIssuerConfigError",
    "parse_trusted_issuers",
    "sandbox_trusted_issuer",
]

#: `iss` of the public CDS Hooks sandbox; fixed even when the sandbox is self-hosted.
SANDBOX_ISSUER = "https://sandbox.cds-hooks.org"
#: `jku` header the sandbox puts in its tokens (unreachable offline, so never fetched).
SANDBOX_JKU = "https://sandbox.cds-hooks.org/.well-known/jwks.json"
#: The sandbox's published public JWKS (copied from cds-hooks/sandbox `.well-known/jwks.json`).
SANDBOX_JWKS_PATH = Path(__file__).resolve().parent.parent / "static" / "sandbox-cds-hooks-jwks.json"

_LOOPBACK_NAMES = frozenset({"localhost"})
_FIELDS = frozenset({"issuer", "jwks_url", "jwks", "jwks_file", "allowed_jku", "audiences", "tenants"})


class TrustedIssuerConfigError(ValueError):
    """The trusted-issuer configuration is unusable; raised at start-up, never per request."""


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_jwks_url(url: str) -> None:
    """Keys must come over TLS; plain http is tolerated only on loopback (tests, local mocks)."""
    parts = urlsplit(url)
    if not parts.netloc or parts.scheme not in ("https", "http"):
        raise TrustedIssuerConfigError(f"jwks_url must be an absolute http(s) URL: {url!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise TrustedIssuerConfigError(f"jwks_url must use https unless it is on loopback: {url!r}")


def _as_str_tuple(value: Any, name: str) -> tuple[str, ...]:
    # A bare string is iterable too; accepting it would silently split "sand_man" into letters.
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise TrustedIssuerConfigError(f"{name} must be a list of strings")
    items = tuple(value)
    if not all(isinstance(item, str) and item for item in items):
        raise TrustedIssuerConfigError(f"{name} must contain only non-empty strings")
    return items


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One trusted CDS client.

    - `issuer`: the exact `iss` value.
    - exactly one of `jwks_url` (fetched and cached), `jwks` (inline JWK Set dict) or `jwks_file`
      (path to a JWK Set JSON file, re-read on key rotation).
    - `allowed_jku`: extra `jku` header values accepted besides `jwks_url` (they are only compared,
      never fetched). A token without `jku` is always fine.
    - `audiences`: audiences accepted *in addition to* the URL actually called, for clients whose
      `aud` is not the endpoint URL (MELD sends "sand_man"; Epic's is set by the health system).
    - `tenants`: if non-empty, the token's `tenant` claim must be one of these.
    """

    issuer: str
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = field(default=None, hash=False)
    jwks_file: str | None = None
    allowed_jku: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer.strip():
            raise TrustedIssuerConfigError("issuer must be a non-empty string")
        sources = [s for s in (self.jwks_url, self.jwks, self.jwks_file) if s is not None]
        if len(sources) != 1:
            raise TrustedIssuerConfigError(
                f"issuer {self.issuer!r}: exactly one of jwks_url, jwks, jwks_file is required"
            )
        if self.jwks_url is not None:
            if not isinstance(self.jwks_url, str):
                raise TrustedIssuerConfigError(f"issuer {self.issuer!r}: jwks_url must be a string")
            _check_jwks_url(self.jwks_url)
        if self.jwks is not None and (
            not isinstance(self.jwks, Mapping) or not isinstance(self.jwks.get("keys"), list)
        ):
            raise TrustedIssuerConfigError(f"issuer {self.issuer!r}: jwks must be a JWK Set with 'keys'")
        if self.jwks_file is not None and (not isinstance(self.jwks_file, str) or not self.jwks_file):
            raise TrustedIssuerConfigError(f"issuer {self.issuer!r}: jwks_file must be a non-empty path")
        # Frozen: normalise list inputs to tuples through object.__setattr__.
        for name in ("allowed_jku", "audiences", "tenants"):
            object.__setattr__(self, name, _as_str_tuple(getattr(self, name), f"{self.issuer!r} {name}"))
        if self.jwks is not None:
            object.__setattr__(self, "jwks", dict(self.jwks))

    @property
    def accepted_jku(self) -> frozenset[str]:
        """Every `jku` header value a token from this issuer may carry."""
        configured = {self.jwks_url} if self.jwks_url else set()
        return frozenset(configured | set(self.allowed_jku))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TrustedIssuer:
        """Build from one JSON object; unknown keys are an error so typos do not weaken checks."""
        if not isinstance(data, Mapping):
            raise TrustedIssuerConfigError("each trusted issuer must be a JSON object")
        unknown = set(data) - _FIELDS
        if unknown:
            raise TrustedIssuerConfigError(f"unknown trusted issuer field(s): {sorted(unknown)}")
        if "issuer" not in data:
            raise TrustedIssuerConfigError("trusted issuer without 'issuer'")
        kwargs = dict(data)
        for name in ("allowed_jku", "audiences", "tenants"):
            if name in kwargs:
                kwargs[name] = _as_str_tuple(kwargs[name], name)
        return cls(**kwargs)


def parse_trusted_issuers(raw: str | bytes | Sequence[Mapping[str, Any]] | None) -> tuple[TrustedIssuer, ...]:
    """Parse `NBCDS_TRUSTED_ISSUERS`: a JSON list of objects with the `TrustedIssuer` fields.

    An empty/absent value yields no trusted issuers (every token is then rejected).
    """
    if raw is None:
        return ()
    if isinstance(raw, str | bytes):
        if not raw.strip():
            return ()
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise TrustedIssuerConfigError(f"trusted issuers are not valid JSON: {exc}") from None
    if not isinstance(raw, list):
        raise TrustedIssuerConfigError("trusted issuers must be a JSON list of objects")
    issuers = tuple(TrustedIssuer.from_mapping(item) for item in raw)
    seen: set[str] = set()
    for issuer in issuers:
        if issuer.issuer in seen:
            raise TrustedIssuerConfigError(f"duplicate trusted issuer {issuer.issuer!r}")
        seen.add(issuer.issuer)
    return issuers


def sandbox_trusted_issuer() -> TrustedIssuer:
    """The public CDS Hooks sandbox, for the development profile ONLY.

    The sandbox's private key is committed to its public repository, so anyone can mint tokens
    for this issuer: never enable it in production. Its JWKS ships with this package because the
    `jku` host is unreachable offline; the `jku` the sandbox sends is allowed but never fetched.
    """
    return TrustedIssuer(issuer=SANDBOX_ISSUER, jwks_file=str(SANDBOX_JWKS_PATH), allowed_jku=(SANDBOX_JKU,))
