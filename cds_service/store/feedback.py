"""Feedback on issued cards, stored idempotently and linked to the latest issuance of its card.

Idempotent: each entry has a key (`feedback_idempotency_key`: service, card, outcome, suggestions, reason,
comment, instant) that is unique in the table, and `INSERT ... ON CONFLICT DO NOTHING` stores it once, so
a client retrying a batch, or sending the same entry twice in one batch, stores each entry once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .audit_log import IDENTIFIER_PATTERN
from .engine import Database
from .feedback_entries import FeedbackEntry, feedback_idempotency_key
from .tables import cards, feedback

__all__ = ["SavedFeedback", "SqlFeedbackLog"]

_SERVICE_ID_RE = re.compile(IDENTIFIER_PATTERN)
_LOOKUP_CHUNK = 500  # card uuids per IN (...) when linking entries to their cards


@dataclass(frozen=True)
class SavedFeedback:
    """What `save` did with one entry (same order as the entries given)."""

    index: int
    card: str
    idempotency_key: str
    created: bool
    card_known: bool
    hook_instance: str | None = None
    card_kind: str | None = None

    @property
    def duplicate(self) -> bool:
        return not self.created


@dataclass(frozen=True)
class _Issuance:
    """The latest time a service issued a card: its row, hook instance and kind."""

    card_id: int
    hook_instance: str
    card_kind: str


def _checked_service_id(service_id: object) -> str:
    if not isinstance(service_id, str) or not 0 < len(service_id) <= 128 or not _SERVICE_ID_RE.match(service_id):
        raise ValueError("service_id must be an identifier of 1..128 characters [A-Za-z0-9._:/|=+@-]")
    return service_id


def _checked_instant(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("received_at must be a timezone-aware datetime")
    return value.astimezone(UTC)


def _feedback_row(service_id: str, entry: FeedbackEntry, key: str, issuance: _Issuance | None,
                  received_at: datetime) -> dict[str, Any]:
    reason = entry.override_reason
    coding = reason.reason if reason else None
    return {
        "idempotency_key": key,
        "service_id": service_id,
        "card_uuid": entry.card,
        "card_known": issuance is not None,
        "card_id": issuance.card_id if issuance else None,
        "hook_instance": issuance.hook_instance if issuance else None,
        "card_kind": issuance.card_kind if issuance else None,
        "outcome": entry.outcome,
        "accepted_suggestions": list(entry.accepted_suggestions),
        "override_reason_system": coding.system if coding else None,
        "override_reason_code": coding.code if coding else None,
        "override_reason_display": coding.display if coding else None,
        "user_comment": reason.user_comment if reason else None,
        "outcome_timestamp": entry.outcome_timestamp,
        "received_at": received_at,
    }


def _latest_issuances(conn: Connection, service_id: str, card_uuids: set[str]) -> dict[str, _Issuance]:
    """For each card uuid this service issued, its latest issuance (a uuid may be re-issued by a later call)."""
    latest: dict[str, _Issuance] = {}
    ordered = sorted(card_uuids)
    for start in range(0, len(ordered), _LOOKUP_CHUNK):
        rows = conn.execute(
            sa.select(cards.c.id, cards.c.card_uuid, cards.c.hook_instance, cards.c.card_kind)
            .where(cards.c.service_id == service_id, cards.c.card_uuid.in_(ordered[start : start + _LOOKUP_CHUNK]))
            .order_by(cards.c.created_at, cards.c.id)
        )
        for row in rows:
            latest[row.card_uuid] = _Issuance(row.id, row.hook_instance, row.card_kind)  # later rows win
    return latest


class SqlFeedbackLog:
    """Feedback in the store's database (implements `ports.FeedbackLog`)."""

    def __init__(self, database: Database, ensure_schema: Callable[[], None]) -> None:
        self._database = database
        self._ensure_schema = ensure_schema
        # RETURNING (SQLite >= 3.35, PostgreSQL) tells whether the row was new: drivers may report rowcount -1.
        self._insert = database.insert_or_ignore(feedback, "idempotency_key").returning(feedback.c.id)

    def save(self, service_id: str, entries: Iterable[FeedbackEntry], received_at: datetime | None = None,
             ) -> list[SavedFeedback]:
        """Store validated entries idempotently, in one transaction committed before returning.

        Each entry is linked to the latest issuance of its card by this service (card id, hook instance and
        kind); a card this service never issued is stored with card_known = False. Returns one SavedFeedback
        per entry, in order: created=False when the same entry was already stored, earlier in this batch too.
        """
        service_id = _checked_service_id(service_id)
        entries = list(entries)
        if not all(isinstance(entry, FeedbackEntry) for entry in entries):
            raise TypeError("the feedback log takes FeedbackEntry objects (see parse_feedback)")
        if not entries:
            return []
        received = _checked_instant(received_at)
        self._ensure_schema()
        saved: list[SavedFeedback] = []
        with self._database.transaction(write=True) as conn:
            issued = _latest_issuances(conn, service_id, {entry.card for entry in entries})
            for entry in entries:
                key = feedback_idempotency_key(service_id, entry)
                issuance = issued.get(entry.card)
                row = _feedback_row(service_id, entry, key, issuance, received)
                created = conn.execute(self._insert, row).first() is not None
                saved.append(SavedFeedback(
                    index=entry.index, card=entry.card, idempotency_key=key, created=created,
                    card_known=issuance is not None,
                    hook_instance=issuance.hook_instance if issuance else None,
                    card_kind=issuance.card_kind if issuance else None,
                ))
        return saved
