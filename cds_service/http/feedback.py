"""POST /cds-services/{id}/feedback: validate each entry, store idempotently, say which were stored."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from cds_service.http.client_auth import authenticate_client
from cds_service.http.request_log import note
from cds_service.http.runtime import runtime
from cds_service.http.service_calls import declaration_or_404, request_json
from cds_service.protocol.errors import CdsError
from cds_service.protocol.feedback import parse_feedback
from cds_service.store import StoreError

feedback = Blueprint("feedback", __name__)


@feedback.post("/cds-services/<service_id>/feedback")
def receive_feedback(service_id: str) -> Response:
    service_runtime = runtime()
    authenticate_client(service_runtime.settings, service_runtime.verifier)  # before saying which ids exist
    declaration_or_404(service_runtime, service_id)
    note(service=service_id)
    batch = parse_feedback(request_json())
    try:
        saved = service_runtime.store.feedback.save(service_id, batch.entries) if batch.entries else []
    except StoreError:
        raise CdsError(503, "transient", "feedback storage is unavailable; nothing was stored, retry later") from None
    stored = [{"index": s.index, "card": s.card, "status": "duplicate" if s.duplicate else "stored",
               **({} if s.card_known else {"cardKnown": False})} for s in saved]
    if batch.errors:
        issues = [{"severity": "error", "code": "invalid", "diagnostics": error.message,
                   **({"expression": [error.field]} if error.field else {})} for error in batch.errors]
        issues += [{"severity": "information", "code": "informational",
                    "diagnostics": f"feedback[{s['index']}] {s['status']}"} for s in stored]
        response = jsonify({"resourceType": "OperationOutcome", "issue": issues})
        response.status_code = 400
    else:
        note(outcome=f"feedback-{len(stored)}")
        response = jsonify({"stored": stored})
    response.headers["Cache-Control"] = "no-store"
    return response
