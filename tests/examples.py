"""The shipped example patients (examples/): one place for tests, docs and the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASE_FILES = sorted((EXAMPLES / "cases").glob("*.json"))
EXPECTED: dict[str, dict[str, Any]] = json.loads((EXAMPLES / "expected-results.json").read_text(encoding="utf-8"))


def case_document(patient: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / "cases" / f"{patient}.json").read_text(encoding="utf-8"))
