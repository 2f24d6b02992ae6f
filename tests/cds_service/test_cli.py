"""``nbcds classify``: readable and JSON output, and one-line errors that name the file and field."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cds_service import cli
from cds_service.cli.classify import classify_files
from tests.examples import EXAMPLES


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = cli._parser().parse_args(argv)
    status = classify_files(args.paths, args.json, out, err)
    return status, out.getvalue(), err.getvalue()


def test_json_output_has_the_documented_fields() -> None:
    status, out, _ = run(["classify", "--json", str(EXAMPLES / "cases" / "nb-l2-infant.json")])
    assert status == 0
    result = json.loads(out)
    assert set(result) >= {"patient", "stage", "stage_candidates", "inrg2009", "cog2021", "missing", "warnings",
                           "ruleset"}
    assert result["stage"] == "L2"
    assert result["inrg2009"] == {**result["inrg2009"], "group": "D", "risk": "low"}
    assert result["cog2021"]["risk"] == "intermediate"


def test_text_output_names_stage_and_risks() -> None:
    status, out, _ = run(["classify", str(EXAMPLES / "cases" / "nb-l1-amp-pretreatment.json")])
    assert status == 0
    assert "INRG stage L1" in out and "group K" in out and "COG 2021 cannot be assigned" in out
    assert "needs resection-extent" in out


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "invalid JSON at line 1"),
    ('{"patient": "x", "mycn": "amp"}', "field mycn: 'amp' is not one of"),
    ('{"patient": "x", "colour": "red"}', "field colour: unknown field"),
    ('[{"patient": "x"}, {"patient": "y", "ploidy": {"dnaIndex": "high"}}]', "field [1].ploidy.dnaIndex: expected a number"),
])
def test_bad_file_gives_one_line_error_and_exit_2_and_others_still_run(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = EXAMPLES / "cases" / "nb-l1-low.json"
    status, out, err = run(["classify", "--json", str(bad), str(good)])
    assert status == 2
    assert err.count("\n") == 1 and str(bad) in err and message in err
    assert json.loads(out)["patient"] == "nb-l1-low"


def test_unreadable_file(tmp_path: Path) -> None:
    status, _, err = run(["classify", str(tmp_path / "missing.json")])
    assert status == 2 and "cannot read file" in err


def test_fhir_bundle_gives_the_same_result_as_the_case_file() -> None:
    status, out, _ = run(["classify", "--json", str(EXAMPLES / "fhir" / "nb-ms-infant.json"),
                          str(EXAMPLES / "cases" / "nb-ms-infant.json")])
    assert status == 0
    from_fhir, from_case = (json.loads(line) for line in out.splitlines())
    for key in ("patient", "stage", "inrg2009", "cog2021"):
        assert from_fhir[key] == from_case[key], key
    assert from_fhir["stage"] == "MS" and from_fhir["inrg2009"]["group"] == "C"


def test_ndjson_with_two_patients_gives_one_line_each(tmp_path: Path) -> None:
    lines = []
    for name in ("nb-l1-low", "nb-m-older"):
        bundle = json.loads((EXAMPLES / "fhir" / f"{name}.json").read_text())
        lines += [json.dumps(entry["resource"]) for entry in bundle["entry"]]
    ndjson = tmp_path / "export.ndjson"
    ndjson.write_text("\n".join(lines) + "\n")
    status, out, _ = run(["classify", "--json", str(ndjson)])
    assert status == 0
    results = {r["patient"]: r for r in map(json.loads, out.splitlines())}
    assert results["nb-l1-low"]["stage"] == "L1" and results["nb-m-older"]["stage"] == "M"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.ndjson", '{"resourceType": "Patient", "id": "p"}\n{oops\n', "invalid JSON at line 2"),
    ("plain.ndjson", '{"patient": "x"}\n', "every NDJSON line must be a FHIR resource"),
    ("nopatient.json", '{"resourceType": "Observation", "status": "final", "code": {"text": "x"}}',
     "without a Patient resource"),
])
def test_bad_fhir_input_gives_one_line_error(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    status, _, err = run(["classify", str(path)])
    assert status == 2 and message in err and err.count("\n") == 1


def test_fhir_record_without_neuroblastoma_is_not_classified_as_the_service_would_not(tmp_path: Path) -> None:
    bundle = json.loads((EXAMPLES / "fhir" / "nb-l1-low.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["resourceType"] != "Condition"]
    path = tmp_path / "no-condition.json"
    path.write_text(json.dumps(bundle))
    status, out, _ = run(["classify", "--json", str(path)])
    assert status == 0
    result = json.loads(out)
    assert result["patient"] == "nb-l1-low" and result["neuroblastoma"] is False and "stage" not in result
    status, out, _ = run(["classify", str(path)])
    assert "not classified: no neuroblastoma Condition on record" in out


def test_fhir_json_carries_the_data_notes_the_card_shows() -> None:
    status, out, _ = run(["classify", "--json", str(EXAMPLES / "fhir" / "messy" / "nb-messy-invalid-resource.json")])
    assert status == 0
    result = json.loads(out)
    assert any("is not valid FHIR" in note for note in result["notes"]), result["notes"]
