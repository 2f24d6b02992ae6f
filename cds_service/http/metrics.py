"""Prometheus metrics, correct under several gunicorn workers (multiprocess mode when configured).

Metrics never change an answer: in multiprocess mode each worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR``, and a ``/tmp`` cleaner that removed that directory made every request of a
restarted worker a 500 (issue 16). The directory is recreated when missing, and a metric that still cannot
be written is skipped and logged, never raised.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cds_service.protocol.incidents import incident_fields
from cds_service.protocol.pipeline import CallResult
from cds_service.protocol.prefetch.resolve import SOURCE_FHIR_SERVER

logger = logging.getLogger("nbcds")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
MULTIPROCESS_DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"


def ensure_multiprocess_directory() -> None:
    """Create ``PROMETHEUS_MULTIPROC_DIR`` if it is set and missing (a ``/tmp`` cleaner may have removed it)."""
    directory = os.environ.get(MULTIPROCESS_DIRECTORY)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
        logger.warning("the metrics directory was missing and has been recreated; earlier values are lost")


def _record(update: Callable[[], object]) -> None:
    """Apply one metric update; if its file cannot be written, recreate the directory once, else skip it."""
    try:
        update()
    except OSError:
        try:
            ensure_multiprocess_directory()
            update()
        except Exception as error:  # a metric is not worth an answer
            logger.warning("a metric could not be recorded", extra={"fields": incident_fields(error)})
    except Exception as error:
        logger.warning("a metric could not be recorded", extra={"fields": incident_fields(error)})


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

    def observe_request(self, endpoint: str, service: str, status: int, seconds: float) -> None:
        _record(lambda: self.request_seconds.labels(endpoint, service, str(status)).observe(seconds))

    def observe_fetch(self, key: str, status: str, seconds: float) -> None:
        _record(lambda: self.fhir_fetch_seconds.labels(key, status).observe(seconds))

    def count_result(self, service: str, outcome: str) -> None:
        _record(lambda: self.results.labels(service, outcome).inc())

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition: aggregated across workers when PROMETHEUS_MULTIPROC_DIR is set."""
        if os.environ.get(MULTIPROCESS_DIRECTORY):
            ensure_multiprocess_directory()
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
                self.metrics.observe_fetch(key_result.key, str(key_result.status), key_result.elapsed_ms / 1000)
        if result.answer is not None:
            self.metrics.count_result(result.declaration.id, result.answer.outcome)
