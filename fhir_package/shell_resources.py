"""What the shell publishes beside the terminology: the IDRF worksheet Questionnaire, and a CodeSystem for every
system under our base that the shell writes but no terminology table defines (the worksheet's own answers,
the cards' topic).

The Questionnaire is the one the SMART app serves (``cds_service/app/questionnaire.py``) with its canonical URL
in the package (``<base>/Questionnaire/idrf-worksheet``; the service serves the same items at
``/app/Questionnaire/idrf-worksheet`` under its own address). The shell's CodeSystems are found, not listed:
every answer Coding of the Questionnaire and the cards' ``source.topic`` whose system is ours and not a
terminology CodeSystem becomes a CodeSystem of exactly the codes written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from cds_service.app.questionnaire import QUESTIONNAIRE_ID, questionnaire
from cds_service.services.cards.card_json import SOURCE_TOPIC
from fhir_mappings.terminology.build import computable_name
from fhir_mappings.terminology.catalogue import LOCAL_CODE_SYSTEMS
from fhir_mappings.terminology.model import PUBLISHER
from fhir_mappings.terminology.systems import NBCDS_CODE_SYSTEM_BASE, is_ours
from fhir_package.identity import NBCDS_PACKAGE_CANONICAL, NBCDS_PACKAGE_VERSION, canonical

Json = dict[str, Any]

#: Title and description of each shell CodeSystem known today; another one found gets a generic text.
_TEXT: dict[str, tuple[str, str]] = {
    "worksheet-answer": (
        "IDRF worksheet answers",
        "The answers of the IDRF and staging worksheet that no clinical CodeSystem holds (yes or no, present or "
        "absent, uptake or none, involved or not): the SMART app's form values and the answer Codings of the "
        "worksheet Questionnaire. The service reads each answer by its code."),
    "card-topic": (
        "CDS card topics",
        "The topic of the service's CDS Hooks cards (Card.source.topic), so that an EHR can group or count them."),
}


def worksheet_questionnaire() -> Json:
    """The worksheet Questionnaire, with the package's canonical URL, version and publisher."""
    resource = questionnaire(NBCDS_PACKAGE_CANONICAL)
    return {**resource, "url": canonical("Questionnaire", QUESTIONNAIRE_ID), "version": NBCDS_PACKAGE_VERSION,
            "publisher": PUBLISHER, "experimental": False}


def _answer_codings(items: Iterable[Json]) -> Iterator[Json]:
    for item in items:
        for option in item.get("answerOption", ()):
            if "valueCoding" in option:
                yield option["valueCoding"]
        yield from _answer_codings(item.get("item", ()))


def shell_codings() -> tuple[Json, ...]:
    """Every Coding the shell writes: the worksheet's answers and the cards' topic."""
    return (*_answer_codings(worksheet_questionnaire()["item"]), dict(SOURCE_TOPIC))


def _code_system(name: str, concepts: dict[str, str]) -> Json:
    title, description = _TEXT.get(name, (computable_name(name), f"Codes the service writes ({name})."))
    return {
        "resourceType": "CodeSystem", "id": name, "url": canonical("CodeSystem", name),
        "version": NBCDS_PACKAGE_VERSION, "name": computable_name(name), "title": title, "status": "active",
        "experimental": False, "publisher": PUBLISHER, "description": description, "caseSensitive": True,
        "content": "complete", "count": len(concepts),
        "concept": [{"code": code, "display": display, "definition": display[:1].upper() + display[1:] + "."}
                    for code, display in concepts.items()],
    }


def shell_code_systems() -> tuple[Json, ...]:
    """A CodeSystem per system under our base that the shell writes and no terminology table defines."""
    defined = {cs.url for cs in LOCAL_CODE_SYSTEMS}
    found: dict[str, dict[str, str]] = {}
    for coding in shell_codings():
        system = str(coding["system"])
        if is_ours(system) and system not in defined:
            found.setdefault(system, {}).setdefault(str(coding["code"]), str(coding.get("display") or coding["code"]))
    return tuple(_code_system(system.removeprefix(f"{NBCDS_CODE_SYSTEM_BASE}/"), concepts)
                 for system, concepts in found.items())
