"""The case JSON form: a strict, documented mapping between ``Case`` and plain JSON values.

Field names are the dataclass fields in camelCase; enumerations are their string values; dates
are ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; unknown facts are ``"unknown"`` or simply omitted.
Unknown fields and unknown values are errors naming the field path — never silently dropped.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any, get_args, get_origin, get_type_hints

from neuroblastoma.ages import PartialDate
from neuroblastoma.case import Case


class CaseFormatError(ValueError):
    """A case document that does not fit the case JSON form; ``path`` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_SKIPPED_FIELDS = {"evidence"}  # provenance is filled by the FHIR mapper, not by case files


def _decode(value: Any, hint: Any, path: str) -> Any:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in get_args(hint) if arg is not type(None)]
        if value is None:
            return None
        return _decode(value, options[0], path)
    if origin is tuple:
        if not isinstance(value, list):
            raise CaseFormatError(path, "expected a list")
        item_hint = get_args(hint)[0]
        return tuple(_decode(item, item_hint, f"{path}[{i}]") for i, item in enumerate(value))
    if isinstance(hint, type) and issubclass(hint, Enum):
        allowed = [member.value for member in hint]
        if value not in allowed:
            raise CaseFormatError(path, f"{value!r} is not one of {', '.join(map(str, allowed))}")
        return hint(value)
    if hint is PartialDate:
        if not isinstance(value, str):
            raise CaseFormatError(path, "expected a date string YYYY, YYYY-MM or YYYY-MM-DD")
        try:
            return PartialDate.parse(value)
        except ValueError as error:
            raise CaseFormatError(path, str(error)) from None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode_dataclass(value, hint, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise CaseFormatError(path, "expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CaseFormatError(path, "expected a whole number")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CaseFormatError(path, "expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise CaseFormatError(path, "expected a string")
        return value
    raise CaseFormatError(path, f"unsupported field type {hint!r}")  # pragma: no cover - model bug


def _decode_dataclass(value: Any, cls: type, path: str) -> Any:
    if not isinstance(value, dict):
        raise CaseFormatError(path or "case", "expected an object")
    hints = get_type_hints(cls)
    fields = {_camel(f.name): f for f in dataclasses.fields(cls) if f.name not in _SKIPPED_FIELDS}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise CaseFormatError(f"{path}.{unknown[0]}" if path else unknown[0], "unknown field")
    kwargs = {}
    for key, item in value.items():
        field = fields[key]
        kwargs[field.name] = _decode(item, hints[field.name], f"{path}.{key}" if path else key)
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise CaseFormatError(path or "case", f"missing required field ({error})") from None
    except ValueError as error:
        raise CaseFormatError(path or "case", str(error)) from None


def case_from_json(document: Any) -> Case:
    """Build a ``Case`` from its JSON form; raises ``CaseFormatError`` naming the offending field."""
    case: Case = _decode_dataclass(document, Case, "")
    return case


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, PartialDate):
        return str(value)
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if not dataclasses.is_dataclass(value):
        return value
    fields = (f for f in dataclasses.fields(value) if f.name not in _SKIPPED_FIELDS)
    return {_camel(f.name): _encode(getattr(value, f.name)) for f in fields if getattr(value, f.name) is not None}


def case_to_json(case: Case) -> dict[str, Any]:
    """The JSON form of a case (provenance omitted; it belongs to the FHIR data)."""
    encoded: dict[str, Any] = _encode(case)
    return encoded


__all__ = ["CaseFormatError", "case_from_json", "case_to_json"]
