"""CDS service declarations: id, hook, title, description and prefetch next to the function that answers.

Discovery is generated from these declarations (as HAPI FHIR's ``@CdsService`` does), so the two can
never disagree. A handler receives a ``ServiceCall`` — the validated request with its FHIR data
resolved — and returns a ``ServiceAnswer``; it never knows whether the data came from the client's
prefetch or from the FHIR server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from cds_service.protocol.cards import Card
from cds_service.protocol.hook_request import HookRequest
from cds_service.protocol.prefetch import PrefetchResult
from cds_service.protocol.prefetch.templates import validate_template
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
    base_url: str | None = None  # where the client reached this service (links to the app), None when unknown

    @property
    def key(self) -> tuple[str, ...]:
        """What makes this call's card uuids stable: the service, the hook instance and the patient."""
        return (self.service_id, self.request.hook_instance, self.request.patient_id)


@dataclass(frozen=True)
class ServiceAnswer:
    """The cards with their kinds, the classification behind them and what the mapper noted about the data."""

    cards: tuple[tuple[Card, str], ...] = ()
    classification: Classification | None = None
    outcome: str = "no-card"
    inputs_digest: str | None = None
    notes: tuple[str, ...] = ()

    def issued(self) -> tuple[IssuedCard, ...]:
        return tuple(IssuedCard(card.uuid, kind, card.suggestion_uuids) for card, kind in self.cards)

    def body(self) -> dict[str, Any]:
        return {"cards": [card.wire() for card, _ in self.cards]}


Handler = Callable[[ServiceCall], ServiceAnswer]


class ServiceDescription(BaseModel):
    """One service in discovery (CDS Hooks 2.0 §"Discovery"): its hook, id, title, description, prefetch."""

    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    hook: str = Field(min_length=1)
    id: str = Field(pattern=r"^[A-Za-z0-9._~\-]+$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    prefetch: dict[str, str] | None = Field(default=None, min_length=1)
    usage_requirements: str | None = Field(default=None, min_length=1)


class Discovery(BaseModel):
    """``GET /cds-services``: the services this endpoint offers (never empty: the sandbox fails on none)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    services: list[ServiceDescription]

    def wire(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


@dataclass(frozen=True)
class CdsServiceDeclaration:
    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str]
    handler: Handler
    usage_requirements: str | None = None
    also_accepts: frozenset[str] = frozenset()  # further hooks this endpoint answers
    essential_prefetch: frozenset[str] = field(default_factory=frozenset)
    # The queries the service runs itself for keys the client did not send, when they differ from the
    # advertised templates: a compact template (``code:in`` a ValueSet) that some FHIR servers cannot run
    # falls back to the long form that every server can.
    fetch_prefetch: Mapping[str, str] | None = None

    @property
    def fetch_templates(self) -> Mapping[str, str]:
        return self.fetch_prefetch or self.prefetch

    @property
    def accepted_hooks(self) -> frozenset[str]:
        return frozenset({self.hook}) | self.also_accepts

    def description_entry(self) -> ServiceDescription:
        return ServiceDescription(hook=self.hook, id=self.id, title=self.title, description=self.description,
                                  prefetch=dict(self.prefetch) or None, usage_requirements=self.usage_requirements)


class ServiceRegistry:
    """The declared services, in declaration order."""

    def __init__(self) -> None:
        self._services: dict[str, CdsServiceDeclaration] = {}

    def service(self, *, id: str, hook: str, title: str, description: str,
                prefetch: Mapping[str, str], usage_requirements: str | None = None,
                also_accepts: tuple[str, ...] = (), essential_prefetch: tuple[str, ...] | None = None,
                fetch_prefetch: Mapping[str, str] | None = None) -> Callable[[Handler], Handler]:
        """Declare a service answered by the decorated function (HAPI FHIR's ``@CdsService``)."""
        def register(handler: Handler) -> Handler:
            if fetch_prefetch is not None and set(fetch_prefetch) != set(prefetch):
                raise ValueError(f"CDS service {id!r}: the fetch queries must have the prefetch's keys")
            for template in (*prefetch.values(), *(fetch_prefetch or {}).values()):
                validate_template(template)  # a bad template is our bug: fail at declaration, not per call
            if id in self._services:
                raise ValueError(f"CDS service {id!r} declared twice")
            essential = frozenset(prefetch if essential_prefetch is None else essential_prefetch)
            self._services[id] = CdsServiceDeclaration(
                id, hook, title, description, dict(prefetch), handler, usage_requirements,
                frozenset(also_accepts), essential, dict(fetch_prefetch) if fetch_prefetch else None)
            return handler
        return register

    def get(self, service_id: str) -> CdsServiceDeclaration | None:
        return self._services.get(service_id)

    def __iter__(self) -> Iterator[CdsServiceDeclaration]:
        return iter(self._services.values())

    def discovery(self) -> Discovery:
        return Discovery(services=[service.description_entry() for service in self])
