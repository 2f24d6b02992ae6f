"""GET /cds-services: discovery, generated from the service declarations."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from cds_service.http.client_auth import authenticate_client
from cds_service.http.runtime import runtime

discovery = Blueprint("discovery", __name__)


@discovery.get("/cds-services")
def list_services() -> Response:
    service_runtime = runtime()
    authenticate_client(service_runtime.settings, service_runtime.verifier)
    response = jsonify(service_runtime.registry.discovery().wire())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
