"""All configuration in one typed object, read once at start-up from ``NBCDS_*`` environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cds_service.protocol.origins import Origin


class Settings(BaseSettings):
    """Service settings. Every field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="NBCDS_", extra="ignore")

    profile: Literal["production", "development"] = "production"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = Field(default=2, ge=1, le=64)
    public_base_url: str | None = None  # e.g. https://cds.example.org when behind a proxy

    # Client authentication (CDS Hooks JWT). On unless explicitly turned off in development.
    require_jwt: bool | None = None
    trusted_issuers: str = "[]"  # JSON list of issuers; see docs/security.md
    trust_sandbox_issuer: bool = False  # development only: the public sandbox key is forgeable
    jwt_leeway_seconds: int = Field(default=60, ge=0, le=300)
    jwks_min_refetch_seconds: float = Field(default=5.0, ge=0)

    cors_allowed_origins: list[str] = ["*"]

    # FHIR fallback fetches.
    allow_tokenless_fhir_servers: list[str] = []  # origins, e.g. http://localhost:8081
    # Origins the service may fetch from (empty: any). fhirServer comes from the client: an allow-list
    # keeps the service from being used to reach arbitrary hosts (SSRF).
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
    audit_patient_id: Literal["fhir-id", "keyed-hash"] = "fhir-id"
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
