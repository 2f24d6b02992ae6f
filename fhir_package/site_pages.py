"""A Markdown page for every resource of the package, for the documentation site (``site_build``).

A definition's page sits where its canonical URL points (``<base>/CodeSystem/idrf`` is ``fhir/CodeSystem/idrf``
on the site, ``NBCDS_FHIR_BASE`` being the site's ``fhir`` folder), with its JSON beside it
(``fhir/CodeSystem/idrf.json``). The examples get one page per example patient (``fhir/example/<patient>``) with
a section per resource, anchored ``<Type>-<id>``. Pages link to each other wherever one resource names another.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Iterator
from typing import Any

from fhir_package.contents import PackageContents, PackageResource
from fhir_package.examples import ExamplePatient, profile_of
from fhir_package.identity import (
    NBCDS_PACKAGE_CANONICAL,
    NBCDS_PACKAGE_DEPENDENCIES,
    NBCDS_PACKAGE_DESCRIPTION,
    NBCDS_PACKAGE_ID,
    NBCDS_PACKAGE_TITLE,
    NBCDS_PACKAGE_VERSION,
)

Json = dict[str, Any]
#: Where the FHIR pages live in the site (the canonical base's last path segment).
FHIR_FOLDER = NBCDS_PACKAGE_CANONICAL.rstrip("/").rpartition("/")[2]


def cell(text: object) -> str:
    """Text safe in a Markdown table cell: no markup, no pipe, one line."""
    escaped = html.escape(str(text), quote=False).replace("|", "&#124;").replace("\n", " ")
    for mark in ("\\", "`", "*", "_", "[", "]"):
        escaped = escaped.replace(mark, f"\\{mark}")
    return escaped


def page_path(item: PackageResource) -> str:
    """The page of a resource, relative to the docs folder (``fhir/CodeSystem/idrf.md``)."""
    if item.example:
        return f"{FHIR_FOLDER}/example/{item.patient}.md"
    return f"{FHIR_FOLDER}/{item.resource_type}/{item.id}.md"


def anchor(item: PackageResource) -> str:
    return f"{item.resource_type}-{item.id}"


class Linker:
    """Links from one page to the page of any resource of the package, found by canonical URL or Type/id."""

    def __init__(self, contents: PackageContents) -> None:
        self.by_url = {item.url: item for item in contents.conformance if item.url}
        self.by_key = {item.key: item for item in contents.examples}

    @staticmethod
    def relative(source: str, target: str) -> str:
        up = "../" * source.count("/")
        return f"{up}{target}"

    def canonical(self, url: str, source: str) -> str:
        """``url`` as a link: to its page when it is in the package, else to the URL itself."""
        target = self.by_url.get(url.partition("|")[0])
        if target is None:
            return f"[{cell(url)}]({url})" if url.startswith("http") else f"`{url}`"
        return f"[{cell(target.title)}]({self.relative(source, page_path(target))})"

    def reference(self, reference: str, source: str) -> str:
        target = self.by_key.get(reference)
        if target is None:
            return f"`{reference}`"
        return f"[{cell(reference)}]({self.relative(source, page_path(target))}#{anchor(target)})"


def _json_block(resource: Json) -> list[str]:
    return ["```json", json.dumps(resource, indent=2, ensure_ascii=False), "```", ""]


def _header(item: PackageResource, linker: Linker) -> list[str]:
    resource, source = item.resource, page_path(item)
    rows = [("Canonical URL", f"`{item.url}`"), ("Version", cell(resource.get("version", ""))),
            ("Status", cell(resource.get("status", ""))),
            ("JSON", f"[{item.filename}]({item.id}.json) (also in the [package](../index.md))")]
    if "baseDefinition" in resource:
        rows.insert(1, ("Derived from", linker.canonical(resource["baseDefinition"], source)))
    lines = [f"# {cell(item.title)}", "", f"*{item.resource_type}* `{item.id}`", "", "| | |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows]
    return [*lines, "", cell(resource.get("description", "")), ""]


def _code_system(item: PackageResource, linker: Linker) -> list[str]:
    lines = ["## Concepts", "", "| Code | Display | Definition |", "|---|---|---|"]
    lines += [f"| `{c['code']}` | {cell(c.get('display', ''))} | {cell(c.get('definition', ''))} |"
              for c in item.resource.get("concept", ())]
    return [*lines, ""]


def _value_set(item: PackageResource, linker: Linker) -> list[str]:
    lines = ["## Codes", "", "| System | Code | Display |", "|---|---|---|"]
    for include in item.resource["compose"]["include"]:
        system = linker.canonical(include["system"], page_path(item))
        lines += [f"| {system} | `{c['code']}` | {cell(c.get('display', ''))} |" for c in include.get("concept", ())]
    return [*lines, ""]


def _element_rule(element: Json, linker: Linker, source: str) -> str:
    rules = []
    if "min" in element and "max" in element:
        rules.append(f"{element['min']}..{element['max']}")
    elif "min" in element or "max" in element:
        rules.append(f"min {element['min']}" if "min" in element else f"max {element['max']}")
    if "patternCodeableConcept" in element:
        codings = element["patternCodeableConcept"]["coding"]
        rules.append("fixed " + ", ".join(f"{linker.canonical(c['system'], source)} `{c['code']}`" for c in codings))
    for type_ in element.get("type", ()):
        targets = ", ".join(linker.canonical(t, source) for t in type_.get("targetProfile", ()))
        rules.append(f"{type_['code']}({targets})" if targets else type_["code"])
    if "binding" in element:
        rules.append(f"{element['binding']['strength']}: {linker.canonical(element['binding']['valueSet'], source)}")
    rules += [f"invariant `{c['key']}`: {cell(c['human'])}" for c in element.get("constraint", ())]
    return "; ".join(rules)


def _structure_definition(item: PackageResource, linker: Linker) -> list[str]:
    lines = ["## Differential", "", "| Element | Constraint | Description |", "|---|---|---|"]
    for element in item.resource["differential"]["element"]:
        rule = _element_rule(element, linker, page_path(item))
        lines.append(f"| `{element['id']}` | {rule} | {cell(element.get('short', ''))} |")
    return [*lines, ""]


def _items(items: Iterable[Json], depth: int = 0) -> Iterator[str]:
    for item in items:
        systems = sorted({o["valueCoding"]["system"] for o in item.get("answerOption", ()) if "valueCoding" in o})
        answers = ", ".join(f"`{o['valueCoding']['code']}`" for o in item.get("answerOption", ()) if "valueCoding" in o)
        yield (f"| {'&nbsp;' * 4 * depth}`{item['linkId']}` | {cell(item.get('text', ''))} | {item['type']} | "
               f"{answers}{' (' + ', '.join(f'`{s}`' for s in systems) + ')' if systems else ''} |")
        yield from _items(item.get("item", ()), depth + 1)


def _questionnaire(item: PackageResource, linker: Linker) -> list[str]:
    lines = ["## Items", "", "| linkId | Text | Type | Answers |", "|---|---|---|---|"]
    return [*lines, *_items(item.resource["item"]), ""]


_BODY = {"CodeSystem": _code_system, "ValueSet": _value_set, "StructureDefinition": _structure_definition,
         "Questionnaire": _questionnaire}


def definition_page(item: PackageResource, linker: Linker) -> str:
    """The page of a CodeSystem, ValueSet, StructureDefinition or Questionnaire."""
    body = _BODY[item.resource_type](item, linker)
    return "\n".join([*_header(item, linker), *body, "## JSON", "", *_json_block(item.resource)])


def _summary(resource: Json) -> str:
    code = resource.get("code") or {}
    name = code.get("text") or next((c.get("display") for c in code.get("coding", ()) if c.get("display")), "")
    value = resource.get("valueCodeableConcept") or {}
    shown = (value.get("text") or next((c.get("display") for c in value.get("coding", ()) if c.get("display")), None)
             or resource.get("valueBoolean") or (resource.get("valueQuantity") or {}).get("value"))
    return f"{cell(name)}: {cell(shown)}" if name and shown is not None else cell(name)


def example_page(patient: ExamplePatient, contents: PackageContents, linker: Linker) -> str:
    """One example patient: a table of what the service reads and what it writes, then each resource's JSON."""
    by_key = {item.key: item for item in contents.examples if item.patient == patient.name}
    source = f"{FHIR_FOLDER}/example/{patient.name}.md"
    lines = [f"# Example patient {cell(patient.name)}", "",
             f"{len(patient.inputs)} resources the service reads (from `examples/fhir/{patient.name}.json`) and the "
             f"{len(patient.results)} result Observations it writes for them.", ""]
    groups = (("Input resources", patient.inputs), ("Results the service writes", patient.results))
    for heading, resources in groups:
        lines += [f"## {heading}", "", "| Resource | What it says | Profile |", "|---|---|---|"]
        for resource in resources:
            item = by_key[f"{resource['resourceType']}/{resource['id']}"]
            profile = profile_of(item.resource, contents.profiles)
            lines.append(f"| [{cell(item.key)}](#{anchor(item)}) | {_summary(resource)} | "
                         f"{linker.canonical(profile.url, source) if profile else ''} |")
        lines.append("")
    lines += ["## The resources", ""]
    for _, resources in groups:
        for resource in resources:
            item = by_key[f"{resource['resourceType']}/{resource['id']}"]
            lines += [f'<a id="{anchor(item)}"></a>', "", f"### {cell(item.key)}", "", *_json_block(item.resource)]
    return "\n".join(lines)


