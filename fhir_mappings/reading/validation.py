"""Validating input resources with fhir.resources (R4B models, wire-compatible with R4 for these types).

A resource that fails validation is reported (which one, why) and skipped; the rest is still used.
Only the types the rules read are validated: the others are never parsed at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import ValidationError

from fhir_mappings.reading.resources import Resource, reference_of

READ_TYPES = ("Patient", "Condition", "Observation", "ServiceRequest", "Procedure")
# fhir.resources checks structure and datatypes but not required code bindings. Observation.status
# decides whether a finding is used, so a status outside ObservationStatus (R4) is invalid here.
OBSERVATION_STATUSES = frozenset({"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                  "entered-in-error", "unknown"})


@dataclass(frozen=True)
class InvalidResource:
    reference: str
    reason: str


@cache
def _model(resource_type: str) -> Any:
    module = __import__(f"fhir.resources.R4B.{resource_type.lower()}", fromlist=[resource_type])
    return getattr(module, resource_type)


def _first_error(error: ValidationError) -> str:
    details = error.errors()
    if not details:
        return "invalid"
    first = details[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = str(first.get("msg", "invalid"))[:160]
    more = f" (+{len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}: {message}{more}" if where else message + more


def validate(resource: Resource) -> InvalidResource | None:
    """None when the resource is valid FHIR; else which resource and the first reason."""
    resource_type = resource.get("resourceType")
    if resource_type not in READ_TYPES:
        return None
    try:
        _model(resource_type).model_validate(resource)
    except ValidationError as error:
        return InvalidResource(reference_of(resource), _first_error(error))
    except (ValueError, TypeError, RecursionError) as error:
        return InvalidResource(reference_of(resource), f"{type(error).__name__}")
    if resource_type == "Observation" and resource.get("status") not in OBSERVATION_STATUSES:
        return InvalidResource(reference_of(resource),
                               f"status: {resource.get('status')!r} is not an Observation status (required binding)")
    return None
