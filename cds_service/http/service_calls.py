"""POST /cds-services/{id}: authenticate, find the service, decode the body, then the pipeline answers.

This route only translates HTTP to and from ``answer_call``: everything a CDS Hooks call means is in
``cds_service.protocol``.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from cds_service.http.client_auth import authenticate_client, public_base_url
from cds_service.http.request_log import note
from cds_service.http.runtime import ServiceRuntime, runtime
from cds_service.protocol.errors import not_found
from cds_service.protocol.json_body import decode_json
from cds_service.protocol.pipeline import answer_call
from cds_service.protocol.registry import CdsServiceDeclaration

services = Blueprint("services", __name__)


def declaration_or_404(service_runtime: ServiceRuntime, service_id: str) -> CdsServiceDeclaration:
    declaration = service_runtime.registry.get(service_id)
    if declaration is None:
        raise not_found("no CDS service with this id")
    return declaration


def request_json() -> object:
    """The request body as strict JSON (a 400 ``CdsError`` otherwise)."""
    return decode_json(request.get_data(cache=False), request.mimetype)


@services.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    service_runtime = runtime()
    authenticate_client(service_runtime.settings, service_runtime.verifier)  # before saying which ids exist
    declaration = declaration_or_404(service_runtime, service_id)
    note(service=service_id)
    result = answer_call(declaration, request_json(), service_runtime.dependencies,
                         base_url=public_base_url(service_runtime.settings))
    if result.request is not None:
        note(hook_instance=result.request.hook_instance)
    if result.data is not None:
        note(prefetch=result.data.status_by_key())
    if result.answer is not None:
        note(outcome=result.answer.outcome)
    # The bytes the pipeline encoded before telling the audit what the client receives: exactly these.
    response = Response(result.encoded, status=result.status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
