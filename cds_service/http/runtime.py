"""The composition root: what a running service holds, built once from the settings.

Settings, the declared services, the client-token verifier, the store (audit log and feedback log), the
prefetch resolver, the metrics, and the pipeline's dependencies with its observers (audit, metrics).
Routes reach it through ``runtime()``; tests build one app, and so one runtime, per test.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from cds_service.audit import AuditObserver
from cds_service.auth import (
    ClientTokenVerifier,
    FallbackReplayCache,
    InMemoryReplayCache,
    TrustedIssuer,
    parse_trusted_issuers,
    sandbox_trusted_issuer,
)
from cds_service.http.metrics import Metrics, MetricsObserver
from cds_service.protocol.pipeline import Dependencies
from cds_service.protocol.prefetch import FetchPolicy, FhirClient, PrefetchResolver
from cds_service.protocol.registry import ServiceRegistry
from cds_service.settings import Settings
from cds_service.store import Store, StoreError, StoreUnavailable, open_store

logger = logging.getLogger("nbcds")
EXTENSION_KEY = "nbcds"


@dataclass
class ServiceRuntime:
    settings: Settings
    registry: ServiceRegistry
    verifier: ClientTokenVerifier | None
    store: Store  # the audit log and the feedback log
    metrics: Metrics
    dependencies: Dependencies  # what each service call gets: settings, resolver, observers
    problems: tuple[str, ...] = ()  # what a production deployment is missing (reported by /readyz)

    def close(self) -> None:
        """Release the FHIR client's connections and the store's."""
        self.dependencies.resolver.client.close()
        self.store.dispose()


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


def _verifier(settings: Settings, store: Store) -> ClientTokenVerifier | None:
    if settings.jwt_required:
        # Used tokens are remembered in the store, so a replay is refused by every worker and replica; while
        # the database is unreachable, by this process only (logged).
        replay = FallbackReplayCache(store.replay, InMemoryReplayCache(), failures=(StoreError,))
        return ClientTokenVerifier(_trusted_issuers(settings), leeway_seconds=settings.jwt_leeway_seconds,
                                   jwks_min_refetch_seconds=settings.jwks_min_refetch_seconds,
                                   jwks_fetch_deadline_seconds=settings.jwks_fetch_deadline_seconds,
                                   replay_cache=replay)
    if settings.profile == "development":
        logger.warning("development profile: CDS client JWTs are NOT verified")
    return None


def _fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        allow_tokenless_servers=tuple(settings.allow_tokenless_fhir_servers),
        deadline_seconds=settings.fhir_deadline_seconds,
        max_pages=settings.fhir_max_pages,
        max_workers=settings.fhir_max_workers,
        max_response_bytes=settings.fhir_max_response_bytes,
        connect_timeout_seconds=settings.fhir_connect_timeout_seconds,
        read_timeout_seconds=settings.fhir_read_timeout_seconds,
    )


def build_runtime(settings: Settings, registry: ServiceRegistry) -> ServiceRuntime:
    store = open_store(settings.database_url, initialize=False)
    try:
        store.initialize()  # a schema newer than this code refuses to start (SchemaVersionError)
    except StoreUnavailable:
        logger.warning("the store is unreachable at start-up; /readyz reports not ready until it is")
    problems = tuple(settings.production_problems())
    for problem in problems:
        logger.error("production configuration incomplete: %s; /readyz reports not ready", problem)
    if settings.profile == "development" and not settings.binds_loopback:
        logger.warning("development profile bound beyond loopback (NBCDS_HOST): anyone who reaches this port "
                       "can make the service fetch plain-http URLs; keep it behind a loopback-only proxy")
    metrics = Metrics()
    resolver = PrefetchResolver(FhirClient(), _fetch_policy(settings))
    observers = (AuditObserver(store.audit, settings), MetricsObserver(metrics))
    return ServiceRuntime(settings, registry, _verifier(settings, store), store, metrics,
                          Dependencies(settings, resolver, observers), problems)


def runtime() -> ServiceRuntime:
    runtime_: ServiceRuntime = current_app.extensions[EXTENSION_KEY]
    return runtime_


def init_runtime(app: Flask, service_runtime: ServiceRuntime) -> None:
    app.extensions[EXTENSION_KEY] = service_runtime
