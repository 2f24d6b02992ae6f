"""The application factory: ``create_app(settings)`` builds one service; tests build one per test.

Every response carries ``X-Content-Type-Options: nosniff``; a 401 carries ``WWW-Authenticate: Bearer``
(RFC 6750). CORS (with the Private-Network-Access grant the hosted sandbox needs to reach a local service)
is on the CDS Hooks routes only, never on the operational ones (``/healthz``, ``/readyz``, ``/metrics``).
Nothing that runs after the answer was decided (metrics, the request log) can change it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, jsonify, request
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from cds_service.app.routes import init_smart_app
from cds_service.http.discovery import discovery
from cds_service.http.feedback import feedback
from cds_service.http.landing import home
from cds_service.http.metrics import Metrics
from cds_service.http.openapi_route import init_openapi, openapi
from cds_service.http.operations import health
from cds_service.http.request_log import LOGGER_NAME, configure_logging, init_request_log, note
from cds_service.http.runtime import build_runtime, init_runtime
from cds_service.http.service_calls import services
from cds_service.protocol.errors import CdsError, operation_outcome
from cds_service.protocol.incidents import incident_fields
from cds_service.protocol.openapi import OPENAPI_PATH
from cds_service.protocol.registry import ServiceRegistry
from cds_service.settings import Settings
from fhir_mappings.reading.validation import load_models

logger = logging.getLogger(LOGGER_NAME)

_HTTP_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
                     413: "too-costly", 415: "not-supported", 503: "transient"}


_REPEATED_SLASHES = re.compile(r"/{2,}")
# The CDS Hooks routes (discovery, services, feedback): browser-based clients call them cross-origin.
CDS_HOOKS_ROUTES = r"^/cds-services(/.*)?$"


class _CanonicalPath:
    """Route ``/cds-services/`` and ``/cds-services//{id}`` as ``/cds-services`` and ``/cds-services/{id}``.

    The sandbox builds service URLs as ``discoveryUrl + "/" + id``, so a discovery URL typed with a trailing
    slash gives both forms (cds-hooks-notes §2.1). Werkzeug would answer 404 and 308; a redirect fails the
    browser's CORS preflight. The JWT ``aud`` check normalises the same way.
    """

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if "//" in path or (len(path) > 1 and path.endswith("/")):
            environ["PATH_INFO"] = _REPEATED_SLASHES.sub("/", path).rstrip("/") or "/"
        return self.wsgi_app(environ, start_response)


def _init_request_metrics(app: Flask, metrics: Metrics) -> None:
    """Request latency per route, service and status (routes only: unknown paths would explode the labels)."""

    @app.after_request
    def _observe(response: Response) -> Response:
        started = getattr(g, "request_started", None)
        if started is not None and request.url_rule is not None:  # never raises (Metrics records safely)
            service = getattr(g, "log_service", None) or ""
            metrics.observe_request(request.url_rule.rule, service, response.status_code,
                                    time.perf_counter() - started)
        return response


def _init_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        if response.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response


def error_response(status: int, code: str, diagnostics: str, expression: list[str] | None = None) -> Response:
    response = jsonify(operation_outcome(code, diagnostics, expression))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CdsError)
    def _cds_error(error: CdsError) -> Response:
        return error_response(error.status, error.code, error.diagnostics, error.expression)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        diagnostics = {413: "the request body is too large"}.get(status, error.name)
        response = error_response(status, _HTTP_ISSUE_CODES.get(status, "exception"), diagnostics)
        allow = dict(error.get_headers()).get("Allow")
        if allow:  # a 405 must say which methods the resource has (RFC 9110 §15.5.6)
            response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # A 500 is a bug: log the type and where (never the message: it may quote request data), say nothing
        # internal to the client.
        note(outcome="internal-error")
        logger.error("unhandled error", extra={"fields": incident_fields(error)})
        return error_response(500, "exception", "internal error; the incident was logged")


def create_app(settings: Settings | None = None, registry: ServiceRegistry | None = None) -> Flask:
    """Build the CDS Hooks service. With no registry, the neuroblastoma services are declared."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    if registry is None:
        from cds_service.services import REGISTRY

        registry = REGISTRY
    app = Flask(__name__, static_folder=None)  # no /static route: the package files are not for clients
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    service_runtime = build_runtime(settings, registry)
    init_runtime(app, service_runtime)
    init_openapi(app, registry)
    CORS(
        app,
        resources={
            CDS_HOOKS_ROUTES: {"allow_private_network": True},  # the hosted sandbox calling a local service
            f"^{re.escape(OPENAPI_PATH)}$": {"allow_private_network": False},  # a public description
        },
        origins=settings.cors_allowed_origins,
        methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        supports_credentials=False,
        max_age=600,
    )
    init_request_log(app)
    _init_request_metrics(app, service_runtime.metrics)
    _init_security_headers(app)
    _register_error_handlers(app)
    for blueprint in (home, discovery, services, feedback, health, openapi):
        app.register_blueprint(blueprint)
    init_smart_app(app)  # the SMART on FHIR app under /app (cds_service/app/)
    app.wsgi_app = _CanonicalPath(app.wsgi_app)  # type: ignore[method-assign]
    load_models()  # fhir.resources' models now, not in the first hook call
    return app
