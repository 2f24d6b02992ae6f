"""The package's examples: every resource of the example patients' Bundles (``examples/fhir/*.json``), and the
stage and risk Observations the service writes for each, computed now by the live reader, rules and writer.

The hand-written real-world Bundles (``examples/fhir/messy/``) are not examples of the profiles: some are
invalid on purpose. Each example Observation is tied to the one profile its code names (``profile_of``);
the package's tests check there is exactly one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.writing.results_to_fhir import result_resources
from fhir_package.elements import Profile
from neuroblastoma.classification import classify

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples" / "fhir"
#: When the example results were "written": fixed, so that the package is reproducible.
EXAMPLE_RESULTS_AT = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)

Resource = dict[str, Any]


@dataclass(frozen=True)
class ExamplePatient:
    """One example patient: the title its Bundle file is named by, its input resources and its results."""

    name: str
    inputs: tuple[Resource, ...]
    results: tuple[Resource, ...]

    @property
    def resources(self) -> tuple[Resource, ...]:
        return (*self.inputs, *self.results)


def _bundle_resources(path: Path) -> tuple[Resource, ...]:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    return tuple(entry["resource"] for entry in bundle.get("entry", ()) if "resource" in entry)


def _results(name: str, inputs: tuple[Resource, ...]) -> tuple[Resource, ...]:
    """The result Observations the service would offer to record, each given a stable id."""
    reading = read_case(inputs)
    if not reading.has_neuroblastoma:
        return ()
    written = result_resources(classify(reading.case), reading, EXAMPLE_RESULTS_AT)
    return tuple({"id": f"{name}-result-{result.result_id}", **result.resource} for result in written)


def example_patients(directory: Path = EXAMPLES_DIR) -> tuple[ExamplePatient, ...]:
    """Every example patient, by file name."""
    patients = []
    for path in sorted(directory.glob("*.json"), key=lambda path: path.stem):
        inputs = _bundle_resources(path)
        patients.append(ExamplePatient(path.stem, inputs, _results(path.stem, inputs)))
    return tuple(patients)


def coding_keys(resource: Resource) -> frozenset[tuple[str, str]]:
    """``(system, code)`` of every coding of ``Observation.code``."""
    codings = (resource.get("code") or {}).get("coding") or ()
    return frozenset((str(c.get("system")), str(c.get("code"))) for c in codings if isinstance(c, dict))


def profiles_of(resource: Resource, profiles: Iterable[Profile]) -> tuple[Profile, ...]:
    """The profiles an Observation is meant to conform to: those for one of its codes."""
    keys = coding_keys(resource)
    return tuple(p for p in profiles if keys & {c.key for c in p.codes})


def profile_of(resource: Resource, profiles: Iterable[Profile]) -> Profile | None:
    """The one profile an Observation conforms to (None for a Patient, Condition, or an unknown code)."""
    found = profiles_of(resource, profiles) if resource.get("resourceType") == "Observation" else ()
    return found[0] if len(found) == 1 else None
