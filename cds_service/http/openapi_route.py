"""GET /openapi.json: the OpenAPI 3.1 description, generated from the models and the registry at start-up."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint, Flask, Response, current_app

from cds_service.protocol.openapi import OPENAPI_PATH, openapi_document
from cds_service.protocol.registry import ServiceRegistry

openapi = Blueprint("openapi", __name__)
_DOCUMENT_KEY = "nbcds-openapi"


def package_version() -> str:
    try:
        return version("neuroblastoma-cds")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def init_openapi(app: Flask, registry: ServiceRegistry) -> None:
    """Generate the document once per app (a bad model or declaration fails at start-up, not per request)."""
    document = openapi_document(registry, package_version())
    app.extensions[_DOCUMENT_KEY] = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@openapi.get(OPENAPI_PATH)
def openapi_json() -> Response:
    response = Response(current_app.extensions[_DOCUMENT_KEY], content_type="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
