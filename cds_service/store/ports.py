"""What the rest of the service needs from the store, as protocols: the pipeline depends on these, not on SQL.

A test can hand the pipeline in-memory fakes (tests/support/store_fakes.py); production wires `Store`
(store.py). Every method may raise `StoreUnavailable` (answer 503 / log and go on) or another `StoreError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol, runtime_checkable

from .audit_log import AuditRecord, IssuedCard
from .feedback import SavedFeedback
from .feedback_entries import FeedbackEntry

__all__ = ["AuditLog", "FeedbackLog", "Readiness"]


@runtime_checkable
class AuditLog(Protocol):
    def record_call(self, record: AuditRecord, issued_cards: Iterable[IssuedCard] = ()) -> None:
        """Write one call's audit record and the cards it issued, together; committed on return."""
        ...


@runtime_checkable
class FeedbackLog(Protocol):
    def save(self, service_id: str, entries: Iterable[FeedbackEntry], received_at: datetime | None = None,
             ) -> list[SavedFeedback]:
        """Store feedback entries idempotently; one SavedFeedback per entry, in order."""
        ...


@runtime_checkable
class Readiness(Protocol):
    def ping(self) -> None:
        """Return if the store can be used now; raise StoreUnavailable (or SchemaVersionError) if not."""
        ...
