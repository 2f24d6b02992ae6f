"""A hand-written JSON Schema (2020-12) of CDS Hooks 2.0 discovery and service responses, and the checks
every test applies to every 200 the service sends.

Written from the spec (cds-hooks-notes §1.2 discovery, §1.5 response, §1.6 card) and the FSH invariants
of the 3.0 logical models (cds-resp-1 … 7), not from the service's code. Where the spec leaves a choice
open the schema holds *our* service to the stricter reading:

- no `systemActions` (the INRG service never emits them, §1.6);
- discovery lists at least one service (the sandbox treats an empty list as a failure, §2.1);
- only `extension` is allowed besides the spec's members, so a misspelt member fails the test.

The no-empty-members rule (G2) is a recursive walk rather than a schema keyword, so it also covers the
FHIR resources embedded in actions; it allows exactly one empty value: `"cards": []`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import ValidationError

SUMMARY_LIMIT = 140  # a summary must be *shorter* than 140 characters
_ABSOLUTE_URL = r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#]+[^\s]*$"
_SERVICE_ID = r"^[A-Za-z0-9._~\-]+$"  # one URL path segment, no escaping needed

_FORMATS = FormatChecker()


@_FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    """8-4-4-4-12 hex, as the 3.0 logical models type `card.uuid` (implied `urn:uuid:` prefix)."""
    return not isinstance(value, str) or (
        re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", value) is not None
        and uuid.UUID(value) is not None
    )


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **more: Any) -> dict[str, Any]:
    """An object with exactly these members (plus `extension`, reserved by the spec for any object, G4)."""
    return {
        "type": "object",
        "properties": {**properties, "extension": {"$ref": "#/$defs/extension"}},
        "required": list(required),
        "additionalProperties": False,
        **more,
    }


_DEFS: dict[str, Any] = {
    "text": {"type": "string", "minLength": 1, "pattern": r"\S"},
    "absoluteUrl": {"type": "string", "pattern": _ABSOLUTE_URL},
    "uuid": {"type": "string", "format": "uuid"},
    "extension": {"type": "object", "minProperties": 1},
    "coding": _object(
        {"system": {"$ref": "#/$defs/absoluteUrl"}, "code": {"$ref": "#/$defs/text"},
         "display": {"$ref": "#/$defs/text"}},
        ("system", "code"),
    ),
    # overrideReasons: a Coding whose display is REQUIRED (§1.6).
    "overrideReason": {"allOf": [{"$ref": "#/$defs/coding"}, {"required": ["display"]}]},
    "source": _object(
        {"label": {"$ref": "#/$defs/text"}, "url": {"$ref": "#/$defs/absoluteUrl"},
         "icon": {"$ref": "#/$defs/absoluteUrl"}, "topic": {"$ref": "#/$defs/coding"}},
        ("label",),
    ),
    "resource": {
        "type": "object",  # never a JSON string (cqf-ruler#11)
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string", "pattern": "^[A-Z][A-Za-z]+$"}},
    },
    "action": _object(
        {"type": {"enum": ["create", "update", "delete"]}, "description": {"$ref": "#/$defs/text"},
         "resource": {"$ref": "#/$defs/resource"},
         "resourceId": {"type": "string", "pattern": r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$"}},
        ("type", "description"),
        allOf=[
            # a create carries the new resource; an update the whole resource, with its id.
            {"if": {"properties": {"type": {"const": "create"}}},
             "then": {"required": ["resource"]}},
            {"if": {"properties": {"type": {"const": "update"}}},
             "then": {"required": ["resource"],
                      "properties": {"resource": {"required": ["resourceType", "id"]}}}},
            # cds-resp-2: a delete names the resource by resourceId and carries no resource.
            {"if": {"properties": {"type": {"const": "delete"}}},
             "then": {"required": ["resourceId"], "not": {"required": ["resource"]}}},
        ],
    ),
    "suggestion": _object(
        {"label": {"$ref": "#/$defs/text"}, "uuid": {"$ref": "#/$defs/uuid"},
         "isRecommended": {"type": "boolean"},
         "actions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/action"}}},
        ("label", "uuid"),  # uuid is optional in the spec; ours always carry one (accepted feedback needs it)
    ),
    "link": _object(
        {"label": {"$ref": "#/$defs/text"}, "url": {"$ref": "#/$defs/absoluteUrl"},
         "type": {"enum": ["absolute", "smart"]}, "appContext": {"$ref": "#/$defs/text"},
         "autolaunchable": {"type": "boolean"}},
        ("label", "url", "type"),
        # appContext only with smart links (CRD kit; spec §1.6).
        allOf=[{"if": {"properties": {"type": {"const": "absolute"}}},
                "then": {"not": {"required": ["appContext"]}}}],
    ),
    "card": _object(
        {
            "uuid": {"$ref": "#/$defs/uuid"},
            "summary": {"$ref": "#/$defs/text", "maxLength": SUMMARY_LIMIT - 1},
            "detail": {"$ref": "#/$defs/text"},
            "indicator": {"enum": ["info", "warning", "critical"]},
            "source": {"$ref": "#/$defs/source"},
            "suggestions": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/suggestion"}},
            "selectionBehavior": {"enum": ["at-most-one", "any"]},
            "overrideReasons": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/overrideReason"}},
            "links": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/link"}},
        },
        ("uuid", "summary", "indicator", "source"),  # uuid: needed for feedback, always emitted by us
        # selectionBehavior is REQUIRED when suggestions exist.
        dependentRequired={"suggestions": ["selectionBehavior"]},
        allOf=[
            # cds-resp-1: with at-most-one, at most one suggestion isRecommended.
            {"if": {"properties": {"selectionBehavior": {"const": "at-most-one"}}, "required": ["selectionBehavior"]},
             "then": {"properties": {"suggestions": {
                 "contains": {"properties": {"isRecommended": {"const": True}}, "required": ["isRecommended"]},
                 "minContains": 0, "maxContains": 1}}}},
        ],
    ),
}

CARDS_RESPONSE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://neuroblastoma-cds.github.io/schema/cds-hooks-2.0-response.json",
    "title": "CDS Hooks 2.0 service response (as the neuroblastoma service must send it)",
    "$defs": _DEFS,
    **_object({"cards": {"type": "array", "items": {"$ref": "#/$defs/card"}}}, ("cards",)),
}

DISCOVERY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://neuroblastoma-cds.github.io/schema/cds-hooks-2.0-discovery.json",
    "title": "CDS Hooks 2.0 discovery response",
    "$defs": {
        **_DEFS,
        "service": _object(
            {
                "hook": {"$ref": "#/$defs/text"},
                "id": {"type": "string", "pattern": _SERVICE_ID},
                "title": {"$ref": "#/$defs/text"},
                "description": {"$ref": "#/$defs/text"},
                "prefetch": {"type": "object", "minProperties": 1,
                             "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                             "additionalProperties": {"$ref": "#/$defs/text"}},
                "usageRequirements": {"$ref": "#/$defs/text"},
            },
            ("hook", "id", "description", "title"),  # title is RECOMMENDED; ours always have one
        ),
    },
    **_object({"services": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/service"}}}, ("services",)),
}

for _schema in (CARDS_RESPONSE_SCHEMA, DISCOVERY_SCHEMA):
    Draft202012Validator.check_schema(_schema)

_CARDS_VALIDATOR = Draft202012Validator(CARDS_RESPONSE_SCHEMA, format_checker=_FORMATS)
_DISCOVERY_VALIDATOR = Draft202012Validator(DISCOVERY_SCHEMA, format_checker=_FORMATS)


# --------------------------------------------------------------------------- G2: no empty members


def empty_members(value: Any, path: str = "$") -> Iterator[str]:
    """JSONPaths of every `null`, `""`, `[]` and `{}` inside `value` (G2), the top-level `cards: []` excepted."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}"
            if item is None or item in ("", [], {}):
                if not (where == "$.cards" and item == []):
                    yield where
            else:
                yield from empty_members(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if item is None or item in ("", [], {}):
                yield where
            else:
                yield from empty_members(item, where)
    elif isinstance(value, str) and not value.strip():
        yield path


def assert_no_empty_members(body: Any) -> None:
    empty = list(empty_members(body))
    assert not empty, f"CDS Hooks forbids null and empty values (G2): {empty}"


def schema_errors(validator: Draft202012Validator, body: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '$'}: {error.message}"
            for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))]


