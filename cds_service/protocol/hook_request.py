"""A CDS Hooks 2.0 service request as a typed model; anything malformed is a 400 naming the field.

Unknown members and ``extension`` are tolerated (cds-hooks-notes §3.2 item 5); ``fhirServer`` is
required whenever ``fhirAuthorization`` is present (spec R3); the hook must be one the called service
answers, and order-sign/order-select need their context (``draftOrders``, ``selections``). The
messages are this module's own: a value from the request is never echoed into a 400.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from cds_service.protocol.errors import CdsError, bad_request

FHIR_ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
ORDER_HOOKS = ("order-sign", "order-select")


def _problem(path: str, message: str) -> PydanticCustomError:
    """A validation error whose message and field are ours (``path`` becomes the OperationOutcome expression)."""
    return PydanticCustomError("cds_request", "{message}", {"path": path, "message": message})


def _string_or_none(value: object) -> object:
    """Members the service does not need are read when they are strings and ignored otherwise."""
    return value if isinstance(value, str) else None


def _fhir_resource_schema(schema: dict[str, Any]) -> None:
    schema.update({"type": "object", "required": ["resourceType"],
                   "properties": {"resourceType": {"type": "string"}}})


def _is_resource(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str)


FhirResource = Annotated[dict[str, Any], Field(json_schema_extra=_fhir_resource_schema)]
NonBlank = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
OptionalText = Annotated[str | None, BeforeValidator(_string_or_none)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True)


class FhirAuthorization(_Model):
    """The client's access token for ``fhirServer`` (never logged, never stored: spec R5)."""

    access_token: NonBlank = Field(repr=False)
    token_type: Annotated[str, StringConstraints(pattern=r"^[Bb][Ee][Aa][Rr][Ee][Rr]$")] = "Bearer"  # noqa: S105
    expires_in: Annotated[int | None, BeforeValidator(lambda v: v if isinstance(v, int) else None)] = None
    scope: OptionalText = None
    subject: OptionalText = None
    patient: OptionalText = None


class HookContext(_Model):
    """The hook's context. Every member is kept: any first-level primitive one can be a prefetch token."""

    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True, populate_by_name=True)

    patient_id: Annotated[str, StringConstraints(pattern=FHIR_ID_PATTERN)] = Field(alias="patientId")
    user_id: OptionalText = Field(default=None, alias="userId")
    encounter_id: OptionalText = Field(default=None, alias="encounterId")
    draft_orders: FhirResource | None = Field(default=None, alias="draftOrders")
    selections: list[str] | None = None


class HookRequest(_Model):
    """A validated service request; ``context_values`` are the context's members as sent (for tokens)."""

    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True,
                              alias_generator=to_camel, populate_by_name=True)

    hook: NonBlank
    hook_instance: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"\S")]
    fhir_server: Annotated[str, StringConstraints(pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+")] | None = None
    fhir_authorization: FhirAuthorization | None = None
    context: HookContext
    prefetch: dict[str, FhirResource | None] | None = None

    @field_validator("hook")
    @classmethod
    def _answered_here(cls, hook: str, info: ValidationInfo) -> str:
        accepted: Collection[str] = (info.context or {}).get("accepted_hooks", ())
        if accepted and hook not in accepted:
            raise _problem("hook", f"this service answers {', '.join(sorted(accepted))}, not another hook")
        return hook

    @field_validator("fhir_server")
    @classmethod
    def _parseable_url(cls, url: str | None) -> str | None:
        try:
            parts = urlsplit(url) if url is not None else None
            _ = parts.port if parts is not None else None
        except ValueError:  # an unbalanced IPv6 bracket, a port out of range
            raise _problem("fhirServer", "fhirServer: must be an absolute http(s) URL") from None
        if parts is not None and not parts.hostname:
            raise _problem("fhirServer", "fhirServer: must be an absolute http(s) URL")
        return url

    @field_validator("prefetch", mode="before")
    @classmethod
    def _prefetch_values(cls, value: object) -> object:
        if isinstance(value, dict):
            for key, item in value.items():
                if item is not None and not _is_resource(item):
                    raise _problem(f"prefetch.{key}"[:80], "a prefetch value must be a FHIR resource or null")
        return value

    @model_validator(mode="after")
    def _rules_across_members(self) -> HookRequest:
        if self.fhir_authorization is not None and self.fhir_server is None:
            raise _problem("fhirServer", "fhirServer is required when fhirAuthorization is present")
        if self.hook in ORDER_HOOKS:
            orders = self.context.draft_orders
            if orders is None or orders.get("resourceType") != "Bundle":
                raise _problem("context.draftOrders", f"{self.hook} needs context.draftOrders, a Bundle")
            if self.hook == "order-select" and self.context.selections is None:
                raise _problem("context.selections", "order-select needs context.selections, a list")
        return self

    @property
    def patient_id(self) -> str:
        return self.context.patient_id

    @property
    def access_token(self) -> str | None:
        return self.fhir_authorization.access_token if self.fhir_authorization else None

    @property
    def context_values(self) -> dict[str, Any]:
        return self.context.model_dump(by_alias=True, exclude_none=True)


_MESSAGES = {
    "missing": "is required",
    "string_type": "must be a string",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long",
    "string_pattern_mismatch": "has the wrong form",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
}
_FIELD_RULES = {
    "context.patientId": "must be a FHIR id (letters, digits, '-' and '.', 1 to 64)",
    "fhirServer": "must be an absolute http(s) URL",
    "fhirAuthorization.token_type": "must be Bearer",
}


def _first_problem(error: ValidationError) -> CdsError:
    """The first problem as a 400: ``context.patientId: must be a FHIR id …``, expression ``context.patientId``."""
    first = error.errors(include_input=False, include_url=False)[0]
    context = first.get("ctx") or {}
    if first["type"] == "cds_request":
        return bad_request(str(context["message"]), str(context["path"]))
    path = ".".join(str(part) for part in first["loc"])  # the members' names as sent (aliases)
    rule = _FIELD_RULES.get(path) if first["type"] == "string_pattern_mismatch" else None
    return bad_request(f"{path}: {rule or _MESSAGES.get(first['type'], 'is not valid')}", path)


def parse_hook_request(body: object, accepted_hooks: Collection[str]) -> HookRequest:
    """Validate a decoded JSON body; raises ``CdsError`` (400) naming the first bad field."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    try:
        return HookRequest.model_validate(body, context={"accepted_hooks": tuple(accepted_hooks)})
    except ValidationError as error:
        raise _first_problem(error) from None
