"""What a running service holds: settings, declared services, verifier, store, FHIR client, metrics."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from cds_service.auth import (
    ClientTokenVerifier,
    TrustedIssuer,
    parse_trusted_issuers,
    sandbox_trusted_issuer,
)
from cds_service.http.metrics import Metrics
from cds_service.http.request_log import LOGGER_NAME
from cds_service.protocol.prefetch import FetchPolicy, FhirClient, PrefetchResolver
from cds_service.protocol.registry import ServiceRegistry
from cds_service.settings import Settings
from cds_service.store import Store, StoreUnavailable, open_store

logger = logging.getLogger(LOGGER_NAME)
EXTENSION_KEY = "nbcds"


@dataclass
class ServiceRuntime:
    settings: Settings
    registry: ServiceRegistry
    verifier: ClientTokenVerifier | None
    store: Store  # the audit log (group-committed) and the feedback log
    fhir_client: FhirClient
    fetch_policy: FetchPolicy
    resolver: PrefetchResolver
    metrics: Metrics


def _trusted_issuers(settings: Settings) -> tuple[TrustedIssuer, ...]:
    issuers = parse_trusted_issuers(settings.trusted_issuers)
    if settings.trust_sandbox_issuer:
        logger.warning(
            "development profile: trusting the public CDS Hooks sandbox issuer, whose private key is "
            "published. Anyone can forge its tokens. Never use this with real patient data.",
            extra={"fields": {"issuer": sandbox_trusted_issuer().issuer}},
        )
        issuers = (*issuers, sandbox_trusted_issuer())
    return issuers


def build_runtime(settings: Settings, registry: ServiceRegistry) -> ServiceRuntime:
    verifier = None
    if settings.jwt_required:
        verifier = ClientTokenVerifier(
            _trusted_issuers(settings),
            leeway_seconds=settings.jwt_leeway_seconds,
            jwks_min_refetch_seconds=settings.jwks_min_refetch_seconds,
        )
    elif settings.profile == "development":
        logger.warning("development profile: CDS client JWTs are NOT verified")
    policy = FetchPolicy(
        allow_tokenless_servers=tuple(settings.allow_tokenless_fhir_servers),
        deadline_seconds=settings.fhir_deadline_seconds,
        max_pages=settings.fhir_max_pages,
        max_workers=settings.fhir_max_workers,
        max_response_bytes=settings.fhir_max_response_bytes,
        connect_timeout_seconds=settings.fhir_connect_timeout_seconds,
        read_timeout_seconds=settings.fhir_read_timeout_seconds,
    )
    client = FhirClient()
    store = open_store(settings.database_url, initialize=False)
    try:
        store.initialize()  # a schema newer than this code refuses to start (SchemaVersionError)
    except StoreUnavailable:
        logger.warning("the store is unreachable at start-up; /readyz reports not ready until it is")
    return ServiceRuntime(
        settings=settings,
        registry=registry,
        verifier=verifier,
        store=store,
        fhir_client=client,
        fetch_policy=policy,
        resolver=PrefetchResolver(client, policy),
        metrics=Metrics(),
    )


def runtime() -> ServiceRuntime:
    return current_app.extensions[EXTENSION_KEY]


def init_runtime(app: Flask, service_runtime: ServiceRuntime) -> None:
    app.extensions[EXTENSION_KEY] = service_runtime
