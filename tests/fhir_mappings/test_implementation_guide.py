"""docs/implementation-guide.md answers what integrators could not find (issue 13), and reads as text:
no Python representation leaks into a table, and no table is printed twice."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "implementation-guide.md").read_text(encoding="utf-8")

# What integrators could not find, and a phrase the guide's answer contains.
QUESTIONS = {
    "the canonical encoding of an equivocal focus": "The canonical encoding of an equivocal focus",
    "how to record the resolution of an equivocal focus": "`focus-ruled-out`",
    "several neuroblastoma Conditions": "**Several neuroblastoma Conditions**",
    "implausible dates": "**Implausible dates**",
    "attaching findings to a primary": "**Tying findings to their primary.**",
    "no IDRF on any primary": "`idrf-summary-all-primaries`",
    "the inferior mesenteric artery": "**The inferior mesenteric artery.**",
    "judged from structure and relation": "judges the IDRF from the structure and the relation",
    "supraclavicular nodes": "**Supraclavicular nodes**",
    "effusion side": "The effusion's\n**side** is not read",
    "when grade matters": "**When grade matters**",
    "ICD-10-CM-only problem lists": "**A problem list coded in ICD-10-CM only.**",
    "a positive work-up conclusion without a site": "**A positive conclusion without a site**",
    "the compact prefetch": "**A compact prefetch.**",
    "Bulk Data exports": "nbcds classify --json --workers 2 --fhir-out results/ export/",
    "data-quality codes on the results": "`https://neuroblastoma-cds.github.io/fhir/CodeSystem/data-quality`",
}


@pytest.mark.parametrize("question", sorted(QUESTIONS))
def test_the_guide_answers(question: str) -> None:
    assert QUESTIONS[question] in GUIDE, question


def test_no_python_representation_in_the_guide() -> None:
    assert not re.search(r"frozenset\(|<[A-Z][A-Za-z]+\.[A-Z_]+: '", GUIDE)


def _tables() -> list[list[str]]:
    tables, current = [], []
    for line in [*GUIDE.splitlines(), ""]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables


def test_no_table_is_printed_twice() -> None:
    """Not even within a longer copy of itself (the node regions once came twice, the second with more rows)."""
    tables = _tables()
    repeated = [rows[2] for i, rows in enumerate(tables) if len(rows) > 4 and any(
        j != i and set(rows[2:]) <= set(other[2:]) for j, other in enumerate(tables))]
    assert not repeated, repeated
