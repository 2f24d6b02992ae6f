"""Validating input resources with fhir.resources (R4B models, wire-compatible with R4 for these types).

A resource that fails validation is reported (which one, why) and skipped; the rest is still used.
Only the types the rules read are validated: the others are never parsed at all. The case reader also
skips an Observation or Condition whose codes the rules do not read (it is reported unrecognised), and
validates a decisive Observation only when the conflict rule needs it (``conflicts.resolve``): a
superseded report agreeing with the one used is never validated.

Validation costs 0.1-0.4 ms per resource (fhir.resources builds a pydantic model per element), most of
a hook call's CPU, and an EHR sends the same resources every time a chart is opened. The outcome is a
pure function of the resource's content, so it is cached per content: the key is a BLAKE2b-256 digest of
the resource's ``marshal`` serialisation (format 2: exact types, key order kept, no object-sharing
references), so only a value-for-value, type-for-type identical resource shares an outcome. The key is a
digest, not the serialisation itself, although hashing costs about 1 µs per resource: the cache lives as
long as the worker, and it must not keep patients' resources (names, birth dates) in memory for that long.
A resource ``marshal`` refuses (a non-JSON type, nesting too deep) is validated without the cache. The
cache is bounded (16,384 entries, about 2 MB, least recently used out first: the charts of a few hundred
patients) and thread-safe; ``clear_validation_cache()`` empties it.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
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


def load_models() -> None:
    """Import the fhir.resources models of every validated type now rather than on first use.

    A service calls this at start-up: the import (about 20,000 objects) is then not paid by the
    first hook call, and a server worker can move it out of the garbage collector's reach
    (``gc.freeze``) with the rest of what it built at start-up.
    """
    for resource_type in READ_TYPES:
        _model(resource_type)


def _first_error(error: ValidationError) -> str:
    details = error.errors()
    if not details:
        return "invalid"
    first = details[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__")
    message = str(first.get("msg", "invalid"))[:160]
    more = f" (+{len(details) - 1} more)" if len(details) > 1 else ""
    return f"{where}: {message}{more}" if where else message + more


class _OutcomeCache:
    """Validation outcomes by content digest, least recently used out first."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[bytes, InvalidResource | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> object:
        """The outcome cached under ``key`` (``_MISSING`` if none), now the most recently used.

        A read takes no lock (a lock costs as much as the look-up, on every resource of every call):
        each OrderedDict operation is atomic under the GIL, and an entry another thread evicts between
        the two is still a correct outcome to return.
        """
        outcome = self._entries.get(key, _MISSING)
        if outcome is not _MISSING:
            try:  # noqa: SIM105 - contextlib.suppress would cost more than the look-up
                self._entries.move_to_end(key)
            except KeyError:
                pass  # evicted meanwhile
        return outcome

    def put(self, key: bytes, outcome: InvalidResource | None) -> None:
        with self._lock:
            self._entries[key] = outcome
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_MISSING = object()
_CACHE = _OutcomeCache(max_entries=16_384)  # ~2 MB: the charts of a few hundred patients


def clear_validation_cache() -> None:
    _CACHE.clear()


def validate(resource: Resource) -> InvalidResource | None:
    """None when the resource is valid FHIR; else which resource and the first reason."""
    resource_type = resource.get("resourceType")
    if resource_type not in READ_TYPES:
        return None
    try:
        key: bytes | None = hashlib.blake2b(marshal.dumps(resource, 2), digest_size=32).digest()
    except (ValueError, TypeError, RecursionError):
        key = None  # validated without the cache
    if key is not None:
        cached = _CACHE.get(key)
        if cached is not _MISSING:
            return cached  # type: ignore[return-value]
    outcome = _validate(resource, resource_type)
    if key is not None:
        _CACHE.put(key, outcome)
    return outcome


def _validate(resource: Resource, resource_type: str) -> InvalidResource | None:
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
