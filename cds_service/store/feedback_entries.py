"""What the store keeps of a feedback entry: the validated entry, its override reason, its idempotency key.

The request body is validated in ``cds_service.protocol.feedback``; the store takes ``FeedbackEntry``
objects only, so it never sees unvalidated input.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

__all__ = ["OUTCOMES", "Coding", "FeedbackEntry", "OverrideReason", "feedback_idempotency_key", "normalise_uuid"]

Outcome = Literal["accepted", "overridden"]
OUTCOMES: tuple[str, ...] = ("accepted", "overridden")


_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class Coding:
    """A FHIR Coding as used for an override reason."""

    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class OverrideReason:
    """`overrideReason`: a coded reason, a free-text comment, or both (never neither)."""

    reason: Coding | None = None
    user_comment: str | None = None


@dataclass(frozen=True)
class FeedbackEntry:
    """One valid feedback entry. `index` is its position in the request's `feedback` array."""

    card: str
    outcome: Outcome
    outcome_timestamp: datetime
    accepted_suggestions: tuple[str, ...] = ()
    override_reason: OverrideReason | None = None
    index: int = field(default=0, compare=False)


def normalise_uuid(value: object) -> str | None:
    """Return the lower-case canonical form of an 8-4-4-4-12 uuid string, or None if it is not one."""
    if isinstance(value, str) and _UUID_RE.match(value):
        return value.lower()
    return None


def feedback_idempotency_key(service_id: str, entry: FeedbackEntry) -> str:
    """SHA-256 hex over what makes a feedback entry the same entry.

    Covers the service id, card uuid, outcome, the accepted suggestion ids (sorted, de-duplicated),
    the override reason as `system|code`, the user comment and the UTC-normalised timestamp. The
    parts are encoded as a JSON array so no separator can be forged by a value.
    """
    reason = entry.override_reason
    coding = reason.reason if reason else None
    parts = [
        "cds-feedback-v1",
        service_id,
        entry.card,
        entry.outcome,
        sorted(set(entry.accepted_suggestions)),
        f"{coding.system}|{coding.code}" if coding else None,
        reason.user_comment if reason else None,
        entry.outcome_timestamp.astimezone(UTC).isoformat(timespec="microseconds"),
    ]
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
