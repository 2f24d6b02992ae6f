"""Validating input resources with fhir.resources (R4B models, wire-compatible with R4 for these types).

A resource that fails validation is reported (which one, and the first reason) and skipped; the rest
is still used. Only the types the rules read are validated: the others are never parsed at all.

The report's text is bounded whatever the resource holds: a reason is at most ``MAX_REASON`` characters
and never quotes an invalid value whole (pydantic's locations name the offending member, and a member's
name or a status can be a megabyte long), so an invalid resource costs O(1) memory in the report.
Within one read, ``Validation`` validates each resource at most once, when it is first needed
(case_reader.py says when).

An EHR sends a chart's resources again every time the chart is opened, and validating one costs about
0.1 ms (fhir.resources builds a model per element): a third of a hook call's CPU. So the outcome — valid,
or the bounded reason — is remembered per resource content, for the 4,096 most recently seen: the key is
a SHA-256 digest of the resource's JSON, so the cache holds digests and bounded reasons, never a
patient's data (about 1 MB at most per worker). It halves a repeat call's CPU (docs/performance.md); a
chart seen for the first time pays the validation as before.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from cachetools import LRUCache
from pydantic import ValidationError

from fhir_mappings.reading.resources import Resource, reference_of

READ_TYPES = ("Patient", "Condition", "Observation", "ServiceRequest", "Procedure")
# fhir.resources checks structure and datatypes but not required code bindings. Observation.status
# decides whether a finding is used, so a status outside ObservationStatus (R4) is invalid here.
OBSERVATION_STATUSES = frozenset({"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                                  "entered-in-error", "unknown"})
MAX_REASON = 200
MAX_REFERENCE = 300  # ``Type/`` and the longest id the models accept (255): longer ones are invalid anyway


@dataclass(frozen=True)
class InvalidResource:
    reference: str
    reason: str


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


@cache
def _model(resource_type: str) -> Any:
    module = __import__(f"fhir.resources.R4B.{resource_type.lower()}", fromlist=[resource_type])
    return getattr(module, resource_type)


def load_models() -> None:
    """Import the fhir.resources models of every validated type now rather than on first use.

    A service calls this at start-up: the import (about 20,000 objects) is then not paid by the
    first hook call, and a server worker can move it out of the garbage collector's reach
    (``gc.freeze``) with the rest of what it built at start-up.
    """
    for resource_type in READ_TYPES:
        _model(resource_type)


def _first_error(error: ValidationError) -> str:
    """``where: message (+n more)`` of pydantic's first error, each part shortened."""
    details = error.errors(include_url=False, include_context=False, include_input=False)
    if not details:
        return "invalid"
    first = details[0]
    where = ".".join(_shortened(str(part), 40) for part in first.get("loc", ()) if part != "__root__")
    message = _shortened(str(first.get("msg", "invalid")), 160)
    more = f" (+{len(details) - 1} more)" if len(details) > 1 else ""
    return _shortened(f"{where}: {message}" if where else message, MAX_REASON - len(more)) + more


_OUTCOMES: LRUCache[bytes, str | None] = LRUCache(maxsize=4096)  # content digest -> None or the reason
_OUTCOMES_LOCK = threading.Lock()


def _content_digest(resource: Resource) -> bytes | None:
    """SHA-256 of the resource's JSON (members in the order received: an EHR sends a resource the same way each
    time); None for content JSON cannot encode (validated without the cache)."""
    try:
        return hashlib.sha256(json.dumps(resource, separators=(",", ":")).encode()).digest()
    except (TypeError, ValueError, RecursionError):
        return None


def validate(resource: Resource) -> InvalidResource | None:
    """None when the resource is valid FHIR (or of a type we never read); else which one and why."""
    resource_type = resource.get("resourceType")
    if resource_type not in READ_TYPES:
        return None
    digest = _content_digest(resource)
    with _OUTCOMES_LOCK:
        seen = digest is not None and digest in _OUTCOMES
        reason = _OUTCOMES[digest] if digest is not None and seen else None
    if not seen:
        reason = _reason_invalid(resource, resource_type)
        if digest is not None:
            with _OUTCOMES_LOCK:
                _OUTCOMES[digest] = reason
    if reason is None:
        return None
    return InvalidResource(_shortened(reference_of(resource), MAX_REFERENCE), reason)


def clear_validation_cache() -> None:
    """Forget every remembered outcome (tests; the first-sight benchmark)."""
    with _OUTCOMES_LOCK:
        _OUTCOMES.clear()


def _reason_invalid(resource: Resource, resource_type: str) -> str | None:
    """The bounded reason a resource is not valid FHIR, or None."""
    try:
        _model(resource_type).model_validate(resource)
    except ValidationError as error:
        return _first_error(error)
    except (ValueError, TypeError, RecursionError):
        return "the resource cannot be read as FHIR (nested too deeply, or a value out of range)"
    status = resource.get("status")
    if resource_type == "Observation" and status not in OBSERVATION_STATUSES:
        return f"status: {_shortened(repr(status), 40)} is not an Observation status (required binding)"
    return None


class Validation:
    """The validation of one read's resources: each validated at most once, when first needed.

    Resources are named by their position in reading order, so a finding can say which resource it came
    from (``Finding.position``) and the invalid ones are reported in reading order, whenever validated.
    """

    def __init__(self, resources: Sequence[Resource]) -> None:
        self._resources = resources
        self._outcomes: dict[int, InvalidResource | None] = {}

    def is_valid(self, position: int) -> bool:
        if position not in self._outcomes:
            self._outcomes[position] = validate(self._resources[position])
        return self._outcomes[position] is None

    def invalid(self) -> tuple[InvalidResource, ...]:
        return tuple(outcome for _, outcome in sorted(self._outcomes.items()) if outcome is not None)
