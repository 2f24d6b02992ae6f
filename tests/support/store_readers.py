"""Reading the store back, for tests only: production writes the store and reports on it, never reads rows back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext

from cds_service.store import AuditRecord, Coding, IssuedCard, OverrideReason, Store
from cds_service.store.feedback_entries import normalise_uuid
from cds_service.store.tables import audit_log, cards, feedback

__all__ = ["StoredFeedback", "audit_records", "feedback_records", "issued_cards", "schema_revision"]


@dataclass(frozen=True)
class StoredFeedback:
    """A feedback row as read back from the store."""

    id: int
    idempotency_key: str
    service_id: str
    card: str
    card_known: bool
    hook_instance: str | None
    card_kind: str | None
    outcome: str
    accepted_suggestions: tuple[str, ...]
    override_reason: OverrideReason | None
    outcome_timestamp: datetime
    received_at: datetime


def issued_cards(store: Store, hook_instance: str) -> list[IssuedCard]:
    """The cards recorded for a hook instance, in the order written."""
    with store.read() as conn:
        rows = conn.execute(
            sa.select(cards.c.card_uuid, cards.c.card_kind, cards.c.suggestion_uuids)
            .where(cards.c.hook_instance == hook_instance)
            .order_by(cards.c.id)
        ).all()
    return [IssuedCard(r.card_uuid, r.card_kind, tuple(r.suggestion_uuids or ())) for r in rows]


def audit_records(store: Store, *, hook_instance: str | None = None, limit: int = 1000) -> list[AuditRecord]:
    """Audit records, oldest first, optionally for one hook instance."""
    query = sa.select(audit_log).order_by(audit_log.c.id).limit(limit)
    if hook_instance is not None:
        query = query.where(audit_log.c.hook_instance == hook_instance)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [
        AuditRecord(
            service_id=r.service_id,
            received_at=r.received_at,
            ruleset_version=r.ruleset_version,
            http_status=r.http_status,
            latency_ms=r.latency_ms,
            hook_instance=r.hook_instance,
            hook=r.hook,
            inputs_digest=r.inputs_digest,
            patient_ref=r.patient_ref,
            results=r.results,
            card_uuids=tuple(r.card_uuids or ()),
            prefetch=dict(r.prefetch or {}),
        )
        for r in rows
    ]


def feedback_records(store: Store, *, card: str | None = None, hook_instance: str | None = None,
                     limit: int = 1000) -> list[StoredFeedback]:
    """Stored feedback, oldest first, optionally for one card uuid or hook instance."""
    query = sa.select(feedback).order_by(feedback.c.id).limit(limit)
    if card is not None:
        query = query.where(feedback.c.card_uuid == (normalise_uuid(card) or card))
    if hook_instance is not None:
        query = query.where(feedback.c.hook_instance == hook_instance)
    with store.read() as conn:
        rows = conn.execute(query).all()
    stored = []
    for r in rows:
        coding = (Coding(r.override_reason_system, r.override_reason_code, r.override_reason_display)
                  if r.override_reason_code is not None else None)
        reason = OverrideReason(coding, r.user_comment) if coding is not None or r.user_comment else None
        stored.append(StoredFeedback(
            id=r.id, idempotency_key=r.idempotency_key, service_id=r.service_id, card=r.card_uuid,
            card_known=bool(r.card_known), hook_instance=r.hook_instance, card_kind=r.card_kind,
            outcome=r.outcome, accepted_suggestions=tuple(r.accepted_suggestions or ()), override_reason=reason,
            outcome_timestamp=r.outcome_timestamp, received_at=r.received_at,
        ))
    return stored


def schema_revision(engine: sa.Engine) -> str | None:
    """The Alembic revision the database is at (None: not under Alembic)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
