"""The messy real-world examples (examples/fhir/messy/): each gives its expected classification and
exactly the report entries examples/expected-fhir-results.json lists (every other report list empty)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from examples.build_fhir_examples import MESSY_DIR
from fhir_mappings.reading.case_reader import CaseReading, read_case
from neuroblastoma.biology import MycnStatus
from neuroblastoma.case import FactKey
from neuroblastoma.case_json import case_from_json
from neuroblastoma.classification import classify
from neuroblastoma.facts import Presence
from neuroblastoma.summary import classification_summary
from tests.examples import EXAMPLES, case_document
from tests.fhir_mappings.test_case_to_fhir_round_trip import rule_fields

EXPECTED: dict[str, dict[str, Any]] = json.loads(
    (EXAMPLES / "expected-fhir-results.json").read_text(encoding="utf-8"))
REPORT_LISTS = ("invalid", "unrecognised", "ignored_by_status", "preliminary", "discordances")


def messy_path(name: str) -> Path:
    return MESSY_DIR / f"{name}.json"


def reading_of(name: str) -> CaseReading:
    return read_case([json.loads(messy_path(name).read_text(encoding="utf-8"))], name)


def test_every_messy_example_has_an_expectation() -> None:
    assert {p.stem for p in MESSY_DIR.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_messy_example_classifies_as_expected(name: str) -> None:
    reading = reading_of(name)
    assert reading.has_neuroblastoma
    summary = classification_summary(classify(reading.case), with_trace=False)
    expected = EXPECTED[name]
    assert summary["stage"] == expected["stage"]
    assert summary["inrg2009"]["group"] == expected["inrg2009"]["group"]
    assert summary["inrg2009"]["risk"] == expected["inrg2009"]["risk"]
    assert summary["cog2021"]["risk"] == expected["cog2021"]["risk"]
    if "cog_candidates" in expected:
        assert sorted(summary["cog2021"]["candidates"]) == sorted(expected["cog_candidates"])
    missing = {m["fact"] for m in summary["missing"]}
    assert set(expected.get("missing", [])) <= missing
    if expected["stage"] and expected["inrg2009"]["group"] and expected["cog2021"]["risk"]:
        assert not missing
    warnings = {w["code"] for w in summary["warnings"]}
    assert set(expected.get("warnings", [])) <= warnings
    assert ("schemas-disagree" in warnings) == ("schemas-disagree" in expected.get("warnings", []))


def _listed(report: Any, field: str) -> list[Any]:
    items = getattr(report, field)
    if field == "invalid":
        return sorted(item.reference for item in items)
    if field == "discordances":
        return sorted(({"key": d.key, "winner": d.winner, "others": list(d.others)} for d in items),
                      key=lambda d: d["key"])
    return sorted(items)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_messy_example_reports_what_it_skipped(name: str) -> None:
    report = reading_of(name).report
    expected = EXPECTED[name]["report"]
    for field in REPORT_LISTS:
        want = expected.get(field, [])
        assert _listed(report, field) == (sorted(want, key=lambda d: d["key"]) if field == "discordances"
                                          else sorted(want)), field
    assert report.other_patients == ()


def test_duplicates_final_mycn_wins_and_the_later_version_of_a_resource_is_kept() -> None:
    case = reading_of("nb-messy-duplicates").case
    assert case.mycn is MycnStatus.NOT_AMPLIFIED
    assert case.sources_of(FactKey.MYCN) == (
        "Observation/nb-messy-duplicates-mycn-final",)
    assert case.chr11q_aberration is Presence.ABSENT  # version 2 (amended) of the same Observation


def test_invalid_resources_name_the_reason() -> None:
    reasons = {i.reference: i.reason for i in reading_of("nb-messy-invalid-resource").report.invalid}
    assert "status" in reasons["Observation/nb-messy-invalid-resource-dna-index"]
    assert "effectiveDateTime" in reasons["Observation/nb-messy-invalid-resource-sca-17q-gain"]
    case = reading_of("nb-messy-invalid-resource").case
    assert case.ploidy.dna_index is None
    assert case.other_scas == ()


def test_unknown_codes_leave_mycn_unknown() -> None:
    assert reading_of("nb-messy-unknown-codes").case.mycn is MycnStatus.UNKNOWN


def test_entered_in_error_condition_does_not_change_the_age() -> None:
    reading = reading_of("nb-messy-entered-in-error")
    assert reading.condition_ref == "Condition/nb-messy-entered-in-error-neuroblastoma"
    assert reading.case.primaries[0].idrfs == ()


def test_searchset_reads_as_the_clean_example_it_was_made_from() -> None:
    reading = reading_of("nb-messy-searchset")
    clean = case_from_json({**case_document("nb-ms-infant"), "patient": "nb-messy-searchset"})
    assert rule_fields(reading.case) == rule_fields(clean)
    sites = {m.site.value: m.source for m in reading.case.metastases}
    assert sites == {"liver": "Condition/nb-messy-searchset-liver-metastases",
                     "bone": "Condition/nb-messy-searchset-bone-metastases"}


def test_preliminary_result_is_the_one_that_decides() -> None:
    reading = reading_of("nb-messy-preliminary")
    result = classify(reading.case)
    assert "11q-aberration" in {fact.value for fact in result.risk("inrg2009").trace.decided_by}
    assert reading.report.preliminary == ("Observation/nb-messy-preliminary-11q",)
