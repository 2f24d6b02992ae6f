"""Prefetch template rendering (CDS Hooks 2.0 § "Prefetch tokens").

A template is a relative FHIR query such as `Observation?patient={{context.patientId}}&_count=10`.
Two kinds of token are replaced:

- `{{context.<field>}}`: a first-level, primitive context field (nested paths are invalid in 2.0);
- the 2.0 user tokens `{{userPractitionerId}}`, `{{userPractitionerRoleId}}`, `{{userPatientId}}`,
  `{{userRelatedPersonId}}`, derived from `context.userId` (`Practitioner/123` → userPractitionerId 123).

A token without a value (field missing, `null`, empty, not primitive; a user token for another user
type) makes the whole template unresolvable: `render_template` returns None and the key is skipped,
as the cds-hooks sandbox does.

Values come from the request, so they are untrusted. In the path a value must be a FHIR id or a
`Type/id` reference; in the query it must not contain `?`, `&`, `#`, whitespace or control characters.
Anything else raises `UnsafeTokenValueError` (the HTTP layer answers 400). Accepted values are
percent-encoded, so a rendered template never leaves the FHIR base (no `..`, no new host).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

__all__ = [
    "InvalidTemplateError",
    "UnsafeTokenValueError",
    "UserTokens",
    "render_template",
    "validate_template",
]

_TOKEN = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_CONTEXT_TOKEN = re.compile(r"context\.([A-Za-z][A-Za-z0-9_]*)")
_USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
# FHIR R4 id characters (the 64-character limit is not enforced: some EHRs issue longer ids).
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]+")
_FHIR_REFERENCE = re.compile(r"[A-Z][A-Za-z]*/[A-Za-z0-9\-.]+")
_RESOURCE_TYPE_START = re.compile(r"[A-Z][A-Za-z]*")
_DOT_SEGMENTS = {".", ".."}
_UNSAFE_IN_QUERY = set("?&#")


class InvalidTemplateError(ValueError):
    """A service declared a template we cannot render (a programming error, found at start-up)."""


class UnsafeTokenValueError(ValueError):
    """A context value would change the path or query of a rendered template (answer 400).

    The message names the token, never the value.
    """

    def __init__(self, token: str, where: str) -> None:
        super().__init__(f"value of {{{{{token}}}}} is not allowed in the {where} of a prefetch query")
        self.token = token
        self.where = where


@dataclass(frozen=True)
class UserTokens:
    """The 2.0 user tokens, derived from `context.userId` (`ResourceType/id`)."""

    practitioner_id: str | None = None
    practitioner_role_id: str | None = None
    patient_id: str | None = None
    related_person_id: str | None = None

    @classmethod
    def from_user_id(cls, user_id: object) -> UserTokens:
        """`Practitioner/123` → practitioner_id "123"; anything unrecognised → no user tokens."""
        if not isinstance(user_id, str) or "/" not in user_id:
            return cls()
        resource_type, _, resource_id = user_id.partition("/")
        if not resource_id:
            return cls()
        field = {
            "Practitioner": "practitioner_id",
            "PractitionerRole": "practitioner_role_id",
            "Patient": "patient_id",
            "RelatedPerson": "related_person_id",
        }.get(resource_type)
        return cls(**{field: resource_id}) if field else cls()

    @classmethod
    def from_context(cls, context: Mapping[str, object]) -> UserTokens:
        return cls.from_user_id(context.get("userId"))

    def value_of(self, token: str) -> str | None:
        return {
            "userPractitionerId": self.practitioner_id,
            "userPractitionerRoleId": self.practitioner_role_id,
            "userPatientId": self.patient_id,
            "userRelatedPersonId": self.related_person_id,
        }[token]


def validate_template(template: str) -> None:
    """Raise `InvalidTemplateError` unless the template is a relative FHIR query using known tokens."""
    if not isinstance(template, str) or not template:
        raise InvalidTemplateError("a prefetch template must be a non-empty string")
    _validate_once(template)


@functools.lru_cache(maxsize=256)
def _validate_once(template: str) -> None:
    """Services declare a handful of constant templates: check each once, not on every call."""
    if not template:
        raise InvalidTemplateError("a prefetch template must be a non-empty string")
    outside_tokens = _TOKEN.sub("", template)
    if "#" in outside_tokens or any(ch.isspace() for ch in outside_tokens):
        raise InvalidTemplateError("a prefetch template must not contain '#' or whitespace")
    if not _RESOURCE_TYPE_START.match(template) and not template.startswith("{{"):
        raise InvalidTemplateError("a prefetch template must start with a resource type or a token")
    path = template.split("?", 1)[0]
    if any(segment in _DOT_SEGMENTS for segment in path.split("/")) or "//" in path:
        raise InvalidTemplateError("a prefetch template must not contain dot or empty path segments")
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        if name not in _USER_TOKENS and not _CONTEXT_TOKEN.fullmatch(name):
            raise InvalidTemplateError(f"unsupported prefetch token {{{{{name}}}}}")
    if "{{" in outside_tokens or "}}" in outside_tokens:
        raise InvalidTemplateError("unbalanced token braces in prefetch template")


def render_template(
    template: str,
    context: Mapping[str, object],
    user_tokens: UserTokens | None = None,
) -> str | None:
    """The template with its tokens replaced, or None when a token has no value.

    `user_tokens` defaults to those derived from `context["userId"]`. Raises `InvalidTemplateError`
    for a malformed template and `UnsafeTokenValueError` for a value that would alter the query.
    """
    validate_template(template)
    tokens = user_tokens if user_tokens is not None else UserTokens.from_context(context)
    query_start = template.find("?")
    pieces: list[str] = []
    position = 0
    for match in _TOKEN.finditer(template):
        name = match.group(1)
        raw = _token_value(name, context, tokens)
        if raw is None:
            return None
        in_query = query_start != -1 and match.start() > query_start
        pieces.append(template[position : match.start()])
        pieces.append(_encode_query_value(name, raw) if in_query else _encode_path_value(name, raw))
        position = match.end()
    pieces.append(template[position:])
    return "".join(pieces)


def _token_value(name: str, context: Mapping[str, object], tokens: UserTokens) -> str | None:
    if name in _USER_TOKENS:
        return tokens.value_of(name)
    field = name.removeprefix("context.")
    value = context.get(field)
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str) and value:
        return value
    return None  # missing, null, empty, object or array: not a usable token value


def _encode_path_value(token: str, value: str) -> str:
    """A FHIR id, or a `Type/id` reference (`{{context.userId}}` used as a read path)."""
    if _FHIR_ID.fullmatch(value) and value not in _DOT_SEGMENTS:
        return value
    if _FHIR_REFERENCE.fullmatch(value) and value.split("/")[1] not in _DOT_SEGMENTS:
        return value
    if "/" in value or _has_query_breaker(value) or value in _DOT_SEGMENTS:
        raise UnsafeTokenValueError(token, "path")
    return quote(value, safe="")


def _encode_query_value(token: str, value: str) -> str:
    if _has_query_breaker(value):
        raise UnsafeTokenValueError(token, "query")
    return quote(value, safe="/:")


def _has_query_breaker(value: str) -> bool:
    return any(ch in _UNSAFE_IN_QUERY or ch.isspace() or not ch.isprintable() for ch in value)
