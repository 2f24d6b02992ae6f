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
    # Behind a JWT, a shared cache must not keep it (and answer clients it never authenticated): private.
    private = service_runtime.verifier is not None
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, max-age=300"
    return response
