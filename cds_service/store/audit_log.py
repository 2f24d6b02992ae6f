"""The audit log: one row per service call and one per card it issued, written together in one transaction.

An audit record holds identifiers, a digest, short codes and counts only. Its fields are typed and bounded
so that a request body, a token, a name or any other free text cannot be stored by mistake: a value that
is not an identifier or a short code is refused (`ValueError`) before anything is written.

The classification's results are keyed by staging system and risk schema id (`AuditedResults`), so a new
system or schema needs no new column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationError,
)

from cds_service.protocol.prefetch.result import PrefetchStatus

from .engine import Database
from .feedback_entries import normalise_uuid
from .tables import audit_log, cards

__all__ = [
    "CARD_KINDS",
    "IDENTIFIER_PATTERN",
    "PREFETCH_OUTCOMES",
    "AuditRecord",
    "AuditedResults",
    "AuditedRisk",
    "AuditedStage",
    "IssuedCard",
    "PrefetchOutcome",
    "SqlAuditLog",
]

CARD_KINDS: tuple[str, ...] = ("stage-risk", "missing-data", "work-up", "resection-check")
#: A prefetch key's outcome: the pipeline's own status names (one vocabulary, `PrefetchStatus`).
PrefetchOutcome = PrefetchStatus
PREFETCH_OUTCOMES: tuple[str, ...] = tuple(status.value for status in PrefetchStatus)

IDENTIFIER_PATTERN = r"^[A-Za-z0-9._:/|=+@-]+$"
_SHORT_CODE_PATTERN = r"^[A-Za-z0-9 ._+/()-]+$"
_SCHEME_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_PREFETCH_KEY_PATTERN = r"^[A-Za-z0-9_.-]+$"
_CARD_KIND_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_CANDIDATES = 16
MAX_SCHEMES = 16
MAX_PREFETCH_KEYS = 64
MAX_CARDS = 64

K = TypeVar("K")
V = TypeVar("V")


def _text(pattern: str, max_length: int) -> StringConstraints:
    return StringConstraints(strict=True, min_length=1, max_length=max_length, pattern=pattern)


def _uuid(value: str) -> str:
    normalised = normalise_uuid(value)
    if normalised is None:
        raise ValueError("must be a uuid (8-4-4-4-12 hexadecimal digits)")
    return normalised


def _printable(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must be printable characters")
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _frozen_mapping(value: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(value))


# The field types: each an identifier or a short code of bounded length, never free text.
Identifier = Annotated[str, _text(IDENTIFIER_PATTERN, 128)]
ShortCode = Annotated[str, _text(_SHORT_CODE_PATTERN, 32)]
SchemeId = Annotated[str, _text(_SCHEME_ID_PATTERN, 64)]
PrefetchKey = Annotated[str, _text(_PREFETCH_KEY_PATTERN, 64)]
Uuid = Annotated[str, StringConstraints(strict=True, max_length=36), AfterValidator(_uuid)]
# The client's own identifier (a uuid in practice; CDS Hooks only says "string"): printable, bounded.
HookInstance = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=128), AfterValidator(_printable)]
Sha256Hex = Annotated[str, _text(r"^[0-9a-f]{64}$", 64)]
Candidates = Annotated[tuple[ShortCode, ...], Field(max_length=MAX_CANDIDATES)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    def __init__(self, **data: Any) -> None:
        """Refuse with a ValueError naming the fields and problems only: a refused value, or a mapping key,
        may be exactly what must not be stored or logged (pydantic's own message quotes keys)."""
        try:
            super().__init__(**data)
        except ValidationError as error:
            problems = sorted({f"{error_['loc'][0] if error_['loc'] else '?'} ({error_['type']})"
                               for error_ in error.errors(include_input=False, include_url=False)})
            raise ValueError(f"{type(self).__name__} refused: {', '.join(problems)[:300]}") from None


class AuditedStage(_Frozen):
    """A staging system's result: the stage, or None with the stages still possible."""

    stage: ShortCode | None = None
    candidates: Candidates = ()


class AuditedRisk(_Frozen):
    """A risk schema's result: the risk (and the schema's group, if it has groups), or None with candidates."""

    risk: ShortCode | None = None
    group: ShortCode | None = None
    candidates: Candidates = ()


# Mappings are validated, bounded, kept read-only and serialised as plain dicts.
StagesBySystem = Annotated[Mapping[SchemeId, AuditedStage], Field(max_length=MAX_SCHEMES),
                           AfterValidator(_frozen_mapping), PlainSerializer(dict)]
RisksBySchema = Annotated[Mapping[SchemeId, AuditedRisk], Field(max_length=MAX_SCHEMES),
                          AfterValidator(_frozen_mapping), PlainSerializer(dict)]
PrefetchOutcomes = Annotated[Mapping[PrefetchKey, PrefetchOutcome], Field(max_length=MAX_PREFETCH_KEYS),
                             AfterValidator(_frozen_mapping), PlainSerializer(dict)]


class AuditedResults(_Frozen):
    """Every result of a call, keyed by staging system id (e.g. "inrgss") and risk schema id (e.g. "cog2021")."""

    stages: StagesBySystem = Field(default_factory=dict)
    risks: RisksBySchema = Field(default_factory=dict)


class AuditRecord(_Frozen):
    """One service call, as identifiers and derived results only.

    `inputs_digest` is a sha256 hex digest computed by the caller; `patient_ref` is stored as given (the
    caller decides between a FHIR id and a keyed hash). `prefetch` maps each prefetch key to one of
    PREFETCH_OUTCOMES. `hook_instance`, `hook`, `inputs_digest` and `patient_ref` may be None for calls
    rejected before the body was read.
    """

    service_id: Identifier
    received_at: Annotated[AwareDatetime, Field(strict=True), AfterValidator(_utc)]
    ruleset_version: Annotated[str, _text(IDENTIFIER_PATTERN, 64)]
    http_status: Annotated[int, Field(strict=True, ge=100, le=599)]
    latency_ms: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
    hook_instance: HookInstance | None = None
    hook: Identifier | None = None
    inputs_digest: Sha256Hex | None = None
    patient_ref: Identifier | None = None
    results: AuditedResults = Field(default_factory=AuditedResults)
    card_uuids: Annotated[tuple[Uuid, ...], Field(max_length=MAX_CARDS)] = ()
    prefetch: PrefetchOutcomes = Field(default_factory=dict)


@dataclass(frozen=True)
class IssuedCard:
    """A card the service returned: its uuid, kind (e.g. `stage-risk`) and suggestion uuids."""

    uuid: str
    kind: str
    suggestion_uuids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "uuid", _checked_uuid("card uuid", self.uuid))
        if not isinstance(self.kind, str) or not _CARD_KIND_RE.match(self.kind):
            raise ValueError("card kind must be a lower-case slug such as 'stage-risk'")
        if isinstance(self.suggestion_uuids, str):
            raise ValueError("suggestion_uuids must be a sequence of uuids, not a string")
        suggestions = tuple(_checked_uuid("suggestion uuid", s) for s in self.suggestion_uuids)
        object.__setattr__(self, "suggestion_uuids", suggestions)


