"""A CDS Hooks 2.0 feedback body (``POST {baseUrl}/cds-services/{id}/feedback``) as typed models.

The body is ``{"feedback": [entry, ...]}``. Each entry is validated on its own, so one bad entry does
not lose the good ones in the same batch (clients batch several cards and hook instances):

- ``card``: required, the card's uuid (8-4-4-4-12 hex), normalised to lower case;
- ``outcome``: required, ``accepted`` or ``overridden``;
- ``acceptedSuggestions``: required and non-empty when ``accepted`` (FSH cds-fb-2); a non-empty list on an
  ``overridden`` entry contradicts the outcome;
- ``overrideReason``: only for ``overridden``; when present it carries ``reason`` (a Coding with ``code``
  and ``system``; ``display`` optional because the CDS Hooks sandbox omits it) and/or ``userComment``
  (FSH cds-fb-3);
- ``outcomeTimestamp``: required, an RFC 3339 date-time with an offset, normalised to UTC.

Unknown members are tolerated; JSON ``null`` in an optional member means absent. Messages name the entry
and the field (``feedback[2].outcome: ...``) and never echo a value (a ``userComment`` may carry PHI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from cds_service.store.feedback_entries import Coding, FeedbackEntry, OverrideReason, normalise_uuid

_RFC3339 = re.compile(
    r"^(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})[Tt]"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})(?P<fraction>\.\d+)?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})$"
)
MAX_CODE_LENGTH = 256
MAX_SYSTEM_LENGTH = 512
MAX_DISPLAY_LENGTH = 1024
MAX_COMMENT_LENGTH = 10_000


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


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 (section 5.6) date-time with an offset and return it in UTC.

    Fractions beyond microseconds are truncated; a leap second (`:60`) is clamped to
    `:59.999999`. Raises ValueError when the text is not RFC 3339 or not a real instant.
    """
    match = _RFC3339.match(value)
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


def _required(value: object) -> object:
    if value is None:
        raise PydanticCustomError("required", "is required")
    return value


def _uuid(value: str) -> str:
    normalised = normalise_uuid(value)
    if normalised is None:
        raise PydanticCustomError("uuid", "must be a uuid (8-4-4-4-12 hexadecimal digits)")
    return normalised


def _timestamp(value: str) -> datetime:
    try:
        return parse_rfc3339(value)
    except (ValueError, OverflowError):
        raise PydanticCustomError("timestamp", "must be an RFC 3339 date-time with a time zone offset") from None


def _no_nul(value: str) -> str:
    if "\x00" in value:  # not a FHIR string character, and PostgreSQL text cannot hold it
        raise PydanticCustomError("nul", "must not contain a NUL character")
    return value


CodeText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CODE_LENGTH), AfterValidator(_no_nul)]
SystemText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SYSTEM_LENGTH), AfterValidator(_no_nul)]
DisplayText = Annotated[str, StringConstraints(max_length=MAX_DISPLAY_LENGTH), AfterValidator(_no_nul)]
CommentText = Annotated[str, StringConstraints(max_length=MAX_COMMENT_LENGTH), AfterValidator(_no_nul)]


Uuid = Annotated[str, BeforeValidator(_required), AfterValidator(_uuid)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True, populate_by_name=True)


class ReasonCoding(_Model):
    system: Annotated[SystemText, BeforeValidator(_required)]
    code: Annotated[CodeText, BeforeValidator(_required)]
    display: DisplayText | None = None


class OverrideReasonBody(_Model):
    reason: ReasonCoding | None = None
    user_comment: CommentText | None = Field(default=None, alias="userComment")

    @model_validator(mode="after")
    def _reason_or_comment(self) -> OverrideReasonBody:
        if self.reason is None and not (self.user_comment or "").strip():
            raise PydanticCustomError("override_reason", "must contain 'reason', 'userComment' or both")
        return self


class AcceptedSuggestion(_Model):
    id: Uuid


