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
from cds_service.store import AuditRecord, GroupCommit, PreparedCall, Store, StoreError
from neuroblastoma.sources import RULESET_VERSION

logger = logging.getLogger("nbcds")

# How long an answered call waits for its audit record's commit before answering anyway (the record stays
# queued and is written when the database allows). Normally a commit takes milliseconds; this bounds what
# a hung or locked database adds to a clinical answer.
AUDIT_WRITE_TIMEOUT_SECONDS = 2.0

# Prefetch statuses as the audit store records them.
_AUDIT_OUTCOME = {"supplied": "supplied", "fetched": "fetched", "empty": "empty", "failed": "failed",
                  "unavailable": "unavailable", "partial": "partial", "skipped": "missing"}


def audit_patient_ref(settings: Settings, patient_id: str) -> str:
    """The FHIR patient id, or a keyed hash of it when the deployment asks for one."""
    if settings.audit_patient_id == "keyed-hash" and settings.audit_hash_key is not None:
        key = settings.audit_hash_key.get_secret_value().encode()
        return "hmac-sha256:" + hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()[:48]
    return patient_id


def audit_record(result: CallResult, settings: Settings) -> AuditRecord:
    request, answer, data = result.request, result.answer, result.data
    classification = answer.classification if answer else None
    stage = classification.stage if classification else None
    inrg = classification.risk("inrg2009") if classification else None
    cog = classification.risk("cog2021") if classification else None
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
        stage=stage.stage.value if stage and stage.stage else None,
        stage_candidates=tuple(s.value for s in stage.candidates) if stage else (),
        inrg2009_group=inrg.group if inrg else None,
        inrg2009_risk=inrg.risk.value if inrg and inrg.risk else None,
        cog2021_risk=cog.risk.value if cog and cog.risk else None,
        card_uuids=tuple(card.uuid for card in answer.issued()) if answer else (),
        prefetch={key: _AUDIT_OUTCOME[str(data[key].status)] for key in result.declaration.prefetch} if data else {},
    )


class AuditObserver:
    """Records every call whose request could be read (a body that is not a hook request has no record)."""

    def __init__(self, store: Store, writer: GroupCommit[PreparedCall], settings: Settings) -> None:
        self.store = store
        self.writer = writer
        self.settings = settings

    def call_finished(self, result: CallResult) -> None:
        if result.request is None:
            return
        hook_instance = result.request.hook_instance
        try:
            issued = result.answer.issued() if result.answer else ()
            prepared = self.store.prepare_call(audit_record(result, self.settings), issued)
            self.writer.write(prepared, timeout=AUDIT_WRITE_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("audit record not committed within the wait; the call was answered, the record is queued",
                           extra={"fields": {"hook_instance": hook_instance, "waited_s": AUDIT_WRITE_TIMEOUT_SECONDS}})
        except (StoreError, ValueError) as error:
            logger.warning("audit record not stored; the call was answered",
                           extra={"fields": {"hook_instance": hook_instance, "error": type(error).__name__}})