def _checked_uuid(name: str, value: object) -> str:
    normalised = normalise_uuid(value)
    if normalised is None:
        raise ValueError(f"{name} must be a uuid string (8-4-4-4-12 hexadecimal digits)")
    return normalised


def audit_row(record: AuditRecord) -> dict[str, Any]:
    """The `audit_log` row of a record."""
    if not isinstance(record, AuditRecord):
        raise TypeError("the audit log takes an AuditRecord")
    return {
        "hook_instance": record.hook_instance,
        "service_id": record.service_id,
        "hook": record.hook,
        "received_at": record.received_at,
        "ruleset_version": record.ruleset_version,
        "inputs_digest": record.inputs_digest,
        "patient_ref": record.patient_ref,
        "card_uuids": list(record.card_uuids),
        "latency_ms": record.latency_ms,
        "http_status": record.http_status,
        "prefetch": dict(record.prefetch),
        "results": record.results.model_dump(mode="json"),
    }


def card_rows(record: AuditRecord, issued: Iterable[IssuedCard]) -> list[dict[str, Any]]:
    """The `cards` rows of the cards a call issued, stamped with the call's hook instance and time."""
    issued = list(issued)
    if not issued:
        return []
    if record.hook_instance is None:
        raise ValueError("issued cards need the call's hook_instance")
    return [
        {
            "card_uuid": card.uuid,
            "hook_instance": record.hook_instance,
            "service_id": record.service_id,
            "card_kind": card.kind,
            "suggestion_uuids": list(card.suggestion_uuids),
            "created_at": record.received_at,
        }
        for card in issued
    ]


class SqlAuditLog:
    """The audit log in the store's database (implements `ports.AuditLog`)."""

    def __init__(self, database: Database, ensure_schema: Callable[[], None]) -> None:
        self._database = database
        self._ensure_schema = ensure_schema
        # A card re-issued for the same hook instance is stored once.
        self._insert_cards = database.insert_or_ignore(cards, "card_uuid", "hook_instance")

    def record_call(self, record: AuditRecord, issued_cards: Iterable[IssuedCard] = ()) -> None:
        """Write the call's audit row and its issued cards in one transaction, committed on return.

        A card is in the store before the answer carrying it leaves, so feedback on it finds its issuance.
        """
        row, cards_rows = audit_row(record), card_rows(record, issued_cards)
        self._ensure_schema()
        with self._database.transaction(write=True) as conn:
            if cards_rows:
                conn.execute(self._insert_cards, cards_rows)
            conn.execute(sa.insert(audit_log), row)
