"""The pieces of a StructureDefinition: the resource around a differential, and the ElementDefinitions our
profiles use (a fixed code, a type with its binding, a component slice, a reference target, an invariant).

Profiles are published differential-only (no snapshot), as FHIR packages commonly are: a validator or the IG
Publisher generates the snapshot from the base definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fhir_mappings.terminology.build import computable_name
from fhir_mappings.terminology.model import PUBLISHER, Code, ValueSetDef
from fhir_package.identity import NBCDS_PACKAGE_FHIR_VERSION, NBCDS_PACKAGE_VERSION, canonical

Json = dict[str, Any]
OBSERVATION = "http://hl7.org/fhir/StructureDefinition/Observation"
CONDITION = "http://hl7.org/fhir/StructureDefinition/Condition"


@dataclass(frozen=True)
class Profile:
    """A generated profile: its StructureDefinition and the Observation codes it is for (every Observation
    whose code carries one of these codings is meant to conform to it)."""

    resource: Json
    codes: tuple[Code, ...]
    role: str  # "input" (an Observation the service reads) or "result" (one it writes)

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def url(self) -> str:
        return str(self.resource["url"])

    @property
    def title(self) -> str:
        return str(self.resource["title"])


def structure_definition(profile_id: str, title: str, description: str, base: str, elements: list[Json]) -> Json:
    """A constraint profile on Observation, differential only."""
    return {
        "resourceType": "StructureDefinition",
        "id": profile_id,
        "url": canonical("StructureDefinition", profile_id),
        "version": NBCDS_PACKAGE_VERSION,
        "name": computable_name(profile_id),
        "title": title,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": description,
        "fhirVersion": NBCDS_PACKAGE_FHIR_VERSION,
        "kind": "resource",
        "abstract": False,
        "type": "Observation",
        "baseDefinition": base,
        "derivation": "constraint",
        "differential": {"element": elements},
    }


def element(path: str, element_id: str | None = None, **content: Any) -> Json:
    """One ElementDefinition; ``element_id`` defaults to the path (it differs inside a slice)."""
    given = {key: value for key, value in content.items() if value is not None}
    return {"id": element_id or path, "path": path, **given}


def root(short: str, definition: str, constraint: list[Json] | None = None) -> Json:
    return element("Observation", short=short, definition=definition, constraint=constraint)


def concept_pattern(*codes: Code) -> Json:
    """A CodeableConcept pattern: system and code only (a display that differs must not make it fail)."""
    return {"coding": [{"system": code.system, "code": code.code} for code in codes]}


def binding(value_set: ValueSetDef, strength: str) -> Json:
    return {"strength": strength, "description": value_set.title, "valueSet": value_set.url}


def fixed_code(path: str, codes: tuple[Code, ...], value_set: ValueSetDef | None, short: str,
               element_id: str | None = None) -> Json:
    """``code`` fixed to its one coding (a pattern: other codings may stand beside it), or bound (required) to
    the ValueSet of its codings when there are several (e.g. ours and LOINC's for the same fact)."""
    if len(codes) == 1 or value_set is None:
        return element(path, element_id, short=short, patternCodeableConcept=concept_pattern(*codes[:1]))
    return element(path, element_id, short=short, binding=binding(value_set, "required"))


def typed_value(path: str, types: tuple[str, ...], value_set: ValueSetDef | None, short: str,
                element_id: str | None = None, strength: str = "required") -> Json:
    """``value[x]`` limited to ``types``, its codes bound to ``value_set``."""
    return element(path, element_id, short=short, type=[{"code": t} for t in types],
                   binding=binding(value_set, strength) if value_set is not None else None)


def component_slicing() -> Json:
    """Components told apart by their code (a pattern); others are allowed (open)."""
    return element("Observation.component", slicing={
        "discriminator": [{"type": "pattern", "path": "code"}], "ordered": False, "rules": "open"})


def component_slice(name: str, code: Code, types: tuple[str, ...], value_set: ValueSetDef | None,
                    value_short: str) -> list[Json]:
    """A 0..1 component slice: its code fixed, its value's types and binding."""
    slice_id = f"Observation.component:{name}"
    return [
        element("Observation.component", slice_id, sliceName=name, short=code.display, min=0, max="1"),
        element("Observation.component.code", f"{slice_id}.code", patternCodeableConcept=concept_pattern(code)),
        typed_value("Observation.component.value[x]", types, value_set, value_short, f"{slice_id}.value[x]"),
    ]


def reference(path: str, target: str, short: str, min_count: int | None = None, max_count: str | None = None) -> Json:
    return element(path, short=short, min=min_count, max=max_count,
                   type=[{"code": "Reference", "targetProfile": [target]}])


def invariant(key: str, human: str, expression: str) -> Json:
    return {"key": key, "severity": "error", "human": human, "expression": expression}
