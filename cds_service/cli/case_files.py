"""Reading the files ``nbcds classify`` accepts: case JSON (one case or a list), a FHIR Bundle or
resource (JSON), or NDJSON of FHIR resources. FHIR input may hold several patients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.reading.resources import gather
from neuroblastoma.case import Case
from neuroblastoma.case_json import CaseFormatError, case_from_json


class CaseInputError(Exception):
    """A file that cannot be read as cases; the message names the file and the field."""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseInputError(f"{path}: cannot read file ({error.__class__.__name__}: {error})") from None


def _parse_json(path: Path, text: str, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {line}" if line else f"line {error.lineno} column {error.colno}"
        raise CaseInputError(f"{path}: invalid JSON at {where}") from None


def _is_fhir(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("resourceType"), str)


def _cases_from_fhir(path: Path, items: list[Any]) -> list[Case]:
    """One case per Patient in the data (or one case when there is no Patient resource)."""
    patients = [p.get("id") for p in gather(items).of_type("Patient") if isinstance(p.get("id"), str)]
    if not patients:
        raise CaseInputError(f"{path}: FHIR data without a Patient resource (Patient.birthDate is needed)")
    return [read_case(items, patient).case for patient in patients]


def _case_documents(path: Path, document: Any) -> list[Case]:
    items = document if isinstance(document, list) else [document]
    cases = []
    for index, item in enumerate(items):
        try:
            cases.append(case_from_json(item))
        except CaseFormatError as error:
            where = f"[{index}]." if isinstance(document, list) else ""
            raise CaseInputError(f"{path}: field {where}{error.path}: {error.message}") from None
    return cases


def load_cases(path: Path) -> list[Case]:
    """All cases in a file, whichever of the accepted forms it is in."""
    text = _read_text(path)
    if path.suffix == ".ndjson":
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        resources = [_parse_json(path, line, number) for number, line in lines]
        if not all(_is_fhir(r) for r in resources):
            raise CaseInputError(f"{path}: every NDJSON line must be a FHIR resource")
        return _cases_from_fhir(path, resources)
    document = _parse_json(path, text)
    if _is_fhir(document):
        return _cases_from_fhir(path, [document])
    return _case_documents(path, document)
