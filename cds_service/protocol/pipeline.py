"""One service call, framework-free: validate → resolve prefetch → handler → cards → observers.

``answer_call(declaration, body, dependencies)`` is the whole of a CDS Hooks service call (the shape of
HAPI FHIR's ``callService``): the Flask route only translates HTTP to and from it, and the CLI's batch
runner calls the same function with the resources it read from files. Whatever happens, it returns a
``CallResult`` — 200 with cards, or the status and OperationOutcome the client receives, already encoded as
the bytes the client receives — and tells every observer (audit, metrics) what the client received, once.
The body is encoded here, before the observers are told, so that a body that cannot be sent (NaN, a lone
surrogate) is the 500 the audit records, not a 200 recorded for a call the client saw fail.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cds_service.protocol.errors import CdsError, bad_request, precondition_failed
from cds_service.protocol.fhir_server_policy import permitted_fhir_server
from cds_service.protocol.hook_request import HookRequest, parse_hook_request
from cds_service.protocol.incidents import incident_fields
from cds_service.protocol.prefetch import (
    PrefetchRequest,
    PrefetchResolver,
    PrefetchResult,
    PrefetchStatus,
    UnsafeTokenValueError,
)
from cds_service.protocol.registry import CdsServiceDeclaration, ServiceAnswer, ServiceCall
from cds_service.settings import Settings

logger = logging.getLogger("nbcds")

INTERNAL_ERROR = CdsError(500, "exception", "internal error; the incident was logged")
# Why a key was not fetched, decided from the request and the settings alone: safe to tell the client.
_DECIDED_WITHOUT_A_REQUEST = frozenset({"no-fhir-server", "invalid-fhir-server", "token-required", "unresolved-token"})


@dataclass(frozen=True)
class CallResult:
    """What the client receives (``status``, ``body``, ``encoded``) and what led to it, for observers and the CLI."""

    declaration: CdsServiceDeclaration
    status: int
    body: dict[str, Any]
    received_at: datetime
    latency_ms: float
    request: HookRequest | None = None
    data: PrefetchResult | None = None
    answer: ServiceAnswer | None = None
    encoded: bytes = b""  # ``body`` as the strict JSON (UTF-8) the client receives


class CallObserver(Protocol):
    """Told once per call what the client received (audit, metrics). It must not raise; if it does, the
    error is logged and the answer stands."""

    def call_finished(self, result: CallResult) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Dependencies:
    """What a call needs from outside: settings, the prefetch resolver (FHIR fallback) and observers."""

    settings: Settings
    resolver: PrefetchResolver
    observers: tuple[CallObserver, ...] = ()
    clock: Callable[[], datetime] = field(default=_now)


def resolve_prefetch(declaration: CdsServiceDeclaration, request: HookRequest,
                     dependencies: Dependencies) -> tuple[PrefetchResult, CdsError | None]:
    """The data per prefetch key, and the 412 to answer when essential data could not be obtained."""
    fhir_server, refusal = permitted_fhir_server(dependencies.settings, request.fhir_server)
    prefetch_request = PrefetchRequest(
        context=request.context_values,
        prefetch=request.prefetch,
        fhir_server=fhir_server,
        access_token=request.access_token if fhir_server else None,
    )
    try:
        data = dependencies.resolver.resolve(declaration.fetch_templates, prefetch_request)
    except UnsafeTokenValueError as error:
        raise bad_request(f"context.{error.token} cannot be used in a FHIR query", f"context.{error.token}") from None
    unobtainable = sorted(set(data.incomplete_keys()) & declaration.essential_prefetch)
    if not unobtainable:
        return data, None
    if refusal:
        return data, precondition_failed(f"required FHIR data is missing from prefetch and {refusal}", *unobtainable)
    # The same words whatever went wrong on the network (refused, reset, timed out, not FHIR, 401…): a 412 must
    # not tell a closed port from an open one (issue 16). Each key's network reason is in the log, not the answer;
    # reasons decided before any request was made (no token for this server, an unresolved token) are told.
    told = [f"{key}: {data[key].reason}" for key in unobtainable
            if data[key].status is PrefetchStatus.UNAVAILABLE or data[key].reason in _DECIDED_WITHOUT_A_REQUEST]
    return data, precondition_failed(
        f"required FHIR data could not be obtained{' (' + '; '.join(told) + ')' if told else ''}. Send it as "
        "prefetch, or a reachable fhirServer with fhirAuthorization.", *unobtainable)


def answer_call(declaration: CdsServiceDeclaration, body: object, dependencies: Dependencies,
                base_url: str | None = None) -> CallResult:
    """Answer one call of ``declaration`` with the decoded JSON ``body``; never raises. ``base_url`` is the
    service's base URL as the client reached it (the cards link to the app under it), when known."""
    started = time.perf_counter()
    received_at = dependencies.clock()
    request: HookRequest | None = None
    data: PrefetchResult | None = None
    answer: ServiceAnswer | None = None
    try:
        request = parse_hook_request(body, declaration.accepted_hooks)
        data, unobtainable = resolve_prefetch(declaration, request, dependencies)
        if unobtainable is not None:
            raise unobtainable
        answer = declaration.handler(ServiceCall(request, data, dependencies.settings, received_at, declaration.id,
                                                  base_url))
        status, reply = 200, answer.body()
    except CdsError as error:
        status, reply = error.status, error.outcome()
    except Exception as error:  # a bug: the client gets a bare 500, the log gets the type, never the data
        logger.error("unhandled error in a service call",
                     extra={"fields": {"service": declaration.id, **incident_fields(error)}})
        status, reply, answer = INTERNAL_ERROR.status, INTERNAL_ERROR.outcome(), None
    try:
        encoded = encode_body(reply)
    except Exception as error:  # a body that is not strict JSON (NaN, a lone surrogate): a bug, answered as one
        logger.error("a service answer could not be encoded",
                     extra={"fields": {"service": declaration.id, **incident_fields(error)}})
        status, reply, answer = INTERNAL_ERROR.status, INTERNAL_ERROR.outcome(), None
        encoded = encode_body(reply)
    result = CallResult(declaration, status, reply, received_at, (time.perf_counter() - started) * 1000,
                        request, data, answer, encoded)
    for observer in dependencies.observers:
        try:
            observer.call_finished(result)
        except Exception as error:  # an observer must never change what the client receives
            logger.error("a call observer failed", extra={"fields": {"observer": type(observer).__name__,
                                                                      **incident_fields(error)}})
    return result


def encode_body(body: dict[str, Any]) -> bytes:
    """Strict JSON (RFC 8259: no NaN or Infinity), UTF-8; raises on anything else."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
