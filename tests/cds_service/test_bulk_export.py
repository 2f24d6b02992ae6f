"""``nbcds classify DIR`` on a FHIR Bulk Data export (issue 13).

A small export — a few patients, one file per resource type and a second Observation file gzipped, the
resources shuffled across files, a malformed line, a Practitioner and a patient without a neuroblastoma
Condition — gives one result per patient, exactly the result of the same patient's resources sent alone
(the NDJSON round trip changes nothing), with ``--workers 2`` too; ``--fhir-out`` writes valid R4
Observations with stable ids. The generated 100,000-patient export lives in ``make bench``.
"""

from __future__ import annotations

import gzip
import io
import json
import random
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation

from cds_service import cli
from cds_service.cli.classify import NOT_CLASSIFIED, classify_files
from tests.fhir_mappings.test_order_independence import RECORDS

PATIENTS = ["nb-ms-infant", "nb-l2-bilateral", "nb-messy-two-conditions", "nb-messy-equivocal-mri",
            "nb-indeterminate-mycn", "nb-l1-low"]
NO_NEUROBLASTOMA = "no-nb-child"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = cli._parser().parse_args(argv)
    status = classify_files(args.paths, args.json, out, err, workers=args.workers, fhir_out=args.fhir_out)
    return status, out.getvalue(), err.getvalue()


def export(directory: Path, seed: int = 13) -> dict[str, list[dict[str, Any]]]:
    """Write the export; return each patient's resources as they were."""
    records = {name: list(RECORDS[name]) for name in PATIENTS}
    records[NO_NEUROBLASTOMA] = [
        {"resourceType": "Patient", "id": NO_NEUROBLASTOMA, "birthDate": "2020-01-01"},
        {"resourceType": "Observation", "id": "no-nb-hb", "status": "final",
         "subject": {"reference": f"Patient/{NO_NEUROBLASTOMA}"},
         "code": {"coding": [{"system": "http://loinc.org", "code": "718-7"}]}, "valueQuantity": {"value": 12}}]
    everything = [r for resources in records.values() for r in resources]
    everything.append({"resourceType": "Practitioner", "id": "dr-bulk"})
    random.Random(seed).shuffle(everything)
    by_type: dict[str, list[str]] = {}
    for resource in everything:
        by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource))
    directory.mkdir(parents=True, exist_ok=True)
    observations = by_type.pop("Observation")
    half = len(observations) // 2
    (directory / "Observation.ndjson").write_text("\n".join(observations[:half]) + "\n")
    with gzip.open(directory / "Observation.002.ndjson.gz", "wt", encoding="utf-8") as compressed:
        compressed.write("\n".join(observations[half:]) + "\n")
    for resource_type, lines in by_type.items():
        (directory / f"{resource_type}.ndjson").write_text("\n".join(lines) + "\n")
    with open(directory / "Condition.ndjson", "a") as conditions:
        conditions.write('{"resourceType": "Condition", "id": "broken"\n\n["not a resource"]\n')
    (directory / "README.txt").write_text("not part of the export")
    return records


def alone(name: str, resources: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    """The same patient's resources as one Bundle file, classified on their own."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"resourceType": "Bundle", "type": "collection",
                                "entry": [{"resource": r} for r in resources]}))
    _, out, _ = run(["classify", "--json", str(path)])
    return json.loads(out)


def by_patient(out: str) -> dict[str, dict[str, Any]]:
    results = [json.loads(line) for line in out.splitlines()]
    found = {result["patient"]: result for result in results}
    assert len(found) == len(results), "one result per patient"
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_every_patient_gets_the_answer_its_resources_give_alone(tmp_path: Path, workers: int) -> None:
    records = export(tmp_path / "export")
    status, out, err = run(["classify", "--json", "--workers", str(workers), str(tmp_path / "export")])
    assert status == 2  # the malformed lines
    results = by_patient(out)
    assert set(results) == {*PATIENTS, NO_NEUROBLASTOMA}
    for name in PATIENTS:
        assert results[name] == alone(name, records[name], tmp_path), name
    assert results[NO_NEUROBLASTOMA]["reason"] == NOT_CLASSIFIED
    conditions = tmp_path / "export" / "Condition.ndjson"
    count = len(conditions.read_text().splitlines())  # the last three: broken, blank, a JSON array
    assert err.strip().splitlines() == [f"nbcds: {conditions}: line {count - 2}: not valid JSON",
                                        f"nbcds: {conditions}: line {count}: not a FHIR resource (no resourceType)"]


def test_the_order_of_the_export_changes_nothing(tmp_path: Path) -> None:
    export(tmp_path / "a", seed=1)
    export(tmp_path / "b", seed=2)
    _, first, _ = run(["classify", "--json", str(tmp_path / "a")])
    _, second, _ = run(["classify", "--json", str(tmp_path / "b")])
    assert by_patient(first) == by_patient(second)


def test_fhir_out_writes_the_results_the_card_offers_as_valid_observations(tmp_path: Path) -> None:
    export(tmp_path / "export")
    _, out, _ = run(["classify", "--json", "--workers", "2", "--fhir-out", str(tmp_path / "results"),
                          str(tmp_path / "export")])
    lines = (tmp_path / "results" / "Observation.ndjson").read_text().splitlines()
    resources = [json.loads(line) for line in lines]
    for resource in resources:
        Observation.model_validate(resource)
    ids = [r["id"] for r in resources]
    assert len(ids) == len(set(ids))
    determinate = sum(1 for result in by_patient(out).values() if result.get("stage"))
    stages = [r for r in resources if r["code"]["coding"][0]["code"] == "C133427"]
    assert len(stages) == determinate
    run(["classify", "--json", "--fhir-out", str(tmp_path / "again"), str(tmp_path / "export")])
    again = sorted(json.loads(line)["id"] for line in (tmp_path / "again" / "Observation.ndjson").read_text().splitlines())
    assert again == sorted(ids), "ids are stable"


def test_text_output_and_a_directory_without_ndjson(tmp_path: Path) -> None:
    export(tmp_path / "export")
    _, out, _ = run(["classify", str(tmp_path / "export")])
    assert f"{NO_NEUROBLASTOMA}\n  {NOT_CLASSIFIED}" in out and "INRG stage MS" in out
    (tmp_path / "empty").mkdir()
    status, _, err = run(["classify", str(tmp_path / "empty")])
    assert status == 2 and "no *.ndjson" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_sees_the_progress_and_a_pipe_does_not(tmp_path: Path) -> None:
    from cds_service.bulk.export_run import classify_export

    export(tmp_path / "export")
    terminal, piped = _Terminal(), io.StringIO()
    classify_export(tmp_path / "export", True, io.StringIO(), terminal)
    classify_export(tmp_path / "export", True, io.StringIO(), piped)
    assert f"\rnbcds: patients {len(PATIENTS) + 1:,} · " in terminal.getvalue()
    assert "patients" not in piped.getvalue()
