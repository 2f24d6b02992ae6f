"""The canonical base and its deprecated alias (implementation guide, section 1).

Our codes live under ``NBCDS_FHIR_BASE`` (the documentation site); the placeholder base of releases up to 0.1.0
is read as an alias: the same data coded under it gives the same case, the same results and a data note, and
nothing the service writes or publishes is under ``example.org``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cds_service.services.data_notes import data_notes
from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.reading.values import codings, uses_deprecated_base
from fhir_mappings.terminology.model import first_match
from fhir_mappings.terminology.systems import (
    NBCDS_DEPRECATED_FHIR_BASE,
    NBCDS_FHIR_BASE,
    canonical_system,
    is_deprecated_alias,
)
from fhir_mappings.terminology.value_sets import COMPARTMENT_BY_CODING
from fhir_mappings.writing.results_to_fhir import result_resources
from neuroblastoma.anatomy import Compartment
from neuroblastoma.classification import classify

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_BUNDLES = sorted((ROOT / "examples" / "fhir").glob("*.json"))
WRITTEN_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
#: Keys whose strings name a FHIR server's resources (fullUrl, reference), never a code or a canonical.
_SERVER_KEYS = frozenset({"fullUrl", "reference"})


def _old_base(bundle_text: str) -> Any:
    assert NBCDS_FHIR_BASE in bundle_text
    return json.loads(bundle_text.replace(NBCDS_FHIR_BASE, NBCDS_DEPRECATED_FHIR_BASE))


def test_the_canonical_base_is_the_documentation_site_and_the_alias_is_the_old_placeholder() -> None:
    assert NBCDS_FHIR_BASE == "https://neuroblastoma-cds.github.io/fhir"
    assert NBCDS_DEPRECATED_FHIR_BASE == "https://nbcds.example.org/fhir"
    assert canonical_system(f"{NBCDS_DEPRECATED_FHIR_BASE}/CodeSystem/idrf") == f"{NBCDS_FHIR_BASE}/CodeSystem/idrf"
    assert canonical_system("http://snomed.info/sct") == "http://snomed.info/sct"
    assert canonical_system(f"{NBCDS_DEPRECATED_FHIR_BASE}x/CodeSystem/idrf").startswith(NBCDS_DEPRECATED_FHIR_BASE)
    assert is_deprecated_alias(f"{NBCDS_DEPRECATED_FHIR_BASE}/CodeSystem/idrf")
    assert not is_deprecated_alias(f"{NBCDS_FHIR_BASE}/CodeSystem/idrf") and not is_deprecated_alias(None)


def test_every_coding_reader_reads_the_alias_as_the_canonical_base() -> None:
    old = {"coding": [{"system": f"{NBCDS_DEPRECATED_FHIR_BASE}/CodeSystem/body-compartment", "code": "abdomen"}]}
    assert codings(old) == [(f"{NBCDS_FHIR_BASE}/CodeSystem/body-compartment", "abdomen")]
    assert first_match(COMPARTMENT_BY_CODING, codings(old)) is Compartment.ABDOMEN
    assert first_match(COMPARTMENT_BY_CODING, [(old["coding"][0]["system"], "abdomen")]) is Compartment.ABDOMEN
    assert uses_deprecated_base(old) and not uses_deprecated_base({"coding": [{"system": NBCDS_FHIR_BASE}]})


@pytest.mark.parametrize("path", EXAMPLE_BUNDLES, ids=lambda p: p.stem)
def test_old_base_data_gives_the_same_case_and_results_with_a_note(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    current, old = read_case([json.loads(text)]), read_case([_old_base(text)])
    assert old.case == current.case
    assert classify(old.case) == classify(current.case)
    written = [r.resource for r in result_resources(classify(old.case), old, WRITTEN_AT)]
    assert written == [r.resource for r in result_resources(classify(current.case), current, WRITTEN_AT)]
    assert NBCDS_DEPRECATED_FHIR_BASE not in json.dumps(written)  # nothing is written under the alias
    assert old.report.deprecated_base and not current.report.deprecated_base
    assert [n for n in data_notes(old) if n not in data_notes(current)] == [
        f"{len(old.report.deprecated_base)} resource(s) are coded under the deprecated base "
        f"{NBCDS_DEPRECATED_FHIR_BASE} (read as {NBCDS_FHIR_BASE}, the same codes): re-code them "
        "(implementation guide, section 1)."]


def test_the_services_own_earlier_results_under_the_alias_are_recognised() -> None:
    text = (ROOT / "examples" / "fhir" / "nb-l2-infant.json").read_text(encoding="utf-8")
    reading = read_case([json.loads(text)])
    earlier = [r.resource for r in result_resources(classify(reading.case), reading, WRITTEN_AT)]
    old_results = json.loads(json.dumps(earlier).replace(NBCDS_FHIR_BASE, NBCDS_DEPRECATED_FHIR_BASE))
    again = read_case([json.loads(text), *({**r, "id": f"earlier-{i}"} for i, r in enumerate(old_results))])
    assert len(again.existing_results) == len(earlier) and again.case == reading.case


# ---- nothing read or written lives under example.org -------------------------------------------------------

def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, str):
        yield key, value


def codes_under_example_org(document: Any) -> list[str]:
    """Every string of a JSON document under example.org, except a FHIR server's own URLs (a Bundle's
    ``fullUrl``, a ``reference``) that the examples place on an illustrative server."""
    return [f"{key}: {text}" for key, text in _strings(document)
            if "example.org" in text and not (key in _SERVER_KEYS and "/fhir/" in text and "nbcds" not in text)]


GENERATED = sorted([*(ROOT / "fhir_mappings" / "terminology").glob("*.json"), *EXAMPLE_BUNDLES,
                    *(ROOT / "examples" / "fhir" / "messy").glob("*.json"), *(ROOT / "examples" / "requests").glob("*.json"),
                    ROOT / "examples" / "expected-fhir-results.json"])


@pytest.mark.parametrize("path", GENERATED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_generated_resource_has_a_code_under_example_org(path: Path) -> None:
    assert not codes_under_example_org(json.loads(path.read_text(encoding="utf-8")))


def test_the_alias_is_spelled_once_in_the_code() -> None:
    """The deprecated base is one constant (systems.py); every other module reads it from there."""
    spelled = [str(p.relative_to(ROOT)) for package in ("neuroblastoma", "fhir_mappings", "cds_service", "fhir_package", "examples")
               for p in (ROOT / package).rglob("*.py") if "nbcds.example.org" in p.read_text(encoding="utf-8")]
    assert spelled == ["fhir_mappings/terminology/systems.py"]


def test_the_scan_would_see_a_code_under_example_org() -> None:
    assert codes_under_example_org({"code": {"coding": [{"system": f"{NBCDS_DEPRECATED_FHIR_BASE}/CodeSystem/x"}]}})
    assert codes_under_example_org({"system": "http://example.org/local"})
    assert not codes_under_example_org({"fullUrl": "http://example.org/fhir/Patient/p"})
