"""Parse and validate a CDS Hooks 2.0 feedback body (`POST {baseUrl}/cds-services/{id}/feedback`).

The body is `{"feedback": [entry, ...]}`. Each entry is checked on its own so one bad entry does
not lose the good ones in the same batch (clients batch several cards and hook instances):

- `card`: required, the card's uuid (8-4-4-4-12 hex); normalised to lower case.
- `outcome`: required, `accepted` or `overridden`.
- `acceptedSuggestions`: required, non-empty, when `accepted` (FSH cds-fb-2); a list of
  `{"id": <suggestion uuid>}`. A non-empty list on an `overridden` entry contradicts the outcome
  and is an error.
- `overrideReason`: optional, only for `overridden`. When present it must carry `reason` (a
  Coding with `code` and `system`; `display` is optional because the CDS Hooks sandbox omits it)
  and/or `userComment` (FSH cds-fb-3). An `overridden` entry without a reason is legal.
- `outcomeTimestamp`: required, RFC 3339 date-time with an offset; normalised to UTC.

Unknown fields are tolerated (ignored). JSON `null` in an optional field means "absent".

Error messages name the entry index and the field (`feedback[2].outcome: ...`) and never echo
free text (a `userComment` may carry PHI).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

__all__ = [
    "MAX_CODE_LENGTH",
    "MAX_COMMENT_LENGTH",
    "MAX_DISPLAY_LENGTH",
    "MAX_SYSTEM_LENGTH",
    "OUTCOMES",
    "Coding",
    "FeedbackBatch",
    "FeedbackEntry",
    "FeedbackEntryError",
    "OverrideReason",
    "feedback_idempotency_key",
    "normalise_uuid",
    "parse_feedback",
    "parse_rfc3339",
]

Outcome = Literal["accepted", "overridden"]
OUTCOMES: tuple[str, ...] = ("accepted", "overridden")

MAX_CODE_LENGTH = 256
MAX_SYSTEM_LENGTH = 512
MAX_DISPLAY_LENGTH = 1024
MAX_COMMENT_LENGTH = 10_000

_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RFC3339_RE = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<fraction>\.\d+)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})$"
)


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


@dataclass(frozen=True)
class FeedbackEntryError:
    """A problem with entry `index` (None: the body as a whole), e.g. `feedback[1].outcome: ...`."""

    index: int | None
    message: str
    field: str | None = None


@dataclass(frozen=True)
class FeedbackBatch:
    """The valid entries of a feedback body and the errors of the invalid ones."""

    entries: list[FeedbackEntry]
    errors: list[FeedbackEntryError]

    @property
    def ok(self) -> bool:
        return not self.errors


def normalise_uuid(value: object) -> str | None:
    """Return the lower-case canonical form of an 8-4-4-4-12 uuid string, or None if it is not one."""
    if isinstance(value, str) and _UUID_RE.match(value):
        return value.lower()
    return None


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 (section 5.6) date-time with an offset and return it in UTC.

    Fractions beyond microseconds are truncated; a leap second (`:60`) is clamped to
    `:59.999999`. Raises ValueError when the text is not RFC 3339 or not a real instant.
    """
    match = _RFC3339_RE.match(value)
    if match is None:
        raise ValueError("not an RFC 3339 date-time with a time zone offset")
    second = int(match["second"])
    fraction = match["fraction"] or ""
    microsecond = int((fraction[1:] + "000000")[:6]) if fraction else 0
    if second == 60:
        second, microsecond = 59, 999_999
    offset = match["offset"]
    if offset in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if offset[0] == "+" else -1
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError("time zone offset out of range")
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    parsed = datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        second,
        microsecond,
        tzinfo=tz,
    )
    return parsed.astimezone(UTC)


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


