"""What a service handler receives and returns; the HTTP shell does everything else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cds_service.protocol.hook_request import HookRequest
from cds_service.protocol.prefetch import PrefetchResult
from cds_service.settings import Settings
from cds_service.store import IssuedCard
from neuroblastoma.results import Classification


@dataclass(frozen=True)
class ServiceCall:
    """A validated request with its FHIR data resolved (prefetched or fetched: the handler can't tell)."""

    request: HookRequest
    data: PrefetchResult
    settings: Settings
    received_at: datetime
    service_id: str


@dataclass(frozen=True)
class ServiceAnswer:
    """The cards to return, what to remember of them, and the classification for the audit record."""

    cards: tuple[dict[str, Any], ...]
    issued: tuple[IssuedCard, ...] = ()
    classification: Classification | None = None
    outcome: str = "no-card"
    inputs_digest: str | None = None

    def body(self) -> dict[str, Any]:
        return {"cards": list(self.cards)}
