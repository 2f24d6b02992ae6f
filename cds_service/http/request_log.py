"""Structured JSON logs: one line per request with identifiers, timings and outcomes — never PHI.

Only whitelisted fields are written: hookInstance, service, status, latency, prefetch outcome per
key, the client's issuer. Request bodies, headers, tokens and resource contents are never logged.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import Flask, Response, g, request

LOGGER_NAME = "nbcds"
_REQUEST_FIELDS = ("hook_instance", "service", "prefetch", "client_issuer", "outcome", "auth_failure")


class JsonLineFormatter(logging.Formatter):
    """Render a record as one JSON object; extra fields come only from ``record.fields``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,  # which gunicorn worker
            "event": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}) or {})
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(level: str) -> logging.Logger:
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h.formatter, JsonLineFormatter) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLineFormatter())
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = True
    return logger


def note(**fields: Any) -> None:
    """Attach whitelisted fields to this request's log line."""
    for key, value in fields.items():
        if key not in _REQUEST_FIELDS:
            raise ValueError(f"{key!r} is not a loggable request field")
        setattr(g, f"log_{key}", value)


def init_request_log(app: Flask) -> None:
    logger = logging.getLogger(LOGGER_NAME)

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response: Response) -> Response:
        started = getattr(g, "request_started", None)
        latency_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
        fields: dict[str, Any] = {
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "latency_ms": latency_ms,
        }
        for key in _REQUEST_FIELDS:
            value = getattr(g, f"log_{key}", None)
            if value is not None:
                fields[key] = value
        logger.info("request", extra={"fields": fields})
        return response
