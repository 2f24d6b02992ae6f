"""Create or update: a result of ours already on record that differs is updated by a JSON Patch.

The patch is applied to the record as it is (keeping its id, meta and unrelated fields) and is
exposed so the card can show what changes. An identical result on record needs no action.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonpatch

from fhir_mappings.reading.values import codings, parse_fhir_datetime
from fhir_mappings.results_codes import GENERIC_RISK_CODING

# The fields our result Observations set; everything else on a record is left as it is.
RESULT_FIELDS = ("status", "code", "subject", "focus", "method", "valueCodeableConcept", "dataAbsentReason",
                 "component", "derivedFrom", "note")
_TIMESTAMP = "effectiveDateTime"
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class ResultAction:
    kind: str  # "create" | "update" | "unchanged"
    resource: dict[str, Any]
    patch: tuple[dict[str, Any], ...] = ()
    previous: dict[str, Any] | None = None


def _owned(resource: dict[str, Any]) -> dict[str, Any]:
    return {key: resource[key] for key in RESULT_FIELDS if key in resource}


def _same_result(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal apart from status: a result a clinician has made final is not re-suggested."""
    def without_status(resource: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in _owned(resource).items() if k != "status"}

    return without_status(a) == without_status(b)


def _kind(resource: dict[str, Any]) -> tuple[tuple[str, str], str | None]:
    """What a result records: its code, and under the generic result code (a schema without codes of its
    own) the schema its method text names ("Toy 2030 (Source), nbcds rule set ...")."""
    code = codings(resource.get("code"))[0]
    if code != GENERIC_RISK_CODING.code.key:
        return code, None
    method = resource.get("method")
    text = method.get("text") if isinstance(method, dict) else None
    return code, text.split(" (", 1)[0] if isinstance(text, str) else ""


def _latest_of_kind(existing: tuple[dict[str, Any], ...], kind: tuple[tuple[str, str], str | None]
                    ) -> dict[str, Any] | None:
    same = [r for r in existing if r.get("id") and codings(r.get("code")) and _kind(r) == kind]
    if not same:
        return None
    return max(same, key=lambda r: parse_fhir_datetime(r.get(_TIMESTAMP)) or _EPOCH)


def plan_result(new: dict[str, Any], existing: tuple[dict[str, Any], ...]) -> ResultAction:
    """create when nothing of ours is on record; update (by JSON Patch) when it differs; else unchanged."""
    current = _latest_of_kind(existing, _kind(new))
    if current is None:
        return ResultAction("create", new)
    target = copy.deepcopy(current)
    for key in RESULT_FIELDS:
        target.pop(key, None)
    target.update(_owned(new))
    if _same_result(target, current):
        return ResultAction("unchanged", current, previous=current)
    target[_TIMESTAMP] = new[_TIMESTAMP]
    patch = jsonpatch.make_patch(current, target)
    updated = patch.apply(current)
    return ResultAction("update", updated, tuple(patch.patch), previous=current)
