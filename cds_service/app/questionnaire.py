"""The worksheet published as a FHIR Questionnaire (SDC), and its QuestionnaireResponse turned into the same
answers as the form: for EHRs that render questionnaires themselves.

``GET /app/Questionnaire/idrf-worksheet`` gives the Questionnaire (no patient data). ``POST
/app/QuestionnaireResponse/$extract`` takes a completed QuestionnaireResponse and answers with the transaction
Bundle of Observations and Provenance the worksheet would save (SDC "extraction": the EHR applies it), derived
by the same code. The items are the worksheet's fields (``worksheet_fields``): ``linkId`` = field name, answer
Codings from the service's CodeSystems, so an answer's ``code`` is the form value.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cds_service.app.worksheet_fields import SECTIONS, Field

QUESTIONNAIRE_ID = "idrf-worksheet"
SDC_PROFILE = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire"
_TYPES = {"choice": "choice", "date": "date", "decimal": "decimal", "boolean": "boolean"}


class ResponseError(ValueError):
    """A QuestionnaireResponse this service cannot read; the message names the problem."""


def _item(field: Field) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": field.name, "text": field.label, "type": _TYPES[field.kind]}
    if field.choices:
        item["answerOption"] = [{"valueCoding": {"system": c.system, "code": c.value, "display": c.label}}
                                for c in field.choices]
    return item


def questionnaire(canonical_base: str) -> dict[str, Any]:
    """The SDC Questionnaire of the IDRF and staging worksheet."""
    return {
        "resourceType": "Questionnaire",
        "id": QUESTIONNAIRE_ID,
        "meta": {"profile": [SDC_PROFILE]},
        "url": f"{canonical_base.rstrip('/')}/app/Questionnaire/{QUESTIONNAIRE_ID}",
        "name": "NeuroblastomaIdrfWorksheet",
        "title": "Neuroblastoma IDRF and INRG staging worksheet",
        "status": "active",
        "subjectType": ["Patient"],
        "description": ("The 20 image-defined risk factors (Monclair 2009, Table 1) by region, each as the "
                        "tumour-structure relation in INRG terms (Brisse 2011), with extension, nodes, metastatic "
                        "sites and MIBG. The service derives each IDRF and the stage from the answers."),
        "item": [{"linkId": section.key, "text": section.title, "type": "group", "item": _items(section.fields)}
                 for section in SECTIONS],
    }


def _items(fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    """The fields as items; the fields of one IDRF nested in a group item named by the IDRF."""
    items: list[dict[str, Any]] = []
    for field in fields:
        if not field.group:
            items.append(_item(field))
            continue
        if not items or items[-1].get("text") != field.group:
            items.append({"linkId": field.name[: len("idrf-00")], "text": field.group, "type": "group", "item": []})
        items[-1]["item"].append(_item(field))
    return items


def _answer_items(items: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        for answer in item.get("answer") or ():
            if isinstance(answer, dict):
                yield str(item.get("linkId")), answer
                yield from _answer_items(answer.get("item"))
        yield from _answer_items(item.get("item"))


def _value(answer: dict[str, Any]) -> str | None:
    if isinstance(answer.get("valueCoding"), dict):
        code = answer["valueCoding"].get("code")
        return code if isinstance(code, str) else None
    if isinstance(answer.get("valueBoolean"), bool):
        return "yes" if answer["valueBoolean"] else "no"
    for key in ("valueDecimal", "valueInteger", "valueDate", "valueString"):
        if key in answer and isinstance(answer[key], int | float | str) and not isinstance(answer[key], bool):
            return str(answer[key])
    return None


def response_answers(response: Any) -> tuple[str, dict[str, str]]:
    """(the patient id, the answers by field name) of a QuestionnaireResponse."""
    if not isinstance(response, dict) or response.get("resourceType") != "QuestionnaireResponse":
        raise ResponseError("the body is not a QuestionnaireResponse")
    subject = response.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/") or len(reference) > 80:
        raise ResponseError("subject must reference the Patient (Patient/id)")
    answers: dict[str, str] = {}
    for link_id, answer in _answer_items(response.get("item")):
        value = _value(answer)
        if value is not None:
            answers.setdefault(link_id, value)
    return reference.removeprefix("Patient/"), answers
