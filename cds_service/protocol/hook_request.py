"""Parsing and validating a CDS Hooks 2.0 service request; anything malformed is a 400 naming the field.

Unknown fields and ``extension`` are tolerated (cds-hooks-notes §3.2 item 5); ``fhirServer`` is
required whenever ``fhirAuthorization`` is present (spec R3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cds_service.protocol.errors import CdsHttpError, bad_request

# FHIR R4 id datatype: [A-Za-z0-9\-\.]{1,64}
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_MAX_HOOK_INSTANCE = 128


@dataclass(frozen=True)
class FhirAuthorization:
    access_token: str
    scope: str | None
    subject: str | None
    patient: str | None


@dataclass(frozen=True)
class HookRequest:
    hook: str
    hook_instance: str
    context: dict[str, Any]
    fhir_server: str | None
    fhir_authorization: FhirAuthorization | None
    prefetch: dict[str, Any] | None

    @property
    def patient_id(self) -> str:
        return self.context["patientId"]

    @property
    def access_token(self) -> str | None:
        return self.fhir_authorization.access_token if self.fhir_authorization else None


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{field} must be a non-empty string", field)
    return value


def _fhir_server(value: Any) -> str | None:
    if value is None:
        return None
    url = _string(value, "fhirServer")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad_request("fhirServer must be an absolute http(s) URL", "fhirServer")
    return url


def _fhir_authorization(value: Any) -> FhirAuthorization | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("fhirAuthorization must be an object", "fhirAuthorization")
    token = _string(value.get("access_token"), "fhirAuthorization.access_token")
    token_type = value.get("token_type", "Bearer")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise bad_request("fhirAuthorization.token_type must be Bearer", "fhirAuthorization.token_type")
    scope = value.get("scope")
    return FhirAuthorization(
        access_token=token,
        scope=scope if isinstance(scope, str) else None,
        subject=value.get("subject") if isinstance(value.get("subject"), str) else None,
        patient=value.get("patient") if isinstance(value.get("patient"), str) else None,
    )


def _context(value: Any, hook: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad_request("context must be an object", "context")
    patient_id = value.get("patientId")
    if not isinstance(patient_id, str) or not FHIR_ID.match(patient_id):
        raise bad_request("context.patientId must be a FHIR id", "context.patientId")
    if hook in ("order-sign", "order-select"):
        orders = value.get("draftOrders")
        if not isinstance(orders, dict) or orders.get("resourceType") != "Bundle":
            raise bad_request(f"{hook} needs context.draftOrders, a Bundle", "context.draftOrders")
        if hook == "order-select" and not isinstance(value.get("selections"), list):
            raise bad_request("order-select needs context.selections, a list", "context.selections")
    return value


def _prefetch(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("prefetch must be an object", "prefetch")
    for key, item in value.items():
        if item is not None and not (isinstance(item, dict) and isinstance(item.get("resourceType"), str)):
            raise bad_request(f"prefetch.{key} must be a FHIR resource or null", f"prefetch.{key}")
    return value


def parse_hook_request(body: Any, accepted_hooks: frozenset[str]) -> HookRequest:
    """Validate a decoded JSON body; raises ``CdsHttpError`` (400) naming the first bad field."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    hook = _string(body.get("hook"), "hook")
    if hook not in accepted_hooks:
        raise bad_request(f"this service answers {', '.join(sorted(accepted_hooks))}, not {hook}", "hook")
    hook_instance = _string(body.get("hookInstance"), "hookInstance")
    if len(hook_instance) > _MAX_HOOK_INSTANCE:
        raise bad_request("hookInstance is too long", "hookInstance")
    authorization = _fhir_authorization(body.get("fhirAuthorization"))
    server = _fhir_server(body.get("fhirServer"))
    if authorization and not server:
        raise bad_request("fhirServer is required when fhirAuthorization is present", "fhirServer")
    return HookRequest(
        hook=hook,
        hook_instance=hook_instance,
        context=_context(body.get("context"), hook),
        fhir_server=server,
        fhir_authorization=authorization,
        prefetch=_prefetch(body.get("prefetch")),
    )


__all__ = ["CdsHttpError", "FhirAuthorization", "HookRequest", "parse_hook_request"]
