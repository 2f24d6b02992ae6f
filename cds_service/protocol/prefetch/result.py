"""What prefetch resolution produced, per prefetch key (CDS Hooks 2.0 § "Prefetch")."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

__all__ = ["KeyResult", "PrefetchResult", "PrefetchStatus"]


class PrefetchStatus(StrEnum):
    SUPPLIED = "supplied"  # the client prefetched it (a Resource or a Bundle, fully paged)
    FETCHED = "fetched"  # absent from the request; we fetched it from fhirServer
    EMPTY = "empty"  # known to have no data: `null`, an empty Bundle, a read answering 404
    UNAVAILABLE = "unavailable"  # the client sent an OperationOutcome: it could not get the data
    FAILED = "failed"  # we could not get it (see `reason`)
    PARTIAL = "partial"  # some pages only (see `reason`): paging not allowed, stopped or cut short
    SKIPPED = "skipped"  # the template has a token without a value (e.g. a user token for another user type)


#: Statuses whose `resources` are the complete answer to the template.
COMPLETE_STATUSES = frozenset({PrefetchStatus.SUPPLIED, PrefetchStatus.FETCHED, PrefetchStatus.EMPTY})


@dataclass(frozen=True)
class KeyResult:
    """The outcome for one prefetch key.

    `source` is "prefetch" (the request) or "fhir-server" (our fallback), None when neither gave data.
    `pages` counts the search pages read; `elapsed_ms` is the time from the start of the resolution
    until this key's outcome was known.
    """

    key: str
    status: PrefetchStatus
    resources: tuple[dict[str, Any], ...] = ()
    reason: str | None = None
    pages: int = 0
    elapsed_ms: float = 0.0
    source: str | None = None

    @property
    def is_complete(self) -> bool:
        return self.status in COMPLETE_STATUSES


@dataclass(frozen=True)
class PrefetchResult:
    """Per-key results, in the order of the service's templates."""

    keys: Mapping[str, KeyResult]

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))

    def __getitem__(self, key: str) -> KeyResult:
        return self.keys[key]

    def __iter__(self) -> Iterator[KeyResult]:
        return iter(self.keys.values())

    def __len__(self) -> int:
        return len(self.keys)

    def resources(self, key: str) -> tuple[dict[str, Any], ...]:
        return self.keys[key].resources

    def all_resources(self) -> list[dict[str, Any]]:
        """Every resource of every key, in key order (a resource in two keys appears twice)."""
        return [resource for result in self.keys.values() for resource in result.resources]

    def failed_keys(self) -> list[str]:
        return [key for key, result in self.keys.items() if result.status is PrefetchStatus.FAILED]

    def incomplete_keys(self) -> list[str]:
        """Keys whose data is not known to be complete (failed, unavailable, partial, skipped)."""
        return [key for key, result in self.keys.items() if not result.is_complete]

    def status_by_key(self) -> dict[str, str]:
        """For the audit log: `{"patient": "supplied", "observations": "failed: timeout"}`."""
        return {
            key: f"{result.status}: {result.reason}" if result.reason else str(result.status)
            for key, result in self.keys.items()
        }
