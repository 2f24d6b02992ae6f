"""The audit record of every service call: identifiers, digests and results — no names, no tokens.

``AuditObserver`` observes the call pipeline: it is told, once per call, what the client received, and
records it with the cards issued (so feedback can find them). The store being down must not stop
clinical answers: a failed write is logged and the answer stands.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from cds_service.protocol.pipeline import CallResult
from cds_service.settings import Settings
from cds_service.store import AuditedResults, AuditedRisk, AuditedStage, AuditLog, AuditRecord, StoreError
from neuroblastoma.results import Classification
from neuroblastoma.sources import RULESET_VERSION

logger = logging.getLogger("nbcds")


def audit_patient_ref(settings: Settings, patient_id: str) -> str | None:
    """The FHIR patient id, or a keyed hash of it (the production default).

    Keyed-hash mode without a key (a production app built despite `production_problems`) records no
    patient at all rather than the plain id.
    """
    if settings.patient_id_in_audit == "fhir-id":
        return patient_id
    if settings.audit_hash_key is None:
        return None
    key = settings.audit_hash_key.get_secret_value().encode()
    return "hmac-sha256:" + hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()[:48]


def audited_results(classification: Classification | None) -> AuditedResults:
    """Every staging system's and risk schema's result, keyed by its id, as codes (the audit log's `results`)."""
    if classification is None:
        return AuditedResults()
    return AuditedResults(
        stages={
            result.system: AuditedStage(stage=str(result.stage.value) if result.stage else None,
                                        candidates=tuple(str(stage.value) for stage in result.candidates))
            for result in classification.stages
        },
        risks={
            result.schema: AuditedRisk(risk=result.risk.value if result.risk else None, group=result.group,
                                       candidates=tuple(dict.fromkeys(c.risk.value for c in result.candidates)))
            for result in classification.risks
        },
    )


def audit_record(result: CallResult, settings: Settings) -> AuditRecord:
    request, answer, data = result.request, result.answer, result.data
    return AuditRecord(
        service_id=result.declaration.id,
        received_at=result.received_at,
        ruleset_version=RULESET_VERSION,
        http_status=result.status,
        latency_ms=result.latency_ms,
        hook_instance=request.hook_instance if request else None,
        hook=request.hook if request else None,
        inputs_digest=answer.inputs_digest if answer else None,
        patient_ref=audit_patient_ref(settings, request.patient_id) if request else None,
        results=audited_results(answer.classification if answer else None),
        card_uuids=tuple(card.uuid for card in answer.issued()) if answer else (),
        prefetch={key: data[key].status for key in result.declaration.prefetch} if data else {},
    )


class AuditObserver:
    """Records every call whose request could be read (a body that is not a hook request has no record)."""

    def __init__(self, audit_log: AuditLog, settings: Settings) -> None:
        self.audit_log = audit_log
        self.settings = settings

    def call_finished(self, result: CallResult) -> None:
        if result.request is None:
            return
        hook_instance = result.request.hook_instance
        try:
            issued = result.answer.issued() if result.answer else ()
            self.audit_log.record_call(audit_record(result, self.settings), issued)
        except (StoreError, ValueError) as error:
            logger.warning("audit record not stored; the call was answered",
                           extra={"fields": {"hook_instance": hook_instance, "error": type(error).__name__}})
