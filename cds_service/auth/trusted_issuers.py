"""Configuration of the CDS clients (JWT issuers) this service trusts.

CDS Hooks 2.0 (§ "Trusting CDS Clients") leaves key distribution to the service: the client
publishes a JWK Set, and the service SHOULD allow-list both `iss` and `jku`. We therefore never
derive a key location from the token itself; every trusted issuer carries exactly one key
source configured out of band (a JWKS URL, an inline JWKS or a local JWKS file).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from cds_service.protocol.origins import Origin

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



class TrustedIssuerConfigError(ValueError):
    """The trusted-issuer configuration is unusable; raised at start-up, never per request."""


Ids = tuple[Annotated[str, StringConstraints(min_length=1)], ...]


class TrustedIssuer(BaseModel):
    """One trusted CDS client.

    - ``issuer``: the exact ``iss`` value.
    - exactly one of ``jwks_url`` (fetched and cached; https, or http on loopback for tests), ``jwks`` (an
      inline JWK Set) or ``jwks_file`` (a JWK Set JSON file, re-read on key rotation).
    - ``allowed_jku``: extra ``jku`` header values accepted besides ``jwks_url`` (compared, never fetched).
      A token without ``jku`` is always fine.
    - ``audiences``: audiences accepted *in addition to* the URL actually called, for clients whose ``aud``
      is not the endpoint URL (MELD sends "sand_man"; Epic's is set by the health system).
    - ``tenants``: if not empty, the token's ``tenant`` claim must be one of these.

    Unknown members are an error, so a typo cannot silently weaken a check; a bare string where a list
    is expected is an error too (it would otherwise be read as its letters).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    issuer: Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
    jwks_url: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_file: Annotated[str, StringConstraints(min_length=1)] | None = None
    allowed_jku: Ids = ()
    audiences: Ids = ()
    tenants: Ids = ()

    @field_validator("jwks_url")
    @classmethod
    def _keys_over_tls(cls, url: str | None) -> str | None:
        """Keys must come over TLS; plain http is tolerated only on loopback (tests, local mocks)."""
        if url is None:
            return None
        origin = Origin.of(url)
        if origin is None:
            raise ValueError("jwks_url must be an absolute http(s) URL")
        if origin.scheme == "http" and not origin.is_loopback:
            raise ValueError("jwks_url must use https unless it is on loopback")
        return url

    @field_validator("jwks")
    @classmethod
    def _a_key_set(cls, jwks: dict[str, Any] | None) -> dict[str, Any] | None:
        if jwks is not None and not isinstance(jwks.get("keys"), list):
            raise ValueError("jwks must be a JWK Set with 'keys'")
        return jwks

    @model_validator(mode="after")
    def _one_key_source(self) -> TrustedIssuer:
        if sum(source is not None for source in (self.jwks_url, self.jwks, self.jwks_file)) != 1:
            raise ValueError("exactly one of jwks_url, jwks, jwks_file is required")
        return self

    @property
    def accepted_jku(self) -> frozenset[str]:
        """Every ``jku`` header value a token from this issuer may carry."""
        configured = {self.jwks_url} if self.jwks_url else set()
        return frozenset(configured | set(self.allowed_jku))


_ISSUER_LIST = TypeAdapter(list[TrustedIssuer])


def _config_error(error: ValidationError) -> TrustedIssuerConfigError:
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return TrustedIssuerConfigError(f"trusted issuers: {where}: {first['msg']}"[:300])


def parse_trusted_issuers(raw: str | bytes | Sequence[Mapping[str, Any]] | None) -> tuple[TrustedIssuer, ...]:
    """Parse ``NBCDS_TRUSTED_ISSUERS``: a JSON list of objects with the ``TrustedIssuer`` members.

    An empty/absent value yields no trusted issuers (every token is then rejected).
    """
    if raw is None or (isinstance(raw, str | bytes) and not raw.strip()):
        return ()
    try:
        issuers = _ISSUER_LIST.validate_json(raw) if isinstance(raw, str | bytes) else _ISSUER_LIST.validate_python(raw)
    except ValidationError as error:
        raise _config_error(error) from None
    seen: set[str] = set()
    for issuer in issuers:
        if issuer.issuer in seen:
            raise TrustedIssuerConfigError(f"duplicate trusted issuer {issuer.issuer!r}")
        seen.add(issuer.issuer)
    return tuple(issuers)


def sandbox_trusted_issuer() -> TrustedIssuer:
    """The public CDS Hooks sandbox, for the development profile ONLY.

    The sandbox's private key is committed to its public repository, so anyone can mint tokens
    for this issuer: never enable it in production. Its JWKS ships with this package because the
    `jku` host is unreachable offline; the `jku` the sandbox sends is allowed but never fetched.
    """
    return TrustedIssuer(issuer=SANDBOX_ISSUER, jwks_file=str(SANDBOX_JWKS_PATH), allowed_jku=(SANDBOX_JKU,))
