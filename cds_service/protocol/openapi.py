"""The OpenAPI 3.1 description of the service, generated from the typed models and the service registry.

Nothing here is written twice: request and response schemas are the pydantic models the service
validates and answers with (``hook_request``, ``cards``, ``feedback``, ``errors``, ``registry``), the
service-id enum is the registry, and the hooks are the declared ones. Served at ``GET /openapi.json``
and fuzzed with schemathesis (tests/robustness/test_openapi.py).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from cds_service.protocol.cards import CardsResponse
from cds_service.protocol.errors import OperationOutcome
from cds_service.protocol.feedback import FeedbackRequest, FeedbackStored
from cds_service.protocol.hook_request import HookRequest
from cds_service.protocol.landing import Landing
from cds_service.protocol.registry import Discovery, ServiceRegistry

OPENAPI_PATH = "/openapi.json"
JSON = "application/json"
FHIR_JSON = "application/fhir+json"

#: Routes deliberately not in this document: the SMART app's pages for people (HTML, a session cookie, CSRF),
#: its launch and callback redirects, the worksheet's live preview (the page's own script) and its static files.
#: docs/smart-app.md describes them; tests/robustness/test_openapi.py checks that nothing else is missing.
UNDOCUMENTED_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("/app", "get"), ("/app/launch", "get"), ("/app/callback", "get"), ("/app/decision-path", "get"),
    ("/app/family", "get"), ("/app/worksheet", "get"), ("/app/worksheet", "post"), ("/app/api/preview", "post"),
    ("/app/static/{filename}", "get"),
})


class Health(BaseModel):
    """Liveness or readiness; ``store`` says what is not ready."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok", "ready", "unavailable"]
    store: str | None = None


_INPUTS = (HookRequest, FeedbackRequest)
_OUTPUTS = (CardsResponse, Discovery, FeedbackStored, OperationOutcome, Health, Landing)

_UNAUTHENTICATED = ("The CDS client's JWT is missing or invalid (a bare reason: details only in the log). "
                    "Only when authentication is on (production profile).")


def _schemas() -> dict[str, Any]:
    modes: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((model, "validation") for model in _INPUTS), *((model, "serialization") for model in _OUTPUTS)]
    _, top = models_json_schema(modes, ref_template="#/components/schemas/{model}", by_alias=True)
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(name)}}}


def _outcome(description: str) -> dict[str, Any]:
    return _json("OperationOutcome", description)


def _service_id(service_ids: list[str]) -> dict[str, Any]:
    return {"name": "id", "in": "path", "required": True, "description": "A service id from discovery.",
            "schema": {"type": "string", "enum": service_ids}}


def _fhir_resource(resource_type: str) -> dict[str, Any]:
    return {"type": "object", "required": ["resourceType"],
            "properties": {"resourceType": {"type": "string", "const": resource_type}}}


def _body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {media: {"schema": _ref(name)}
                                          for media in (JSON, "application/fhir+json")}}


