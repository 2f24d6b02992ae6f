"""One service call, framework-free: validate → resolve prefetch → handler → cards → observers.

``answer_call(declaration, body, dependencies)`` is the whole of a CDS Hooks service call (the shape of
HAPI FHIR's ``callService``): the Flask route only translates HTTP to and from it, and the CLI's batch
runner calls the same function with the resources it read from files. Whatever happens, it returns a
``CallResult`` — 200 with cards, or the status and OperationOutcome the client receives — and tells every
observer (audit, metrics) what the client received, once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from cds_service.protocol.errors import CdsError, bad_request, precondition_failed
from cds_service.protocol.fhir_server_policy import permitted_fhir_server
from cds_service.protocol.hook_request import HookRequest, parse_hook_request
from cds_service.protocol.prefetch import PrefetchRequest, PrefetchResolver, PrefetchResult, UnsafeTokenValueError
from cds_service.protocol.registry import CdsServiceDeclaration, ServiceAnswer, ServiceCall
from cds_service.settings import Settings

logger = logging.getLogger("nbcds")

INTERNAL_ERROR = CdsError(500, "exception", "internal error; the incident was logged")


@dataclass(frozen=True)
class CallResult:
    """What the client receives (``status``, ``body``) and what led to it, for observers and the CLI."""

    declaration: CdsServiceDeclaration
    status: int
    body: dict[str, Any]
    received_at: datetime
    latency_ms: float
    request: HookRequest | None = None
    data: PrefetchResult | None = None
    answer: ServiceAnswer | None = None


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
    reasons = "; ".join(f"{key}: {data[key].reason}" for key in unobtainable)
    return data, precondition_failed(
        f"required FHIR data could not be obtained ({reasons}). Send it as prefetch, or a reachable "
        "fhirServer with fhirAuthorization.", *unobtainable)


def answer_call(declaration: CdsServiceDeclaration, body: object, dependencies: Dependencies) -> CallResult:
    """Answer one call of ``declaration`` with the decoded JSON ``body``; never raises."""
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
        answer = declaration.handler(ServiceCall(request, data, dependencies.settings, received_at, declaration.id))
        status, reply = 200, answer.body()
    except CdsError as error:
        status, reply = error.status, error.outcome()
    except Exception as error:  # a bug: the client gets a bare 500, the log gets the type, never the data
        logger.error("unhandled error in a service call", exc_info=error,
                     extra={"fields": {"service": declaration.id, "error": type(error).__name__}})
        status, reply, answer = INTERNAL_ERROR.status, INTERNAL_ERROR.outcome(), None
    result = CallResult(declaration, status, reply, received_at, (time.perf_counter() - started) * 1000,
                        request, data, answer)
    for observer in dependencies.observers:
        try:
            observer.call_finished(result)
        except Exception as error:  # an observer must never change what the client receives
            logger.error("a call observer failed", extra={"fields": {"observer": type(observer).__name__,
                                                                      "error": type(error).__name__}})
    return result