class FeedbackEntryBody(_Model):
    card: Uuid
    outcome: Annotated[Literal["accepted", "overridden"], BeforeValidator(_required)]
    accepted_suggestions: list[AcceptedSuggestion] | None = Field(default=None, alias="acceptedSuggestions")
    override_reason: OverrideReasonBody | None = Field(default=None, alias="overrideReason")
    outcome_timestamp: Annotated[str, BeforeValidator(_required), AfterValidator(_timestamp)] = Field(
        alias="outcomeTimestamp")

    @model_validator(mode="after")
    def _members_agree_with_the_outcome(self) -> FeedbackEntryBody:
        suggestions = self.accepted_suggestions
        if self.outcome == "accepted" and not suggestions:
            raise _field_error("acceptedSuggestions", "is required and not empty when outcome is 'accepted'")
        if self.outcome == "overridden" and suggestions:
            raise _field_error("acceptedSuggestions", "is only allowed when outcome is 'accepted'")
        if self.outcome == "accepted" and self.override_reason is not None:
            raise _field_error("overrideReason", "is only allowed when outcome is 'overridden'")
        return self

    def entry(self, index: int) -> FeedbackEntry:
        reason = self.override_reason
        coding = reason.reason if reason else None
        comment = reason.user_comment if reason and reason.user_comment and reason.user_comment.strip() else None
        return FeedbackEntry(
            card=self.card,
            outcome=self.outcome,
            outcome_timestamp=self.outcome_timestamp,  # type: ignore[arg-type]  # AfterValidator made it a datetime
            accepted_suggestions=tuple(s.id for s in self.accepted_suggestions or ()),
            override_reason=OverrideReason(
                Coding(coding.system, coding.code, coding.display or None) if coding else None, comment,
            ) if reason else None,
            index=index,
        )


class FeedbackRequest(_Model):
    """The body: ``{"feedback": [entry, ...]}``, each entry validated on its own (``parse_feedback``)."""

    feedback: list[FeedbackEntryBody]


class StoredEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    index: int = Field(ge=0)
    card: str = Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
    status: Literal["stored", "duplicate"]
    card_known: Literal[False] | None = Field(default=None, alias="cardKnown",
                                              description="present (false) when this service never issued the card")


class FeedbackStored(BaseModel):
    """The answer when every entry was stored, or had been stored before (idempotent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stored: list[StoredEntry]


def _field_error(path: str, message: str) -> PydanticCustomError:
    return PydanticCustomError("feedback_rule", "{message}", {"path": path, "message": message})


_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long",
    "literal_error": "must be 'accepted' or 'overridden'",
    "list_type": "must be an array",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}


def _errors(index: int, error: ValidationError) -> list[FeedbackEntryError]:
    found = []
    for detail in error.errors(include_input=False, include_url=False):
        context = detail.get("ctx") or {}
        if detail["type"] == "feedback_rule":
            path, message = str(context["path"]), str(context["message"])
        else:
            path = ".".join(f"[{part}]" if isinstance(part, int) else str(part) for part in detail["loc"])
            path = path.replace(".[", "[")
            message = _MESSAGES.get(detail["type"], str(detail["msg"])[:120])
        prefix = f"feedback[{index}].{path}" if path else f"feedback[{index}]"
        found.append(FeedbackEntryError(index, f"{prefix}: {message}", path or None))
    return found


def parse_feedback(body: object) -> FeedbackBatch:
    """Validate a decoded JSON feedback body. Pure: no I/O, never raises on bad input."""
    items = body.get("feedback") if isinstance(body, dict) else None
    if not isinstance(body, dict):
        return FeedbackBatch([], [FeedbackEntryError(None, "body must be a JSON object with a 'feedback' array")])
    if not isinstance(items, list):
        problem = "is required" if items is None else "must be an array"
        return FeedbackBatch([], [FeedbackEntryError(None, f"feedback: {problem}", "feedback")])
    entries: list[FeedbackEntry] = []
    errors: list[FeedbackEntryError] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            errors.append(FeedbackEntryError(index, f"feedback[{index}]: must be an object", None))
            continue
        try:
            entries.append(FeedbackEntryBody.model_validate(raw).entry(index))
        except ValidationError as error:
            errors.extend(_errors(index, error))
    return FeedbackBatch(entries, errors)
