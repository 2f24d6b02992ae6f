"""The shapes terminology is written in: a coded concept, our own CodeSystems and our ValueSets.

The Python tables built from these classes are the single source of truth. The FHIR JSON under
this package is generated from them (``python -m fhir_mappings.terminology.build``), never edited.
"""

from __future__ import annotations

import importlib.metadata
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from fhir_mappings.terminology.systems import canonical_system, code_system_url, value_set_url

PACKAGE_NAME = "neuroblastoma-cds"
PUBLISHER = "nbcds (neuroblastoma-cds project)"


def _package_version() -> str:
    """The project version: pyproject.toml in a source checkout, else the installed metadata."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        if project.get("name") == PACKAGE_NAME and project.get("version"):
            return str(project["version"])
    try:
        return importlib.metadata.version(PACKAGE_NAME)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - neither checkout nor install
        return "0.0.0"


#: Written as ``version`` into every CodeSystem and ValueSet we publish.
TERMINOLOGY_VERSION = _package_version()

CodingKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Code:
    """One concept of one code system, as FHIR ``Coding`` carries it."""

    system: str
    code: str
    display: str

    @property
    def key(self) -> CodingKey:
        """``(system, code)``: the identity of the concept; the display is not part of it."""
        return (self.system, self.code)

    def coding(self) -> dict[str, str]:
        """The FHIR ``Coding`` JSON for this code."""
        return {"system": self.system, "code": self.code, "display": self.display}


class PropertyType(Enum):
    """The ``CodeSystem.property.type`` values we use."""

    CODE = "code"
    CODING = "Coding"
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class PropertyDef:
    code: str
    type: PropertyType
    description: str


PropertyValue = str | int | bool | Code


@dataclass(frozen=True, slots=True)
class Concept:
    """A concept of one of our CodeSystems. ``definition`` cites the published source."""

    code: str
    display: str
    definition: str
    properties: tuple[tuple[str, PropertyValue], ...] = ()


@dataclass(frozen=True)
class LocalCodeSystem:
    """One of our CodeSystems: status active, content complete, case-sensitive codes."""

    name: str
    title: str
    description: str
    concepts: tuple[Concept, ...]
    properties: tuple[PropertyDef, ...] = ()
    _by_code: Mapping[str, Concept] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, Concept] = {}
        for concept in self.concepts:
            if concept.code in by_code:
                raise ValueError(f"duplicate code {concept.code!r} in CodeSystem {self.name}")
            by_code[concept.code] = concept
        declared = {p.code for p in self.properties}
        for concept in self.concepts:
            unknown = {name for name, _ in concept.properties} - declared
            if unknown:
                raise ValueError(f"{self.name}#{concept.code} uses undeclared properties {sorted(unknown)}")
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    @property
    def url(self) -> str:
        return code_system_url(self.name)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def code(self, code: str) -> Code:
        """The ``Code`` for one of this system's concepts; ``KeyError`` if it has no such code."""
        concept = self._by_code[code]
        return Code(self.url, concept.code, concept.display)

    def codes(self) -> tuple[Code, ...]:
        return tuple(Code(self.url, c.code, c.display) for c in self.concepts)


@dataclass(frozen=True)
class ValueSetDef:
    """One of our ValueSets: which codings are accepted for one fact (or written for one result)."""

    name: str
    title: str
    description: str
    members: tuple[Code, ...]

    def __post_init__(self) -> None:
        keys = [m.key for m in self.members]
        if len(keys) != len(set(keys)):
            raise ValueError(f"ValueSet {self.name} lists a coding twice")

    @property
    def url(self) -> str:
        return value_set_url(self.name)

    def keys(self) -> frozenset[CodingKey]:
        return frozenset(m.key for m in self.members)


V = TypeVar("V")


def lookup_table(pairs: Iterable[tuple[Code, V]]) -> Mapping[CodingKey, V]:
    """A read-only ``(system, code) -> value`` table; a coding listed twice must agree."""
    table: dict[CodingKey, V] = {}
    for code, value in pairs:
        if code.key in table and table[code.key] != value:
            raise ValueError(f"{code.key} maps to both {table[code.key]!r} and {value!r}")
        table[code.key] = value
    return MappingProxyType(table)


def first_match(table: Mapping[CodingKey, V], codings: Iterable[object]) -> V | None:
    """The value of the first coding found in ``table``, or None if none is understood.

    ``codings`` holds FHIR ``Coding`` objects (anything with ``system`` and ``code`` attributes)
    or ``(system, code)`` tuples, e.g. ``first_match(METASTATIC_SITE_BY_CODING, concept.coding or [])``. A system
    under the deprecated base is read as the canonical one (``systems.canonical_system``).
    """
    for coding in codings:
        if isinstance(coding, tuple):
            system, code = coding
        else:
            system, code = getattr(coding, "system", None), getattr(coding, "code", None)
        if system and code:
            value = table.get((canonical_system(str(system)), str(code)))
            if value is not None:
                return value
    return None
