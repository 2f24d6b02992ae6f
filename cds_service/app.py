"""The application factory: ``create_app(settings)`` builds one service; tests build one per test."""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_cors import CORS
from werkzeug.exceptions import HTTPException

from cds_service.blueprints.discovery import discovery
from cds_service.blueprints.feedback import feedback
from cds_service.blueprints.health import health
from cds_service.blueprints.services import services
from cds_service.operation_outcome import CdsHttpError, error_response
from cds_service.registry import ServiceRegistry
from cds_service.request_log import LOGGER_NAME, configure_logging, init_request_log, note
from cds_service.runtime import build_runtime, init_runtime
from cds_service.settings import Settings

logger = logging.getLogger(LOGGER_NAME)

_HTTP_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
                     413: "too-costly", 415: "not-supported", 503: "transient"}


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CdsHttpError)
    def _cds_error(error: CdsHttpError) -> Response:
        return error_response(error.status, error.code, error.diagnostics, error.expression)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        diagnostics = {413: "the request body is too large"}.get(status, error.name)
        return error_response(status, _HTTP_ISSUE_CODES.get(status, "exception"), diagnostics)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # A 500 is a bug: log the type (never the request data) and say nothing internal to the client.
        note(outcome="internal-error")
        logger.error("unhandled error", extra={"fields": {"error": type(error).__name__}}, exc_info=error)
        return error_response(500, "exception", "internal error; the incident was logged")


def create_app(settings: Settings | None = None, registry: ServiceRegistry | None = None) -> Flask:
    """Build the CDS Hooks service. With no registry, the neuroblastoma services are declared."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    if registry is None:
        from cds_service.neuroblastoma_services import REGISTRY

        registry = REGISTRY
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    init_runtime(app, build_runtime(settings, registry))
    CORS(
        app,
        origins=settings.cors_allowed_origins,
        methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        supports_credentials=False,
        allow_private_network=True,
        max_age=600,
    )
    init_request_log(app)
    _register_error_handlers(app)
    for blueprint in (discovery, services, feedback, health):
        app.register_blueprint(blueprint)
    return app
