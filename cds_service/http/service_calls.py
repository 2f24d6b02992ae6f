"""POST /cds-services/{id}: validate, authenticate, resolve prefetch, answer, audit."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request

from cds_service.audit import audit_service_call
from cds_service.http.client_auth import authenticate_client
from cds_service.http.request_log import LOGGER_NAME, note
from cds_service.http.runtime import ServiceRuntime, runtime
from cds_service.protocol.errors import CdsHttpError, bad_request, precondition_failed
from cds_service.protocol.fhir_server_policy import permitted_fhir_server
from cds_service.protocol.hook_request import HookRequest, parse_hook_request
from cds_service.protocol.prefetch import PrefetchRequest, PrefetchResult, UnsafeTokenValueError
from cds_service.protocol.prefetch.resolve import SOURCE_FHIR_SERVER
from cds_service.protocol.registry import CdsServiceDeclaration
from cds_service.protocol.service_call import ServiceAnswer, ServiceCall

services = Blueprint("services", __name__)
logger = logging.getLogger(LOGGER_NAME)

# Failure reasons for keys the service did not even try to fetch.
_NOT_FETCHED = frozenset({"no-fhir-server", "invalid-fhir-server", "token-required"})
JSON_MEDIA_TYPES = ("application/json", "application/fhir+json", "application/json+fhir")


# A \uD800-\uDFFF escape: only legal as half of a pair; a lone one cannot be encoded as UTF-8 later.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python extensions, not RFC 8259


def read_json_body() -> object:
    """The request body as JSON; a wrong content type, bad encoding or bad JSON is a 400."""
    media_type = (request.mimetype or "").lower()
    if media_type not in JSON_MEDIA_TYPES:
        raise bad_request("the request body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=False)
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_reject_constant)
        if _SURROGATE_ESCAPE.search(text):
            json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    except UnicodeDecodeError:
        raise bad_request("the request body is not valid UTF-8") from None
    except UnicodeEncodeError:
        raise bad_request("the request body has a lone surrogate \\u escape (RFC 8259 §8.2)") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise bad_request(f"the request body is not valid JSON ({where})") from None
    except RecursionError:
        raise bad_request("the request body is nested too deeply") from None
    except ValueError:  # NaN/Infinity, or an integer over Python's 4300-digit conversion limit
        raise bad_request("the request body is not valid JSON (NaN, Infinity or a number too long)") from None
    return value


def declaration_or_404(service_runtime: ServiceRuntime, service_id: str) -> CdsServiceDeclaration:
    declaration = service_runtime.registry.get(service_id)
    if declaration is None:
        raise CdsHttpError(404, "not-found", f"no CDS service with id {service_id!r}")
    return declaration


def _resolve(service_runtime: ServiceRuntime, declaration: CdsServiceDeclaration,
             call_request: HookRequest) -> tuple[PrefetchResult, CdsHttpError | None]:
    """The resolved data, and the 412 to answer when essential data could not be obtained."""
    fhir_server, refusal = permitted_fhir_server(service_runtime.settings, call_request.fhir_server)
    request_data = PrefetchRequest(
        prefetch=call_request.prefetch,
        context=call_request.context,
        fhir_server=fhir_server,
        access_token=call_request.access_token if fhir_server else None,
    )
    try:
        data = service_runtime.resolver.resolve(declaration.prefetch, request_data)
    except UnsafeTokenValueError as error:
        raise bad_request(f"context.{error.token} cannot be used in a FHIR query", f"context.{error.token}") from None
    for key in declaration.prefetch:
        result = data[key]
        fetched = result.source == SOURCE_FHIR_SERVER
        fetch_failed = result.status == "failed" and result.reason not in _NOT_FETCHED
        if fetched or fetch_failed:  # a fetch was made: record how long it took, by outcome
            status = str(result.status)
            service_runtime.metrics.fhir_fetch_seconds.labels(key, status).observe(result.elapsed_ms / 1000)
    note(prefetch=data.status_by_key())
    unobtainable = sorted(set(data.incomplete_keys()) & declaration.essential_prefetch)
    if unobtainable and refusal:
        return data, precondition_failed(f"required FHIR data is missing from prefetch and {refusal}", *unobtainable)
    if unobtainable:
        reasons = "; ".join(f"{key}: {data[key].reason}" for key in unobtainable)
        return data, precondition_failed(
            f"required FHIR data could not be obtained ({reasons}). Send it as prefetch, or a reachable "
            "fhirServer with fhirAuthorization.", *unobtainable)
    return data, None


@services.post("/cds-services/<service_id>")
def call_service(service_id: str) -> Response:
    started = time.perf_counter()
    received_at = datetime.now(UTC)
    service_runtime = runtime()
    authenticate_client(service_runtime.settings, service_runtime.verifier)  # before saying which ids exist
    declaration = declaration_or_404(service_runtime, service_id)
    note(service=service_id)
    call_request = parse_hook_request(read_json_body(), declaration.accepted_hooks)
    note(hook_instance=call_request.hook_instance)
    data, failure = _resolve(service_runtime, declaration, call_request)
    if failure is not None:  # audited too: the prefetch outcomes say why the data was missing
        latency_ms = (time.perf_counter() - started) * 1000
        audit_service_call(service_runtime, declaration, call_request, data, ServiceAnswer(cards=()),
                           received_at, latency_ms, http_status=failure.status)
        raise failure
    answer: ServiceAnswer = declaration.handler(
        ServiceCall(call_request, data, service_runtime.settings, received_at, service_id))
    note(outcome=answer.outcome)
    service_runtime.metrics.results.labels(service_id, answer.outcome).inc()
    response = jsonify(answer.body())
    response.headers["Cache-Control"] = "no-store"
    latency_ms = (time.perf_counter() - started) * 1000
    audit_service_call(service_runtime, declaration, call_request, data, answer, received_at, latency_ms)
    return response
