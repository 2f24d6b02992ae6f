"""In-memory stand-ins for the store's ports (cds_service/store/ports.py), for tests of the code that uses them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cds_service.store import AuditRecord, FeedbackEntry, IssuedCard, SavedFeedback, StoreUnavailable
from cds_service.store.feedback_entries import feedback_idempotency_key

__all__ = ["InMemoryAuditLog", "InMemoryFeedbackLog", "InMemoryReadiness"]


class InMemoryAuditLog:
    """Keeps each call's record and cards; `down = True` makes it raise StoreUnavailable like a lost database."""

    def __init__(self) -> None:
        self.calls: list[tuple[AuditRecord, tuple[IssuedCard, ...]]] = []
        self.down = False

    def record_call(self, record: AuditRecord, issued_cards: Iterable[IssuedCard] = ()) -> None:
        if self.down:
            raise StoreUnavailable("database unavailable: the fake is down")
        self.calls.append((record, tuple(issued_cards)))

    def issuance(self, service_id: str, card: str) -> tuple[str, str] | None:
        """(hook instance, kind) of the latest call of `service_id` that issued `card`."""
        found = None
        for record, cards in self.calls:
            for issued in cards:
                if record.service_id == service_id and issued.uuid == card and record.hook_instance is not None:
                    found = (record.hook_instance, issued.kind)
        return found


class InMemoryFeedbackLog:
    """Idempotent like the real one (same key), linked to the cards an InMemoryAuditLog recorded."""

    def __init__(self, audit: InMemoryAuditLog | None = None) -> None:
        self.audit = audit or InMemoryAuditLog()
        self.stored: dict[str, tuple[str, FeedbackEntry]] = {}
        self.down = False

    def save(self, service_id: str, entries: Iterable[FeedbackEntry], received_at: datetime | None = None,
             ) -> list[SavedFeedback]:
        if self.down:
            raise StoreUnavailable("database unavailable: the fake is down")
        saved = []
        for entry in entries:
            key = feedback_idempotency_key(service_id, entry)
            created = key not in self.stored
            self.stored.setdefault(key, (service_id, entry))
            issuance = self.audit.issuance(service_id, entry.card)
            saved.append(SavedFeedback(
                index=entry.index, card=entry.card, idempotency_key=key, created=created,
                card_known=issuance is not None, hook_instance=issuance[0] if issuance else None,
                card_kind=issuance[1] if issuance else None,
            ))
        return saved


class InMemoryReadiness:
    def __init__(self) -> None:
        self.down = False

    def ping(self) -> None:
        if self.down:
            raise StoreUnavailable("database unavailable: the fake is down")