class _EntryParser:
    """Collects every problem of one entry instead of stopping at the first."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.errors: list[FeedbackEntryError] = []

    def error(self, field_path: str, problem: str) -> None:
        self.errors.append(
            FeedbackEntryError(self.index, f"feedback[{self.index}].{field_path}: {problem}", field_path)
        )

    def required_string(self, obj: Mapping[str, object], key: str, path: str, max_length: int) -> str | None:
        if key not in obj or obj[key] is None:
            self.error(path, "is required")
            return None
        return self.optional_string(obj, key, path, max_length)

    def optional_string(self, obj: Mapping[str, object], key: str, path: str, max_length: int) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.error(path, f"must be a string, got {_type_name(value)}")
            return None
        if len(value) > max_length:
            self.error(path, f"is longer than {max_length} characters")
            return None
        if "\x00" in value:  # not a FHIR string character, and PostgreSQL text cannot hold it
            self.error(path, "must not contain a NUL character")
            return None
        return value

    def uuid(self, obj: Mapping[str, object], key: str, path: str) -> str | None:
        if key not in obj or obj[key] is None:
            self.error(path, "is required")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.error(path, f"must be a uuid string, got {_type_name(value)}")
            return None
        normalised = normalise_uuid(value)
        if normalised is None:
            self.error(path, "must be a uuid (8-4-4-4-12 hexadecimal digits)")
        return normalised

    def outcome(self, obj: Mapping[str, object]) -> Outcome | None:
        value = obj.get("outcome")
        if value is None:
            self.error("outcome", "is required")
            return None
        if value == "accepted":
            return "accepted"
        if value == "overridden":
            return "overridden"
        if isinstance(value, str):
            self.error("outcome", f"must be 'accepted' or 'overridden', got {value[:32]!r}")
        else:
            self.error("outcome", f"must be 'accepted' or 'overridden', got {_type_name(value)}")
        return None

    def timestamp(self, obj: Mapping[str, object]) -> datetime | None:
        value = obj.get("outcomeTimestamp")
        if value is None:
            self.error("outcomeTimestamp", "is required")
            return None
        if not isinstance(value, str):
            self.error("outcomeTimestamp", f"must be an RFC 3339 date-time string, got {_type_name(value)}")
            return None
        try:
            return parse_rfc3339(value)
        except (ValueError, OverflowError) as exc:
            self.error("outcomeTimestamp", f"must be an RFC 3339 date-time ({exc})")
            return None

    def accepted_suggestions(self, obj: Mapping[str, object], outcome: Outcome | None) -> tuple[str, ...]:
        value = obj.get("acceptedSuggestions")
        if value is None:
            if outcome == "accepted":
                self.error("acceptedSuggestions", "is required when outcome is 'accepted'")
            return ()
        if not isinstance(value, list):
            self.error("acceptedSuggestions", f"must be an array, got {_type_name(value)}")
            return ()
        if outcome == "accepted" and not value:
            self.error("acceptedSuggestions", "must not be empty when outcome is 'accepted'")
            return ()
        if outcome == "overridden" and value:
            self.error("acceptedSuggestions", "is only allowed when outcome is 'accepted'")
            return ()
        ids: list[str] = []
        for position, item in enumerate(value):
            path = f"acceptedSuggestions[{position}]"
            if not isinstance(item, Mapping):
                self.error(path, f"must be an object with an 'id', got {_type_name(item)}")
                continue
            suggestion_id = self.uuid(item, "id", f"{path}.id")
            if suggestion_id is not None:
                ids.append(suggestion_id)
        return tuple(ids)

    def override_reason(self, obj: Mapping[str, object], outcome: Outcome | None) -> OverrideReason | None:
        value = obj.get("overrideReason")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.error("overrideReason", f"must be an object, got {_type_name(value)}")
            return None
        if outcome == "accepted":
            self.error("overrideReason", "is only allowed when outcome is 'overridden'")
            return None
        errors_before = len(self.errors)
        coding: Coding | None = None
        reason = value.get("reason")
        if reason is not None:
            if not isinstance(reason, Mapping):
                self.error("overrideReason.reason", f"must be a Coding object, got {_type_name(reason)}")
            else:
                code = self.required_string(reason, "code", "overrideReason.reason.code", MAX_CODE_LENGTH)
                system = self.required_string(
                    reason, "system", "overrideReason.reason.system", MAX_SYSTEM_LENGTH
                )
                display = self.optional_string(
                    reason, "display", "overrideReason.reason.display", MAX_DISPLAY_LENGTH
                )
                if code == "":
                    self.error("overrideReason.reason.code", "must not be empty")
                if system == "":
                    self.error("overrideReason.reason.system", "must not be empty")
                if code and system:
                    coding = Coding(system=system, code=code, display=display or None)
        comment = self.optional_string(value, "userComment", "overrideReason.userComment", MAX_COMMENT_LENGTH)
        if comment is not None and not comment.strip():
            comment = None
        if len(self.errors) > errors_before:
            return None
        if coding is None and comment is None:
            self.error("overrideReason", "must contain 'reason', 'userComment' or both")
            return None
        return OverrideReason(reason=coding, user_comment=comment)

    def parse(self, raw: object) -> FeedbackEntry | None:
        if not isinstance(raw, Mapping):
            self.errors.append(
                FeedbackEntryError(
                    self.index, f"feedback[{self.index}]: must be an object, got {_type_name(raw)}", None
                )
            )
            return None
        card = self.uuid(raw, "card", "card")
        outcome = self.outcome(raw)
        suggestions = self.accepted_suggestions(raw, outcome)
        reason = self.override_reason(raw, outcome)
        timestamp = self.timestamp(raw)
        if self.errors or card is None or outcome is None or timestamp is None:
            return None
        return FeedbackEntry(
            card=card,
            outcome=outcome,
            outcome_timestamp=timestamp,
            accepted_suggestions=suggestions,
            override_reason=reason,
            index=self.index,
        )


def parse_feedback(body: object) -> FeedbackBatch:
    """Validate a decoded JSON feedback body. Pure: no I/O, never raises on bad input."""
    if not isinstance(body, Mapping):
        return FeedbackBatch(
            entries=[],
            errors=[
                FeedbackEntryError(
                    None, f"body must be a JSON object with a 'feedback' array, got {_type_name(body)}"
                )
            ],
        )
    items = body.get("feedback")
    if not isinstance(items, list):
        problem = "is required" if items is None else f"must be an array, got {_type_name(items)}"
        return FeedbackBatch(
            entries=[], errors=[FeedbackEntryError(None, f"feedback: {problem}", "feedback")]
        )
    entries: list[FeedbackEntry] = []
    errors: list[FeedbackEntryError] = []
    for index, raw in enumerate(items):
        parser = _EntryParser(index)
        entry = parser.parse(raw)
        errors.extend(parser.errors)
        if entry is not None:
            entries.append(entry)
    return FeedbackBatch(entries=entries, errors=errors)


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
