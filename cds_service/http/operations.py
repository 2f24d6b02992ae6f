"""Liveness, readiness (the store is reachable) and Prometheus metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from cds_service.http.runtime import runtime
from cds_service.store import StoreError

health = Blueprint("health", __name__)


@health.get("/healthz")
def liveness() -> Response:
    return jsonify({"status": "ok"})


@health.get("/readyz")
def readiness() -> Response | tuple[Response, int]:
    try:
        runtime().store.ping()
    except StoreError:
        return jsonify({"status": "unavailable", "store": "unreachable"}), 503
    return jsonify({"status": "ready"})


@health.get("/metrics")
def metrics() -> Response:
    body, content_type = runtime().metrics.exposition()
    return Response(body, content_type=content_type)
