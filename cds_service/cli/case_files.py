"""Reading the files ``nbcds classify`` accepts: case JSON (one case or a list), a FHIR Bundle or resource
(JSON), or NDJSON of FHIR resources. FHIR input may hold several patients: one record per Patient."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cds_service.batch import PatientRecord
from fhir_mappings.reading.resources import gather
from neuroblastoma.case import Case
from neuroblastoma.case_json import CaseFormatError, case_from_json


class CaseInputError(Exception):
    """A file that cannot be read as cases; the message names the file and the field."""


@dataclass(frozen=True)
class LoadedFile:
    """What one file holds: cases in the case JSON form, or FHIR records (one per Patient)."""

    cases: list[Case] = field(default_factory=list)
    records: list[PatientRecord] = field(default_factory=list)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseInputError(f"{path}: cannot read file ({error.__class__.__name__})") from None


def _parse_json(path: Path, text: str, line: int | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {line}" if line else f"line {error.lineno} column {error.colno}"
        raise CaseInputError(f"{path}: invalid JSON at {where}") from None


def _is_fhir(document: Any) -> bool:
    return isinstance(document, dict) and isinstance(document.get("resourceType"), str)


def _records_from_fhir(path: Path, items: list[Any]) -> list[PatientRecord]:
    """One record per Patient in the data, each with every resource of the file."""
    gathered = gather(items)
    patients = [str(p["id"]) for p in gathered.of_type("Patient") if isinstance(p.get("id"), str)]
    if not patients:
        raise CaseInputError(f"{path}: FHIR data without a Patient resource (Patient.birthDate is needed)")
    resources = tuple(resource for bucket in gathered.by_type.values() for resource in bucket)
    return [PatientRecord(patient, resources) for patient in patients]


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


def load_file(path: Path) -> LoadedFile:
    """All cases or FHIR records in a file, whichever of the accepted forms it is in."""
    text = _read_text(path)
    if path.suffix == ".ndjson":
        lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
        resources = [_parse_json(path, line, number) for number, line in lines]
        if not all(_is_fhir(r) for r in resources):
            raise CaseInputError(f"{path}: every NDJSON line must be a FHIR resource")
        return LoadedFile(records=_records_from_fhir(path, resources))
    document = _parse_json(path, text)
    if _is_fhir(document):
        return LoadedFile(records=_records_from_fhir(path, [document]))
    return LoadedFile(cases=_case_documents(path, document))
