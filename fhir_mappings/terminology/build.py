"""Generate the FHIR CodeSystem and ValueSet JSON from the Python tables, so the two cannot drift.

    python -m fhir_mappings.terminology.build          # (re)write the JSON next to this module
    python -m fhir_mappings.terminology.build --check  # exit 1 if the committed JSON is out of date

The JSON is committed and shipped as package data; a test fails when it is not up to date.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fhir_mappings.terminology.catalogue import LOCAL_CODE_SYSTEMS, VALUE_SETS
from fhir_mappings.terminology.model import (
    PUBLISHER,
    TERMINOLOGY_VERSION,
    Code,
    Concept,
    LocalCodeSystem,
    PropertyValue,
    ValueSetDef,
)

JSON_DIR = Path(__file__).resolve().parent
_GENERATED_GLOBS = ("CodeSystem-*.json", "ValueSet-*.json")

Json = dict[str, Any]


def computable_name(name: str) -> str:
    """``inrg-2009-risk`` -> ``Inrg2009Risk`` (FHIR ``name`` should be a computable identifier)."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _property_value(value: PropertyValue, type_code: str) -> Json:
    if isinstance(value, Code):
        return {"valueCoding": value.coding()}
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    return {"valueCode" if type_code == "code" else "valueString": value}


def _concept(concept: Concept, types: dict[str, str]) -> Json:
    out: Json = {"code": concept.code, "display": concept.display, "definition": concept.definition}
    if concept.properties:
        out["property"] = [
            {"code": name, **_property_value(value, types[name])} for name, value in concept.properties
        ]
    return out


def code_system_resource(cs: LocalCodeSystem) -> Json:
    """The FHIR R4 CodeSystem for one of our code systems."""
    types = {p.code: p.type.value for p in cs.properties}
    resource: Json = {
        "resourceType": "CodeSystem",
        "id": cs.name,
        "url": cs.url,
        "version": TERMINOLOGY_VERSION,
        "name": computable_name(cs.name),
        "title": cs.title,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": cs.description,
        "caseSensitive": True,
        "content": "complete",
        "count": len(cs.concepts),
    }
    if cs.properties:
        resource["property"] = [
            {"code": p.code, "description": p.description, "type": p.type.value} for p in cs.properties
        ]
    resource["concept"] = [_concept(c, types) for c in cs.concepts]
    return resource


def _includes(members: Iterable[Code]) -> list[Json]:
    """Group members by system, in first-seen order, as ``compose.include`` entries."""
    by_system: dict[str, list[Json]] = {}
    for m in members:
        by_system.setdefault(m.system, []).append({"code": m.code, "display": m.display})
    return [{"system": system, "concept": concepts} for system, concepts in by_system.items()]


def value_set_resource(value_set: ValueSetDef) -> Json:
    """The FHIR R4 ValueSet (composition only; no expansion) for one of our value sets."""
    return {
        "resourceType": "ValueSet",
        "id": value_set.name,
        "url": value_set.url,
        "version": TERMINOLOGY_VERSION,
        "name": computable_name(value_set.name),
        "title": value_set.title,
        "status": "active",
        "experimental": False,
        "publisher": PUBLISHER,
        "description": value_set.description,
        "compose": {"include": _includes(value_set.members)},
    }


def generated_files() -> dict[str, str]:
    """File name -> JSON text for every resource we publish."""
    files: dict[str, str] = {}
    for cs in LOCAL_CODE_SYSTEMS:
        files[f"CodeSystem-{cs.name}.json"] = _dumps(code_system_resource(cs))
    for value_set in VALUE_SETS:
        files[f"ValueSet-{value_set.name}.json"] = _dumps(value_set_resource(value_set))
    return files


def _dumps(resource: Json) -> str:
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def stale_files(directory: Path = JSON_DIR) -> list[str]:
    """Names of generated files that are missing, differ, or should no longer exist."""
    expected = generated_files()
    present = {p.name for glob in _GENERATED_GLOBS for p in directory.glob(glob)}
    stale = [name for name in sorted(present - expected.keys())]
    for name, text in expected.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return sorted(stale)


def write(directory: Path = JSON_DIR) -> list[str]:
    """Write every resource, remove ones no longer generated; returns the names changed."""
    expected = generated_files()
    changed = stale_files(directory)
    for glob in _GENERATED_GLOBS:
        for path in directory.glob(glob):
            if path.name not in expected:
                path.unlink()
    for name, text in expected.items():
        (directory / name).write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fhir_mappings.terminology.build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report out-of-date files; exit 1 if any")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"out of date: {name}", file=sys.stderr)
        return 1 if stale else 0
    changed = write()
    print(f"{len(generated_files())} resources in {JSON_DIR}; {len(changed)} changed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
