"""The audit record of every service call: identifiers, digests and results — no names, no tokens."""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime

from cds_service.http.request_log import LOGGER_NAME
from cds_service.http.runtime import ServiceRuntime
from cds_service.protocol.hook_request import HookRequest
from cds_service.protocol.prefetch import PrefetchResult
from cds_service.protocol.registry import CdsServiceDeclaration
from cds_service.protocol.service_call import ServiceAnswer
from cds_service.settings import Settings
from cds_service.store import AuditedResults, AuditedRisk, AuditedStage, AuditRecord, StoreError
from neuroblastoma.results import Classification
from neuroblastoma.sources import RULESET_VERSION

logger = logging.getLogger(LOGGER_NAME)

# Prefetch statuses as the audit store records them.
_AUDIT_OUTCOME = {"supplied": "supplied", "fetched": "fetched", "empty": "empty", "failed": "failed",
                  "unavailable": "unavailable", "partial": "partial", "skipped": "missing"}


def audit_patient_ref(settings: Settings, patient_id: str) -> str:
    """The FHIR patient id, or a keyed hash of it when the deployment asks for one."""
    if settings.audit_patient_id == "keyed-hash" and settings.audit_hash_key is not None:
        key = settings.audit_hash_key.get_secret_value().encode()
        return "hmac-sha256:" + hmac.new(key, patient_id.encode(), hashlib.sha256).hexdigest()[:48]
    return patient_id


def audited_results(classification: Classification | None) -> AuditedResults:
    """The classification's results as the audit log keys them: staging system and risk schema ids."""
    if classification is None:
        return AuditedResults()
    stage, inrg, cog = classification.stage, classification.inrg2009, classification.cog2021
    return AuditedResults(
        stages={"inrgss": AuditedStage(stage=stage.stage.value if stage.stage else None,
                                       candidates=tuple(s.value for s in stage.candidates))},
        risks={
            "inrg2009": AuditedRisk(risk=inrg.risk.value if inrg.risk else None, group=inrg.group,
                                    candidates=tuple(dict.fromkeys(c.risk.value for c in inrg.candidates))),
            "cog2021": AuditedRisk(risk=cog.risk.value if cog.risk else None,
                                   candidates=tuple(r.value for r in cog.candidates)),
        },
    )


def audit_service_call(
    service_runtime: ServiceRuntime,
    declaration: CdsServiceDeclaration,
    call_request: HookRequest,
    data: PrefetchResult,
    answer: ServiceAnswer,
    received_at: datetime,
    latency_ms: float,
    http_status: int = 200,
) -> None:
    """Record the call and its cards. The store being down must not stop clinical answers: log and go on."""
    try:
        record = AuditRecord(
            service_id=declaration.id,
            received_at=received_at,
            ruleset_version=RULESET_VERSION,
            http_status=http_status,
            latency_ms=latency_ms,
            hook_instance=call_request.hook_instance,
            hook=call_request.hook,
            inputs_digest=answer.inputs_digest,
            patient_ref=audit_patient_ref(service_runtime.settings, call_request.patient_id),
            results=audited_results(answer.classification),
            card_uuids=tuple(card.uuid for card in answer.issued),
            prefetch={key: _AUDIT_OUTCOME[str(data[key].status)] for key in declaration.prefetch},
        )
        service_runtime.store.audit.record_call(record, answer.issued)
    except (StoreError, ValueError) as error:
        logger.warning("audit record not stored; the call was answered",
                       extra={"fields": {"hook_instance": call_request.hook_instance, "error": type(error).__name__}})
