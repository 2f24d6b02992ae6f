"""Operational routes, for operators only: liveness, readiness (configuration and store) and Prometheus metrics.

None of them carries CORS headers (app.py grants CORS on the CDS Hooks routes only), so a web page cannot
read them. ``/metrics`` counts results per outcome, so it is enough to learn a child's result from the time
the chart was opened (issue 16): with ``NBCDS_METRICS_TOKEN`` it needs ``Authorization: Bearer <token>``;
without one it is open in the development profile and absent (404) in production.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, jsonify, request

from cds_service.http.runtime import runtime
from cds_service.protocol.errors import CdsError, not_found
from cds_service.store import StoreError

health = Blueprint("health", __name__)


@health.get("/healthz")
def liveness() -> Response:
    return jsonify({"status": "ok"})


@health.get("/readyz")
def readiness() -> Response | tuple[Response, int]:
    service_runtime = runtime()
    if service_runtime.problems:
        return jsonify({"status": "misconfigured", "missing": list(service_runtime.problems)}), 503
    try:
        service_runtime.store.ping()
    except StoreError:
        return jsonify({"status": "unavailable", "store": "unreachable"}), 503
    return jsonify({"status": "ready"})


def _metrics_allowed() -> None:
    """Raise the 401 or 404 a caller gets without the metrics token (see the module docstring)."""
    settings = runtime().settings
    if settings.metrics_token is None:
        if settings.profile == "production":
            raise not_found("metrics are not enabled (set NBCDS_METRICS_TOKEN)")
        return
    scheme, _, presented = (request.headers.get("Authorization") or "").partition(" ")
    expected = settings.metrics_token.get_secret_value()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        raise CdsError(401, "login", "authentication required")


@health.get("/metrics")
def metrics() -> Response:
    _metrics_allowed()
    body, content_type = runtime().metrics.exposition()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
