"""Does a resource meet what our profiles' differentials say? A small checker for exactly the constraints the
generators write (``elements``): a code pattern, a required binding to one of the package's ValueSets, the
types of ``value[x]``, cardinalities, component slices by their code, and the result-status invariant.

Not a FHIR validator (no snapshot, no FHIRPath engine, no terminology server): the HL7 validator cannot be
installed here. It is what lets the tests hold every example of the package to the profile it declares, and
it fails loudly on an element it does not understand, so a new kind of constraint needs a rule here first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_mappings.terminology.model import CodingKey

Json = dict[str, Any]
_STATUS_INVARIANT = "nbcds-result-status"
_NOT_CHECKED = frozenset({"id", "path", "short", "definition", "slicing", "sliceName"})


def _codings(concept: Any) -> set[CodingKey]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return {(str(c.get("system")), str(c.get("code"))) for c in codings or () if isinstance(c, dict)}


def _value_keys(element: Json) -> list[str]:
    return [key for key in element if key.startswith("value") and key != "value"]


def _type_key(type_code: str) -> str:
    return f"value{type_code[:1].upper()}{type_code[1:]}"


class Checker:
    """Checks resources against one profile, knowing the members of the package's ValueSets by URL."""

    def __init__(self, profile: Json, value_sets: Mapping[str, frozenset[CodingKey]]) -> None:
        self.profile = profile
        self.value_sets = value_sets

    def problems(self, resource: Json) -> list[str]:
        found: list[str] = []
        for element in self.profile["differential"]["element"]:
            unknown = set(element) - _NOT_CHECKED - {"patternCodeableConcept", "binding", "type", "min", "max",
                                                      "constraint"}
            if unknown:
                raise ValueError(f"{element['id']}: no rule for {sorted(unknown)}")
            for target in self._targets(element, resource):
                found += [f"{element['id']}: {problem}" for problem in self._check(element, target, resource)]
        return found

    def _targets(self, element: Json, resource: Json) -> list[Any]:
        """What an element constrains in ``resource``: the element itself, or each component of a slice."""
        slice_name, _, rest = element["id"].partition(":")[2].partition(".")
        if element["id"] == "Observation":
            return [resource]
        if not slice_name:
            return [resource.get(element["path"].removeprefix("Observation.").removesuffix("[x]"), resource)]
        components = [c for c in resource.get("component", ()) if self._in_slice(slice_name, c)]
        if not rest:  # the slice's cardinality
            return [components]
        return components if rest.startswith("value") else [c.get(rest) for c in components]

    def _in_slice(self, slice_name: str, component: Json) -> bool:
        pattern = next(e["patternCodeableConcept"] for e in self.profile["differential"]["element"]
                       if e["id"] == f"Observation.component:{slice_name}.code")
        return _codings(pattern) <= _codings(component.get("code"))

    def _check(self, element: Json, target: Any, resource: Json) -> list[str]:
        path = element["path"]
        if path == "Observation":
            return self._invariants(element, resource)
        if path == "Observation.component" and "sliceName" in element:
            too_many = element.get("max") == "1" and len(target) > 1
            return [f"{len(target)} components, at most 1"] if too_many else []
        if path.endswith("value[x]"):
            return self._value(element, target)
        value = target if target is not resource else None
        problems = []
        if element.get("min", 0) >= 1 and not value:
            problems.append("missing")
        if element.get("max") == "1" and isinstance(value, list) and len(value) > 1:
            problems.append("more than one")
        if value and "patternCodeableConcept" in element and not (
                _codings(element["patternCodeableConcept"]) <= _codings(value)):
            problems.append(f"does not carry {sorted(_codings(element['patternCodeableConcept']))}")
        if value and isinstance(value, dict):
            problems += self._binding(element, value)
        return problems

    def _value(self, element: Json, holder: Json) -> list[str]:
        keys = _value_keys(holder)
        if len(keys) != 1:
            return [f"value[x] twice: {keys}"] if keys else []
        key = keys[0]
        allowed = {_type_key(t["code"]) for t in element.get("type", ())}
        if allowed and key not in allowed:
            return [f"{key} is not one of {sorted(allowed)}"]
        return self._binding(element, holder[key]) if key == "valueCodeableConcept" else []

    def _binding(self, element: Json, concept: Json) -> list[str]:
        binding = element.get("binding") or {}
        members = self.value_sets.get(str(binding.get("valueSet")))
        if binding.get("strength") != "required" or members is None:
            return []  # extensible or preferred bindings, and ValueSets of other packages, are not checked
        return [] if _codings(concept) & members else [f"no coding from {binding['valueSet']}"]

    @staticmethod
    def _invariants(element: Json, resource: Json) -> list[str]:
        problems = []
        for constraint in element.get("constraint", ()):
            if constraint["key"] != _STATUS_INVARIANT:
                raise ValueError(f"no rule for the invariant {constraint['key']}")
            if resource.get("status") not in ("preliminary", "final"):
                problems.append(f"{_STATUS_INVARIANT}: status {resource.get('status')!r}")
        return problems
