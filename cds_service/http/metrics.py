"""Prometheus metrics, correct under several gunicorn workers (multiprocess mode when configured)."""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cds_service.protocol.pipeline import CallResult
from cds_service.protocol.prefetch.resolve import SOURCE_FHIR_SERVER

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The service's metrics, registered in their own registry (one per app, so tests stay isolated)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "nbcds_request_seconds", "CDS Hooks request latency", ("endpoint", "service", "status"),
            buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.fhir_fetch_seconds = Histogram(
            "nbcds_fhir_fetch_seconds", "FHIR fallback fetch latency per prefetch key", ("key", "status"),
            buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.results = Counter(
            "nbcds_results_total", "Classification outcomes", ("service", "outcome"), registry=self.registry)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition: aggregated across workers when PROMETHEUS_MULTIPROC_DIR is set."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


# Failure reasons for keys the service did not even try to fetch.
_NOT_FETCHED = frozenset({"no-fhir-server", "invalid-fhir-server", "token-required"})


class MetricsObserver:
    """Observes the call pipeline: FHIR fallback fetch latency per key, and classification outcomes."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def call_finished(self, result: CallResult) -> None:
        for key_result in result.data or ():
            fetched = key_result.source == SOURCE_FHIR_SERVER
            fetch_failed = key_result.status == "failed" and key_result.reason not in _NOT_FETCHED
            if fetched or fetch_failed:  # a fetch was made: how long it took, by outcome
                self.metrics.fhir_fetch_seconds.labels(key_result.key, str(key_result.status)).observe(
                    key_result.elapsed_ms / 1000)
        if result.answer is not None:
            self.metrics.results.labels(result.declaration.id, result.answer.outcome).inc()
