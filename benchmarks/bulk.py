"""Scenario 7: ``nbcds classify --json DIR --workers 2`` on a generated FHIR Bulk Data export.

The export: ``patients`` patients (100,000 in the full run), each a Patient, a neuroblastoma Condition and 40
Observations, in files by type (Patient, Condition, and the Observations over several files, the last one
gzipped), every file shuffled so that a patient's resources are scattered. A patient's 40 Observations are
one example patient's reports (18-22 facts the rules read, ids and dates made unique), older repeats of some
of them (agreeing reports dated a month earlier, as a chart accumulates) and unrelated laboratory results
(LOINC codes the rules do not read), to 40. Every patient is seen for the first time (no validation cache
helps: each resource is new).

Measured: patients per second end to end (the join on disk and the answers), the join alone, and the peak
resident memory of the command and its worker processes together (sampled from /proc every 50 ms).
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.report import ROOT, Row, Target, fmt

EXAMPLES = ("nb-ms-infant", "nb-l2-infant", "nb-m-older", "nb-l1-low", "nb-indeterminate-mycn", "nb-l2-bilateral")
OBSERVATIONS_PER_PATIENT = 40
TARGET_PATIENTS_PER_SECOND = 1000
RSS_LIMIT_BYTES = 1 << 30
LABS = (("718-7", "Hemoglobin", "g/dL", 11.5), ("6690-2", "Leukocytes", "10*3/uL", 7.2),
        ("777-3", "Platelets", "10*3/uL", 250.0), ("2532-0", "LDH", "U/L", 420.0))


def _templates() -> list[list[dict[str, Any]]]:
    templates = []
    for name in EXAMPLES:
        bundle = json.loads((ROOT / "examples" / "fhir" / f"{name}.json").read_text(encoding="utf-8"))
        templates.append([entry["resource"] for entry in bundle["entry"]])
    return templates


def _patient(template: list[dict[str, Any]], number: int, rng: random.Random) -> list[dict[str, Any]]:
    """One patient from a template: ids and subject rewritten, repeats and labs added to 40 Observations."""
    old = next(r["id"] for r in template if r["resourceType"] == "Patient")
    new = f"bulk-{number:07d}"
    resources = []
    for resource in template:
        text = json.dumps(resource).replace(old, new)
        resources.append(json.loads(text))
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    repeats = 0
    while len(observations) < OBSERVATIONS_PER_PATIENT - len(LABS) * 2 and repeats < 12:
        repeat = copy.deepcopy(observations[repeats % len(observations)])
        repeat["id"] = f"{repeat['id']}-r{repeats}"
        repeat["effectiveDateTime"] = "2025-05-01"
        resources.append(repeat)
        observations.append(repeat)
        repeats += 1
    lab = 0
    while len(observations) < OBSERVATIONS_PER_PATIENT:
        code, name, unit, value = LABS[lab % len(LABS)]
        resources.append({"resourceType": "Observation", "id": f"{new}-lab-{lab}", "status": "final",
                          "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                              "observation-category", "code": "laboratory"}]}],
                          "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
                          "subject": {"reference": f"Patient/{new}"}, "effectiveDateTime": f"2025-0{1 + lab % 6}-15",
                          "valueQuantity": {"value": round(value * rng.uniform(0.7, 1.3), 1), "unit": unit}})
        observations.append(resources[-1])
        lab += 1
    return resources


def generate_export(directory: Path, patients: int, seed: int = 7, observation_files: int = 4) -> int:
    """Write the export; returns its size in bytes. Files are shuffled in blocks of patients (a whole-file
    shuffle of millions of lines would not fit the memory this scenario measures)."""
    rng = random.Random(seed)
    templates = _templates()
    directory.mkdir(parents=True, exist_ok=True)
    streams = {"Patient": open(directory / "Patient.ndjson", "w", encoding="utf-8"),  # noqa: SIM115
               "Condition": open(directory / "Condition.ndjson", "w", encoding="utf-8")}  # noqa: SIM115
    observation_streams = [open(directory / f"Observation.{i:03d}.ndjson", "w", encoding="utf-8")  # noqa: SIM115
                           for i in range(observation_files - 1)]
    observation_streams.append(gzip.open(directory / f"Observation.{observation_files - 1:03d}.ndjson.gz",  # noqa: SIM115
                                         "wt", encoding="utf-8", compresslevel=1))
    try:
        block = 2000
        for start in range(0, patients, block):
            lines: dict[str, list[str]] = {"Patient": [], "Condition": [], "Observation": []}
            for number in range(start, min(patients, start + block)):
                for resource in _patient(templates[number % len(templates)], number, rng):
                    lines[resource["resourceType"]].append(json.dumps(resource, separators=(",", ":")))
            for kind, found in lines.items():
                rng.shuffle(found)
                if kind == "Observation":
                    for index, line in enumerate(found):
                        observation_streams[index % len(observation_streams)].write(line + "\n")
                else:
                    streams[kind].write("\n".join(found) + "\n")
    finally:
        for stream in (*streams.values(), *observation_streams):
            stream.close()
    return sum(p.stat().st_size for p in directory.iterdir())


class _PeakRss:
    """The peak of the summed resident memory of a process and its descendants, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.peak_single = pid, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        found, queue = [], [self.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                    queue += [int(child) for child in children]
            except OSError:
                continue
        return found

    @staticmethod
    def _rss(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [self._rss(pid) for pid in self._tree()]
            self.peak = max(self.peak, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self._stop.wait(0.05)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _join_alone(directory: Path) -> float:
    from cds_service.bulk.partition import bucket_count, export_files, partition

    with tempfile.TemporaryDirectory(prefix="nbcds-bench-spill-") as spill:
        started = time.perf_counter()
        partition(directory, Path(spill), bucket_count(export_files(directory)))
        return time.perf_counter() - started


def scenario_bulk(patients: int, workers: int = 2) -> Row:
    with tempfile.TemporaryDirectory(prefix="nbcds-bench-bulk-") as tmp:
        export = Path(tmp) / "export"
        started = time.perf_counter()
        size = generate_export(export, patients)
        generated = time.perf_counter() - started
        join_seconds = _join_alone(export)
        command = [sys.executable, "-c", "import sys; from cds_service.cli import main; sys.exit(main())",
                   "classify", "--json", "--workers", str(workers), str(export)]
        output = Path(tmp) / "results.ndjson"
        with open(output, "wb") as out:
            started = time.perf_counter()
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, cwd=ROOT)
            with _PeakRss(process.pid) as rss:
                _, stderr = process.communicate()
            seconds = time.perf_counter() - started
        with open(output, "rb") as results:
            answered = sum(1 for _ in results)
        if process.returncode != 0 or answered != patients:
            raise RuntimeError(f"nbcds classify exited {process.returncode} with {answered}/{patients} results: "
                               f"{stderr.decode(errors='replace')[-300:]}")
    rate = patients / seconds
    answer_rate = patients / max(seconds - join_seconds, 1e-9)
    return Row(
        id="7", scenario=f"7 Bulk export: {patients:,} patients × {OBSERVATIONS_PER_PATIENT} Observations, "
                         f"--workers {workers}",
        result=f"{fmt(rate)} patients/s end to end ({fmt(seconds)} s; join on disk {fmt(join_seconds)} s, "
               f"answers {fmt(answer_rate)} patients/s); peak RSS {rss.peak / 2**20:,.0f} MiB "
               f"(largest process {rss.peak_single / 2**20:,.0f} MiB)",
        baseline=f"export {size / 2**30:.2f} GiB, generated in {fmt(generated)} s",
        ratio=rate / TARGET_PATIENTS_PER_SECOND, ratio_label="of the target rate",
        targets=[Target(f"≥ {TARGET_PATIENTS_PER_SECOND:,} patients/s", rate >= TARGET_PATIENTS_PER_SECOND),
                 Target("peak RSS < 1 GiB", rss.peak < RSS_LIMIT_BYTES)],
        metrics={"patients": patients, "seconds": seconds, "join_seconds": join_seconds,
                 "patients_per_second": rate, "answer_patients_per_second": answer_rate,
                 "peak_rss_bytes": rss.peak, "peak_rss_single_process_bytes": rss.peak_single,
                 "export_bytes": size, "workers": workers},
    )
