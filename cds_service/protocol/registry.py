"""CDS service declarations: id, hook, title, description and prefetch next to the function that answers.

Discovery is generated from these declarations (as HAPI FHIR's ``@CdsService`` does), so the two
can never disagree. A handler receives the validated request and the resolved FHIR data; it never
knows whether the data came from the client's prefetch or from the FHIR server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cds_service.protocol.prefetch.templates import validate_template

if TYPE_CHECKING:
    from cds_service.protocol.service_call import ServiceAnswer, ServiceCall

Handler = Callable[["ServiceCall"], "ServiceAnswer"]


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

    @property
    def accepted_hooks(self) -> frozenset[str]:
        return frozenset({self.hook}) | self.also_accepts

    def discovery_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"hook": self.hook, "id": self.id, "title": self.title,
                                 "description": self.description}
        if self.prefetch:
            entry["prefetch"] = dict(self.prefetch)
        if self.usage_requirements:
            entry["usageRequirements"] = self.usage_requirements
        return entry


class ServiceRegistry:
    """The declared services, in declaration order."""

    def __init__(self) -> None:
        self._services: dict[str, CdsServiceDeclaration] = {}

    def service(self, *, id: str, hook: str, title: str, description: str,
                prefetch: Mapping[str, str], usage_requirements: str | None = None,
                also_accepts: tuple[str, ...] = (), essential_prefetch: tuple[str, ...] | None = None,
                ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for template in prefetch.values():
                validate_template(template)  # a bad template is our bug: fail at declaration, not per call
            if id in self._services:
                raise ValueError(f"CDS service {id!r} declared twice")
            essential = frozenset(prefetch if essential_prefetch is None else essential_prefetch)
            self._services[id] = CdsServiceDeclaration(
                id, hook, title, description, dict(prefetch), handler, usage_requirements,
                frozenset(also_accepts), essential)
            return handler
        return register

    def get(self, service_id: str) -> CdsServiceDeclaration | None:
        return self._services.get(service_id)

    def __iter__(self) -> Iterator[CdsServiceDeclaration]:
        return iter(self._services.values())

    def discovery(self) -> dict[str, Any]:
        return {"services": [service.discovery_entry() for service in self]}
