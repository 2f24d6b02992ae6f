"""Reading the files ``nbcds classify`` accepts: case JSON (one case or a list) — and FHIR data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from neuroblastoma.case import Case
from neuroblastoma.case_json import CaseFormatError, case_from_json


class CaseInputError(Exception):
    """A file that cannot be read as cases; the message names the file and the field."""


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CaseInputError(f"{path}: cannot read file ({error.__class__.__name__}: {error})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CaseInputError(f"{path}: invalid JSON at line {error.lineno} column {error.colno}") from None


def load_cases(path: Path) -> list[Case]:
    """All cases in a case-JSON file: a single case object or a list of them."""
    document = _read_json(path)
    items = document if isinstance(document, list) else [document]
    cases = []
    for index, item in enumerate(items):
        try:
            cases.append(case_from_json(item))
        except CaseFormatError as error:
            where = f"[{index}]." if isinstance(document, list) else ""
            raise CaseInputError(f"{path}: field {where}{error.path}: {error.message}") from None
    return cases