def _paths(service_ids: list[str]) -> dict[str, Any]:
    too_large = _outcome("The body is larger than NBCDS_MAX_REQUEST_BYTES.")
    return {
        "/cds-services": {"get": {
            "operationId": "discovery", "tags": ["CDS Hooks"],
            "summary": "Discovery: the services this endpoint offers, with their prefetch templates.",
            "responses": {"200": _json("Discovery", "The declared services."), "401": _outcome(_UNAUTHENTICATED)},
        }},
        "/cds-services/{id}": {"post": {
            "operationId": "callService", "tags": ["CDS Hooks"],
            "summary": "Call a CDS service.",
            "description": ("Prefetch keys that are absent are fetched from `fhirServer` (with the `fhirAuthorization` "
                            "token) in parallel under NBCDS_FHIR_DEADLINE_SECONDS. When essential data can't be had, "
                            "the answer is 412 naming the keys (`expression: prefetch.<key>`)."),
            "parameters": [_service_id(service_ids)],
            "requestBody": _body("HookRequest"),
            "responses": {
                "200": _json("CardsResponse", "Cards (possibly none). Never cached (`Cache-Control: no-store`)."),
                "400": _outcome("The body is not JSON, not UTF-8, or breaks a rule of HookRequest; "
                                "`expression` names the field."),
                "401": _outcome(_UNAUTHENTICATED),
                "404": _outcome("No CDS service with this id."),
                "412": _outcome("Essential FHIR data is neither prefetched nor obtainable from fhirServer; "
                                "`expression` lists the prefetch keys."),
                "413": too_large,
            },
        }},
        "/cds-services/{id}/feedback": {"post": {
            "operationId": "feedback", "tags": ["CDS Hooks"],
            "summary": "Feedback on cards (accepted / overridden), stored idempotently.",
            "parameters": [_service_id(service_ids)],
            "requestBody": _body("FeedbackRequest"),
            "responses": {
                "200": _json("FeedbackStored", "Every entry was stored (or was already stored)."),
                "400": _outcome("Some entries (or the body) are invalid: one error issue per problem, plus an "
                                "information issue per entry that was stored."),
                "401": _outcome(_UNAUTHENTICATED),
                "404": _outcome("No CDS service with this id."),
                "413": too_large,
                "503": _outcome("The feedback store is unavailable: nothing was stored; retry later."),
            },
        }},
        "/": {"get": {
            "operationId": "landing", "tags": ["Operations"], "security": [{}],
            "summary": "Landing page: name, version, rule set, the declared services and links (discovery, this "
                       "document, the SMART app, the docs). HTML for people; JSON with `Accept: application/json`.",
            "responses": {"200": {"description": "The landing page (public: nothing about patients or clients).",
                                  "content": {"text/html": {"schema": {"type": "string"}},
                                              JSON: {"schema": _ref("Landing")}}}}}},
        "/healthz": {"get": {"operationId": "liveness", "tags": ["Operations"], "security": [{}],
                             "summary": "Liveness: the process answers.",
                             "responses": {"200": _json("Health", "Alive.")}}},
        "/readyz": {"get": {"operationId": "readiness", "tags": ["Operations"], "security": [{}],
                            "summary": "Readiness: the feedback and audit store is reachable.",
                            "responses": {"200": _json("Health", "Ready."),
                                          "503": _json("Health", "The store is unreachable; service calls still "
                                                                 "answer, feedback does not.")}}},
        "/metrics": {"get": {"operationId": "metrics", "tags": ["Operations"], "security": [{}],
                             "summary": "Prometheus metrics (all gunicorn workers).",
                             "responses": {"200": {"description": "Prometheus text exposition format.",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/app/Questionnaire/idrf-worksheet": {"get": {
            "operationId": "worksheetQuestionnaire", "tags": ["SMART app"], "security": [{}],
            "summary": "The IDRF and staging worksheet as an SDC Questionnaire (no patient data).",
            "responses": {"200": {"description": "A FHIR R4 Questionnaire.",
                                  "content": {FHIR_JSON: {"schema": _fhir_resource("Questionnaire")}}}}}},
        "/app/QuestionnaireResponse/$extract": {"post": {
            "operationId": "worksheetExtract", "tags": ["SMART app"],
            "summary": "SDC extraction: a completed worksheet QuestionnaireResponse → the transaction Bundle of "
                       "Observations (preliminary, or final when signed) and a Provenance. Nothing is stored.",
            "requestBody": {"required": True, "content": {media: {"schema": _fhir_resource("QuestionnaireResponse")}
                                                          for media in (JSON, FHIR_JSON)}},
            "responses": {"200": {"description": "A FHIR R4 transaction Bundle for the EHR to apply.",
                                  "content": {FHIR_JSON: {"schema": _fhir_resource("Bundle")}}},
                          "400": _outcome("Not a QuestionnaireResponse about a Patient, or an answer that is not "
                                          "one of the worksheet's choices."),
                          "401": _outcome(_UNAUTHENTICATED), "413": too_large}}},
        OPENAPI_PATH: {"get": {"operationId": "openapi", "tags": ["Operations"], "security": [{}],
                               "summary": "This document.",
                               "responses": {"200": {"description": "OpenAPI 3.1 description of the service.",
                                                     "content": {JSON: {"schema": {"type": "object"}}}}}}},
    }


def openapi_document(registry: ServiceRegistry, version: str) -> dict[str, Any]:
    """The document for the services declared in ``registry``."""
    schemas = _schemas()
    hooks = sorted({hook for service in registry for hook in service.accepted_hooks})
    schemas["HookRequest"]["properties"]["hook"]["enum"] = hooks
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Neuroblastoma CDS Hooks service",
            "version": version,
            "summary": "CDS Hooks 2.0 service: INRG stage and pretreatment risk group of neuroblastoma from FHIR R4.",
            "description": ("The HTTP interface of `nbcds serve`. The CDS Hooks endpoints follow CDS Hooks 2.0 "
                            "(https://cds-hooks.hl7.org/2.0/); every error answer carries a FHIR OperationOutcome. "
                            "Authentication: in the production profile every call must carry `Authorization: Bearer "
                            "<JWT>` signed by a trusted CDS client (docs/security.md). Generated from the service's "
                            "own request and response models and its service declarations."),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "servers": [{"url": "/", "description": "The service's base URL (NBCDS_PUBLIC_BASE_URL behind a proxy)."}],
        "security": [{"cdsClientJwt": []}, {}],
        "tags": [{"name": "CDS Hooks", "description": "CDS Hooks 2.0 endpoints."},
                 {"name": "Operations",
                  "description": "The landing page, health, readiness, metrics and this description."},
                 {"name": "SMART app", "description": "The worksheet for EHRs that render questionnaires (the app's "
                                                      "pages are for people and not described here)."}],
        "paths": _paths([service.id for service in registry]),
        "components": {
            "schemas": schemas,
            "securitySchemes": {"cdsClientJwt": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "CDS Hooks client JWT (ES384 or RS384; `aud` = the URL called). Required in the "
                               "production profile."}},
        },
    }
