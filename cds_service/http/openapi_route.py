"""GET /openapi.json: the OpenAPI 3.1 description of the service's HTTP interface.

The document is a package file (``cds_service/openapi.json``) written by hand; tests/robustness
checks that its paths and methods are the Flask routes and that its service ids are the declared
services, and fuzzes the service from it with schemathesis.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files

from flask import Blueprint, Response

openapi = Blueprint("openapi", __name__)

OPENAPI_PATH = "/openapi.json"


@cache
def openapi_document() -> bytes:
    """The document as served (parsed once, so a broken file fails at the first request's test)."""
    text = files("cds_service").joinpath("openapi.json").read_text(encoding="utf-8")
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@openapi.get(OPENAPI_PATH)
def openapi_json() -> Response:
    response = Response(openapi_document(), content_type="application/json")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
