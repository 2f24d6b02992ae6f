"""Every resource of the package, found from the live tables rather than listed: the terminology's CodeSystems
and ValueSets (the same JSON as ``fhir_mappings/terminology/*.json``), the ValueSets and StructureDefinitions
generated for the profiles, the shell's Questionnaire and CodeSystems, and the examples.

Each example Observation declares, in ``meta.profile``, the one profile its code names (``examples.profile_of``);
the package's tests check that it conforms to that profile's differential (``conformance``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from fhir_mappings.terminology.build import code_system_resource, value_set_resource
from fhir_mappings.terminology.catalogue import LOCAL_CODE_SYSTEMS, VALUE_SETS
from fhir_package.elements import Profile
from fhir_package.examples import ExamplePatient, example_patients, profile_of
from fhir_package.input_profiles import input_profiles
from fhir_package.result_profiles import result_profiles
from fhir_package.shell_resources import shell_code_systems, worksheet_questionnaire

Json = dict[str, Any]


@dataclass(frozen=True)
class PackageResource:
    """One resource of the package, and where it goes: ``package/`` or, for an example, ``package/example/``."""

    resource: Json
    example: bool = False
    patient: str = ""  # the example patient it belongs to

    @property
    def resource_type(self) -> str:
        return str(self.resource["resourceType"])

    @property
    def id(self) -> str:
        return str(self.resource["id"])

    @property
    def key(self) -> str:
        return f"{self.resource_type}/{self.id}"

    @property
    def filename(self) -> str:
        return f"{self.resource_type}-{self.id}.json"

    @property
    def path(self) -> str:
        """The file's path inside the tarball."""
        return f"package/example/{self.filename}" if self.example else f"package/{self.filename}"

    @property
    def url(self) -> str | None:
        url = self.resource.get("url")
        return str(url) if isinstance(url, str) and not self.example else None

    @property
    def title(self) -> str:
        return str(self.resource.get("title") or self.resource.get("name") or self.key)


@dataclass(frozen=True)
class PackageContents:
    code_systems: tuple[PackageResource, ...]
    value_sets: tuple[PackageResource, ...]
    profiles: tuple[Profile, ...]
    questionnaires: tuple[PackageResource, ...]
    patients: tuple[ExamplePatient, ...]

    @property
    def structure_definitions(self) -> tuple[PackageResource, ...]:
        return tuple(PackageResource(profile.resource) for profile in self.profiles)

    @property
    def conformance(self) -> tuple[PackageResource, ...]:
        """The definitions, in the order the package and the site list them."""
        return (*self.code_systems, *self.value_sets, *self.structure_definitions, *self.questionnaires)

    @property
    def examples(self) -> tuple[PackageResource, ...]:
        return tuple(PackageResource(with_profile(resource, profile_of(resource, self.profiles)), True, patient.name)
                     for patient in self.patients for resource in patient.resources)

    @property
    def resources(self) -> tuple[PackageResource, ...]:
        return (*self.conformance, *self.examples)


def with_profile(resource: Json, profile: Profile | None) -> Json:
    """A copy of ``resource`` that declares ``profile`` in ``meta.profile`` (after any it declares already)."""
    if profile is None:
        return resource
    meta = dict(resource.get("meta") or {})
    meta["profile"] = [*(p for p in meta.get("profile", ()) if p != profile.url), profile.url]
    return {**resource, "meta": meta}


@functools.cache
def package_contents() -> PackageContents:
    """Everything the package holds today (cached: the tables do not change within a process)."""
    inputs, generated_value_sets = input_profiles()
    shell = shell_code_systems()
    return PackageContents(
        code_systems=(*(PackageResource(code_system_resource(cs)) for cs in LOCAL_CODE_SYSTEMS),
                      *(PackageResource(cs) for cs in shell)),
        value_sets=tuple(PackageResource(value_set_resource(vs)) for vs in (*VALUE_SETS, *generated_value_sets)),
        profiles=(*inputs, *result_profiles()),
        questionnaires=(PackageResource(worksheet_questionnaire()),),
        patients=example_patients(),
    )
