"""All configuration in one typed object, read once at start-up from ``NBCDS_*`` environment variables."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cds_service.protocol.origins import Origin, is_loopback_host

#: The shortest audit hash key production accepts (an HMAC of low-entropy ids needs a strong key).
MIN_AUDIT_HASH_KEY_CHARS = 32
#: ``iss`` of the public CDS Hooks sandbox (cds_service/auth/trusted_issuers.py): its private key is public.
PUBLIC_SANDBOX_ISSUER = "https://sandbox.cds-hooks.org"


class ProductionConfigError(ValueError):
    """The production profile lacks what production needs; the message lists every problem."""


def require_complete_production(settings: Settings) -> None:
    """Refuse to start (``nbcds serve``, the WSGI entry point) a production profile with problems."""
    problems = settings.production_problems()
    if problems:
        raise ProductionConfigError("refusing to start: the production configuration is incomplete:\n  - "
                                    + "\n  - ".join(problems) + "\n(see docs/configuration.md)")


class Settings(BaseSettings):
    """Service settings. Every field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="NBCDS_", extra="ignore")

    profile: Literal["production", "development"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=2, ge=1, le=64)
    # The URL clients call, e.g. https://cds.example.org: the JWT `aud` is checked against it (and nothing else).
    public_base_url: str | None = None
    # Linked from the landing page (GET /): where this deployment's documentation is published.
    docs_url: str | None = None
    # gunicorn: a request (headers and body) must arrive within this time, or its connection is closed.
    request_read_deadline_seconds: float = Field(default=15.0, gt=0, le=300)

    # Client authentication (CDS Hooks JWT). On unless explicitly turned off in development.
    require_jwt: bool | None = None
    trusted_issuers: str = "[]"  # JSON list of issuers; see docs/security.md
    trust_sandbox_issuer: bool = False  # development only: the public sandbox key is forgeable
    jwt_leeway_seconds: int = Field(default=60, ge=0, le=300)
    jwks_min_refetch_seconds: float = Field(default=5.0, ge=1)
    jwks_fetch_deadline_seconds: float = Field(default=2.0, gt=0, le=10)

    cors_allowed_origins: list[str] = ["*"]
    metrics_token: SecretStr | None = None  # /metrics needs `Authorization: Bearer <token>` when set

    # FHIR fallback fetches.
    allow_tokenless_fhir_servers: list[str] = []  # origins, e.g. http://localhost:8081
    # Origins the service may fetch from (empty: any, development only). fhirServer comes from the client: an
    # allow-list keeps the service from being used to reach arbitrary hosts (SSRF).
    fhir_server_allowlist: list[str] = []
    allow_http_fhir_servers: bool | None = None  # default: only in the development profile
    fhir_deadline_seconds: float = Field(default=3.0, gt=0, le=30)
    fhir_connect_timeout_seconds: float = Field(default=2.0, gt=0)
    fhir_read_timeout_seconds: float = Field(default=2.5, gt=0)
    fhir_max_pages: int = Field(default=10, ge=1, le=100)
    fhir_max_response_bytes: int = Field(default=10_000_000, ge=1_000)
    fhir_max_workers: int = Field(default=4, ge=1, le=32)

    max_request_bytes: int = Field(default=5_000_000, ge=1_000)
    primary_schema: Literal["cog2021", "inrg2009"] = "cog2021"

    # The SMART on FHIR app under /app (docs/smart-app.md): its OAuth client and its encrypted session cookie.
    app_client_id: str = "nbcds-smart-app"
    app_client_secret: SecretStr | None = None  # only when the EHR registered the app as a confidential client
    app_session_key: SecretStr | None = None  # a Fernet key; required in production for the app to run
    app_key_file: str = ".nbcds-app-key"  # development without a key: generated here once, shared by workers
    app_frame_ancestors: list[str] = []  # origins that may embed the app (the EHR); development: any

    database_url: str = "sqlite:///nbcds.sqlite3"
    # None: `keyed-hash` in production, `fhir-id` in development (see `patient_id_in_audit`).
    audit_patient_id: Literal["fhir-id", "keyed-hash"] | None = None
    audit_hash_key: SecretStr | None = None
    log_level: str = "INFO"

    @field_validator("cors_allowed_origins", "fhir_server_allowlist", "allow_tokenless_fhir_servers")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        """Each entry as its RFC 6454 origin (``https://host:443/x`` → ``https://host``): the one origin rule
        (``protocol/origins.py``) compares origins, never URL strings. ``*`` stays (any origin, CORS only)."""
        origins = []
        for value in values:
            origin = Origin.of(value)
            if value != "*" and origin is None:
                raise ValueError("must hold absolute http(s) URLs or origins (no credentials)")
            origins.append("*" if origin is None else str(origin))
        return origins

    @field_validator("docs_url")
    @classmethod
    def _docs_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if Origin.of(value.strip()) is None:
            raise ValueError("must be an absolute http(s) URL without credentials")
        return value.strip()

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        """An absolute http(s) URL without credentials, query or fragment; kept without its trailing slash."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        if Origin.of(value) is None or "?" in value or "#" in value:
            raise ValueError("must be an absolute http(s) URL without credentials, query or fragment")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_profile(self) -> Settings:
        if self.profile == "production" and self.trust_sandbox_issuer:
            raise ValueError("NBCDS_TRUST_SANDBOX_ISSUER is for the development profile only")
        if self.profile == "production" and self.require_jwt is False:
            raise ValueError("NBCDS_REQUIRE_JWT=false is for the development profile only")
        if self.audit_patient_id == "keyed-hash" and self.audit_hash_key is None:
            raise ValueError("NBCDS_AUDIT_HASH_KEY is required when NBCDS_AUDIT_PATIENT_ID=keyed-hash")
        return self

    @property
    def http_fhir_servers_allowed(self) -> bool:
        """Plain-http FHIR servers (the sandbox's) get our access token only in development by default."""
        if self.allow_http_fhir_servers is None:
            return self.profile == "development"
        return self.allow_http_fhir_servers

    @property
    def jwt_required(self) -> bool:
        """Authentication is on by default; only the development profile may turn it off.

        Trusting the sandbox issuer means verifying its tokens, so it turns authentication on in
        development unless ``require_jwt`` says otherwise (else the setting would silently do nothing).
        """
        if self.require_jwt is None:
            return self.profile == "production" or self.trust_sandbox_issuer
        return self.require_jwt

    @property
    def patient_id_in_audit(self) -> Literal["fhir-id", "keyed-hash"]:
        """How the audit log records the patient: a keyed hash in production unless told otherwise."""
        if self.audit_patient_id is not None:
            return self.audit_patient_id
        return "keyed-hash" if self.profile == "production" else "fhir-id"

    @property
    def public_base_urls(self) -> tuple[str, ...]:
        """The base URLs clients call this service at: the JWT ``aud`` must name one of them + the path.

        From configuration only, never from a request's ``Host`` or ``X-Forwarded-*`` headers (anyone can set
        those). Without ``NBCDS_PUBLIC_BASE_URL`` (development; production refuses to start without it) the
        service is its bind port on loopback, under the names a local client uses.
        """
        if self.public_base_url:
            return (self.public_base_url,)
        return tuple(f"http://{name}:{self.port}" for name in ("localhost", "127.0.0.1", "[::1]"))

    @property
    def binds_loopback(self) -> bool:
        return is_loopback_host(self.host)

    def production_problems(self) -> list[str]:
        """What a production deployment is missing (empty in development, or when nothing is missing).

        ``nbcds serve`` refuses to start with any of these; an app built anyway reports them on ``/readyz``.
        """
        if self.profile != "production":
            return []
        problems = []
        if not self.public_base_url:
            problems.append("NBCDS_PUBLIC_BASE_URL is not set (the JWT audience is checked against it)")
        elif not self.public_base_url.lower().startswith("https://"):
            problems.append("NBCDS_PUBLIC_BASE_URL is not https (CDS Hooks requires TLS in production)")
        if not self._has_trusted_issuers():
            problems.append("NBCDS_TRUSTED_ISSUERS is empty (every client token would be refused)")
        if self._trusts_the_public_sandbox():
            problems.append(f"NBCDS_TRUSTED_ISSUERS trusts the public CDS Hooks sandbox ({PUBLIC_SANDBOX_ISSUER}), "
                            "whose private key is published: anyone could mint its tokens")
        if not self.fhir_server_allowlist:
            problems.append("NBCDS_FHIR_SERVER_ALLOWLIST is empty (fhirServer comes from the caller)")
        if self.patient_id_in_audit == "keyed-hash" and (
                self.audit_hash_key is None or len(self.audit_hash_key.get_secret_value()) < MIN_AUDIT_HASH_KEY_CHARS):
            problems.append(f"NBCDS_AUDIT_HASH_KEY is missing or shorter than {MIN_AUDIT_HASH_KEY_CHARS} characters "
                            "(patient ids are audited as keyed hashes in production)")
        return problems

    def _trusts_the_public_sandbox(self) -> bool:
        """An issuer entry naming the sandbox's ``iss`` (e.g. copied from a development recipe)."""
        try:
            issuers = json.loads(self.trusted_issuers or "[]")
        except ValueError:
            return False
        return isinstance(issuers, list) and any(
            isinstance(entry, dict) and str(entry.get("issuer", "")).rstrip("/") == PUBLIC_SANDBOX_ISSUER
            for entry in issuers)

    def _has_trusted_issuers(self) -> bool:
        try:
            issuers = json.loads(self.trusted_issuers or "[]")
        except ValueError:
            return True  # malformed: the verifier refuses it at start-up with its own message
        return bool(issuers)