# --------------------------------------------------------------------------- the helpers tests use


def _actions(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for card in body["cards"]:
        for suggestion in card.get("suggestions", ()):
            yield from suggestion.get("actions", ())


def assert_valid_cards_response(body: Any) -> dict[str, Any]:
    """Everything a 200 service response must be; returns the body for further checks."""
    errors = schema_errors(_CARDS_VALIDATOR, body)
    assert not errors, "response breaks the CDS Hooks 2.0 schema:\n" + "\n".join(errors)
    assert_no_empty_members(body)
    uuids = [card["uuid"] for card in body["cards"]]
    uuids += [s["uuid"] for card in body["cards"] for s in card.get("suggestions", ())]
    assert len(uuids) == len(set(uuids)), f"card and suggestion uuids must be unique: {uuids}"
    for action in _actions(body):
        resource = action.get("resource")
        if resource is not None:
            # our suggestions record Observations; each must be a valid FHIR R4B Observation.
            assert resource["resourceType"] == "Observation", resource["resourceType"]
            try:
                Observation.model_validate(resource)
            except ValidationError as error:
                raise AssertionError(f"suggested resource is not a valid FHIR R4B Observation: {error}") from None
    return body


def assert_valid_discovery(body: Any) -> dict[str, Any]:
    errors = schema_errors(_DISCOVERY_VALIDATOR, body)
    assert not errors, "discovery breaks the CDS Hooks 2.0 schema:\n" + "\n".join(errors)
    assert_no_empty_members(body)
    ids = [service["id"] for service in body["services"]]
    assert len(ids) == len(set(ids)), f"service ids must be unique: {ids}"
    return body


def assert_operation_outcome(body: Any, *, code: str | None = None) -> dict[str, Any]:
    """An error body: a valid FHIR OperationOutcome with at least one error issue (CDS Hooks 3.0 H5)."""
    assert isinstance(body, dict), f"error body is not a JSON object: {body!r}"
    assert body.get("resourceType") == "OperationOutcome", body
    try:
        OperationOutcome.model_validate(body)
    except ValidationError as error:
        raise AssertionError(f"error body is not a valid FHIR R4B OperationOutcome: {error}") from None
    assert_no_empty_members(body)
    issues = body["issue"]
    assert any(issue["severity"] in ("error", "fatal") for issue in issues), issues
    if code is not None:
        assert any(issue["code"] == code for issue in issues), issues
    return body


def issue_text(body: dict[str, Any]) -> str:
    """Every diagnostics and expression of an OperationOutcome, for `in` checks."""
    parts: list[str] = []
    for issue in body["issue"]:
        parts.append(issue.get("diagnostics", ""))
        parts.extend(issue.get("expression", ()))
    return "\n".join(parts)


__all__ = [
    "CARDS_RESPONSE_SCHEMA",
    "DISCOVERY_SCHEMA",
    "SUMMARY_LIMIT",
    "assert_no_empty_members",
    "assert_operation_outcome",
    "assert_valid_cards_response",
    "assert_valid_discovery",
    "empty_members",
    "issue_text",
    "schema_errors",
]
