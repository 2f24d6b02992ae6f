"""The package holds together: every example Observation declares the one profile its code names and conforms
to that profile's differential; every code under our base is defined by one of the package's CodeSystems; every
ValueSet, profile and base a resource names is in the package or one of its dependencies."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from fhir_mappings.terminology.model import CodingKey
from fhir_mappings.terminology.systems import NBCDS_FHIR_BASE, is_ours
from fhir_package.conformance import Checker
from fhir_package.contents import PackageContents, PackageResource, package_contents
from fhir_package.examples import profile_of, profiles_of
from fhir_package.identity import NBCDS_PACKAGE_DEPENDENCY_CANONICALS

Json = dict[str, Any]
#: Canonicals a resource may name outside the package: FHIR R4 itself and the dependencies.
OUTSIDE = ("http://hl7.org/fhir/StructureDefinition/", "http://hl7.org/fhir/ValueSet/",
           *(f"{canonical}/" for canonical in NBCDS_PACKAGE_DEPENDENCY_CANONICALS.values()))


@pytest.fixture(scope="module")
def contents() -> PackageContents:
    return package_contents()


@pytest.fixture(scope="module")
def value_sets(contents: PackageContents) -> dict[str, frozenset[CodingKey]]:
    return {str(item.url): frozenset((include["system"], concept["code"])
                                     for include in item.resource["compose"]["include"]
                                     for concept in include.get("concept", ()))
            for item in contents.value_sets}


@pytest.fixture(scope="module")
def checkers(contents: PackageContents, value_sets: dict[str, frozenset[CodingKey]]) -> dict[str, Checker]:
    return {profile.url: Checker(profile.resource, value_sets) for profile in contents.profiles}


def _observations(contents: PackageContents) -> list[PackageResource]:
    return [item for item in contents.examples if item.resource_type == "Observation"]


def test_every_example_observation_declares_exactly_one_of_our_profiles(contents: PackageContents) -> None:
    for item in _observations(contents):
        assert len(profiles_of(item.resource, contents.profiles)) == 1, item.key
        ours = [url for url in item.resource["meta"]["profile"] if url.startswith(NBCDS_FHIR_BASE)]
        assert ours == [profile_of(item.resource, contents.profiles).url], item.key  # type: ignore[union-attr]


def test_every_example_observation_conforms_to_its_profile(contents: PackageContents,
                                                            checkers: dict[str, Checker]) -> None:
    problems = {}
    for item in _observations(contents):
        [url] = [url for url in item.resource["meta"]["profile"] if url in checkers]
        problems[item.key] = checkers[url].problems(item.resource)
    assert not {key: found for key, found in problems.items() if found}
    assert len(problems) > 500


def test_the_examples_illustrate_the_profiles(contents: PackageContents) -> None:
    """Every stage and risk result with codes of its own, and most input kinds, have an example held to their
    profile (the site's package page counts the examples of each profile)."""
    illustrated = {profile.id for item in _observations(contents)
                   if (profile := profile_of(item.resource, contents.profiles)) is not None}
    results = {p.id for p in contents.profiles if p.role == "result"} - {"risk-group"}
    inputs = {p.id for p in contents.profiles if p.role == "input"}
    assert results <= illustrated
    assert len(inputs & illustrated) >= 0.75 * len(inputs)


def _example(contents: PackageContents, profile_id: str, needs: str) -> Json:
    """The first example of a profile that has the element ``needs``."""
    return copy.deepcopy(next(
        item.resource for item in _observations(contents)
        if (profile := profile_of(item.resource, contents.profiles)) and profile.id == profile_id
        and needs in item.resource))


@pytest.mark.parametrize(("profile_id", "needs", "change", "expected"), [
    ("observation-idrf-summary", "valueCodeableConcept",
     lambda r: r.update(valueQuantity={"value": 1}, valueCodeableConcept=None) or r.pop("valueCodeableConcept"),
     "valueQuantity is not one of"),
    ("observation-idrf-summary", "valueCodeableConcept", lambda r: r.update(valueBoolean=True), "value[x] twice"),
    ("observation-histologic-category", "valueCodeableConcept",
     lambda r: [coding.update(code="nope") for coding in r["valueCodeableConcept"]["coding"]], "no coding from"),
    ("inrgss-stage", "status", lambda r: r.update(status="amended"), "nbcds-result-status"),
    ("inrgss-stage", "method", lambda r: r.pop("method"), "Observation.method: missing"),
    ("inrgss-stage", "focus", lambda r: r["focus"].append(r["focus"][0]), "Observation.focus: more than one"),
    ("inrg2009-risk-group", "component", lambda r: r["component"].append(copy.deepcopy(r["component"][0])),
     "at most 1"),
    ("inrg2009-risk-group", "component",
     lambda r: r["component"][0]["valueCodeableConcept"]["coding"][0].update(code="x"), "no coding from"),
    ("observation-primary-tumour-site", "code", lambda r: r["code"]["coding"][0].update(code="x"), "does not carry"),
])
def test_the_checker_sees_what_breaks_a_profile(contents: PackageContents, checkers: dict[str, Checker],
                                                profile_id: str, needs: str, change: Any, expected: str) -> None:
    resource = _example(contents, profile_id, needs)
    checker = next(checkers[p.url] for p in contents.profiles if p.id == profile_id)
    assert checker.problems(resource) == []
    change(resource)
    assert any(expected in problem for problem in checker.problems(resource)), checker.problems(resource)


def _codings(value: Any) -> Iterator[Json]:
    if isinstance(value, dict):
        if isinstance(value.get("system"), str) and isinstance(value.get("code"), str):
            yield value
        for child in value.values():
            yield from _codings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _codings(child)


def test_every_code_under_our_base_is_defined_by_a_code_system_of_the_package(contents: PackageContents) -> None:
    defined = {(item.url, concept["code"]) for item in contents.code_systems
               for concept in item.resource["concept"]}
    undefined = {(item.key, coding["system"], coding["code"]) for item in contents.resources
                 if item.resource_type != "CodeSystem" for coding in _codings(item.resource)
                 if is_ours(coding["system"]) and (coding["system"], coding["code"]) not in defined}
    assert not undefined


def _canonicals(value: Any, key: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for k, child in value.items():
            yield from _canonicals(child, k)
    elif isinstance(value, list):
        for child in value:
            yield from _canonicals(child, key)
    elif key in ("valueSet", "baseDefinition", "targetProfile", "profile") and isinstance(value, str):
        yield value


def test_every_canonical_named_is_in_the_package_or_a_dependency(contents: PackageContents) -> None:
    published = {item.url for item in contents.conformance}
    dangling = {(item.key, url) for item in contents.resources for url in _canonicals(item.resource)
                if url not in published and not url.startswith(OUTSIDE)}
    assert not dangling