def _table(items: Iterable[PackageResource], linker: Linker, examples: dict[str, int] | None = None) -> list[str]:
    """A table of definitions; for profiles, with the number of examples that conform to each."""
    counted = examples is not None
    lines = ["| Resource | id | Description |" + (" Examples |" if counted else ""),
             "|---|---|---|" + ("---|" if counted else "")]
    for item in items:
        description = str(item.resource.get("description", ""))
        short = description if len(description) <= 160 else description[:157].rsplit(" ", 1)[0] + " ..."
        count = f" {(examples or {}).get(str(item.url), 0)} |" if counted else ""
        lines.append(f"| {linker.canonical(str(item.url), f'{FHIR_FOLDER}/index.md')} | `{item.id}` | {cell(short)} |"
                     f"{count}")
    return [*lines, ""]


def index_page(contents: PackageContents, linker: Linker) -> str:
    """The package's home: who it is, how to get it, and every resource."""
    inputs = [PackageResource(p.resource) for p in contents.profiles if p.role == "input"]
    results = [PackageResource(p.resource) for p in contents.profiles if p.role == "result"]
    dependencies = ", ".join(f"`{name}#{version}`" for name, version in NBCDS_PACKAGE_DEPENDENCIES.items())
    lines = [f"# {cell(NBCDS_PACKAGE_TITLE)}", "", cell(NBCDS_PACKAGE_DESCRIPTION), "", "| | |", "|---|---|",
             f"| Package | `{NBCDS_PACKAGE_ID}#{NBCDS_PACKAGE_VERSION}`: [package.tgz](package.tgz) |",
             f"| Canonical base | `{NBCDS_PACKAGE_CANONICAL}` |", "| FHIR version | 4.0.1 (R4) |",
             f"| Depends on | {dependencies} |", "",
             "How the package is built and published, and the deprecated base still read: "
             "[the FHIR package](../fhir-package.md). How to send data: [the implementation guide]"
             "(../implementation-guide.md).", ""]
    sections = (("Profiles of the results the service writes", results),
                ("Profiles of the Observations the service reads", inputs),
                ("Questionnaire", contents.questionnaires), ("CodeSystems", contents.code_systems),
                ("ValueSets", contents.value_sets))
    examples: dict[str, int] = {}
    for item in contents.examples:
        if (profile := profile_of(item.resource, contents.profiles)) is not None:
            examples[profile.url] = examples.get(profile.url, 0) + 1
    for heading, items in sections:
        counts = examples if heading.startswith("Profiles") else None
        lines += [f"## {heading}", "", *_table(items, linker, counts)]
    lines += ["## Example patients", "", "| Patient | Resources read | Results written |", "|---|---|---|"]
    lines += [f"| [{cell(patient.name)}](example/{patient.name}.md) | {len(patient.inputs)} | {len(patient.results)} |"
              for patient in contents.patients]
    return "\n".join([*lines, ""])


def fhir_pages(contents: PackageContents) -> dict[str, str]:
    """Path relative to the docs folder -> Markdown, for every page of the package."""
    linker = Linker(contents)
    pages = {page_path(item): definition_page(item, linker) for item in contents.conformance}
    pages |= {f"{FHIR_FOLDER}/example/{p.name}.md": example_page(p, contents, linker) for p in contents.patients}
    pages[f"{FHIR_FOLDER}/index.md"] = index_page(contents, linker)
    return pages
