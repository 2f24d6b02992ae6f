"""The CDS Hooks 2.0 response as typed models: valid by construction, serialised without empty members.

Each rule of the spec a card must keep is a constraint here (cds-hooks-notes §1.6; the 3.0 FSH invariants
cds-resp-1…7), so a card that breaks one is a bug found where it is built, not by the client:

- ``summary`` non-blank and shorter than 140 characters; ``indicator`` info/warning/critical;
- ``selectionBehavior`` whenever there are suggestions, and with ``at-most-one`` at most one recommended;
- an override reason is a Coding with a ``display``; a link's ``appContext`` only with a ``smart`` link;
- no empty member (G2): optional members are omitted, lists and texts are never empty.

The same models describe the response in the generated OpenAPI document (``openapi.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.alias_generators import to_camel

SUMMARY_LIMIT = 140  # a summary must be *shorter* than 140 characters
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"

Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
AbsoluteUrl = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9+.\-]*://[^\s/?#]+\S*$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)

    def wire(self) -> dict[str, Any]:
        """The JSON object sent on the wire: camelCase members, absent ones omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _resource_schema(schema: dict[str, Any]) -> None:
    schema.update({"type": "object", "required": ["resourceType"],
                   "properties": {"resourceType": {"type": "string"}}})


class Coding(_Model):
    system: AbsoluteUrl
    code: Text
    display: Text | None = None


class OverrideReason(Coding):
    """A Coding a clinician may pick when overriding a card; its ``display`` is required (§1.6)."""

    display: Text


class Source(_Model):
    label: Text
    url: AbsoluteUrl | None = None
    icon: AbsoluteUrl | None = None
    topic: Coding | None = None


class Action(_Model):
    """A create or update carries the whole FHIR resource (an object, never a JSON string)."""

    type: Literal["create", "update", "delete"]
    description: Text
    resource: Annotated[dict[str, Any] | None, Field(json_schema_extra=_resource_schema)] = None
    resource_id: Text | None = None

    @model_validator(mode="after")
    def _resource_for_its_type(self) -> Action:
        if self.type in ("create", "update") and not (self.resource and self.resource.get("resourceType")):
            raise ValueError(f"a {self.type} action carries a FHIR resource")
        if self.type == "delete" and (self.resource is not None or not self.resource_id):
            raise ValueError("a delete action names resourceId and carries no resource (cds-resp-2)")
        return self


class Suggestion(_Model):
    label: Text
    uuid: Uuid
    is_recommended: bool | None = None
    actions: Annotated[list[Action], Field(min_length=1)] | None = None


class Link(_Model):
    label: Text
    url: AbsoluteUrl
    type: Literal["absolute", "smart"]
    app_context: Text | None = None

    @model_validator(mode="after")
    def _app_context_only_with_smart(self) -> Link:
        if self.app_context is not None and self.type != "smart":
            raise ValueError("appContext is only allowed with a smart link")
        return self


class Card(_Model):
    uuid: Uuid
    summary: Annotated[str, StringConstraints(min_length=1, max_length=SUMMARY_LIMIT - 1, pattern=r"\S")]
    detail: Text | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: Annotated[list[Suggestion], Field(min_length=1)] | None = None
    selection_behavior: Literal["at-most-one", "any"] | None = None
    override_reasons: Annotated[list[OverrideReason], Field(min_length=1)] | None = None
    links: Annotated[list[Link], Field(min_length=1)] | None = None

    @model_validator(mode="after")
    def _selection_behaviour(self) -> Card:
        if self.suggestions and self.selection_behavior is None:
            raise ValueError("selectionBehavior is required with suggestions")
        recommended = sum(bool(s.is_recommended) for s in self.suggestions or ())
        if self.selection_behavior == "at-most-one" and recommended > 1:
            raise ValueError("at-most-one: at most one suggestion may be recommended (cds-resp-1)")
        return self

    @property
    def suggestion_uuids(self) -> tuple[str, ...]:
        return tuple(s.uuid for s in self.suggestions or ())


class CardsResponse(_Model):
    """The body of a 200: the cards, possibly none (``{"cards": []}``); this service sends no systemActions."""

    cards: list[Card]
