"""``nbcds classify DIR``: every patient of a FHIR Bulk Data export, answered by the service's own pipeline.

The export is joined by patient on disk (``partition``), then each bucket of patients is answered by the
``BatchRunner`` — the same call the service answers for an EHR — in this process or in ``workers``
processes. Each patient gets exactly the resources that are theirs, and one result (the CLI's text or JSON,
as for a single file); ``--fhir-out DIR`` also writes the results the card would offer to record (the
determinate stage and risk Observations) as ``DIR/Observation.ndjson``, with stable ids, ready to load into
a FHIR server. On a terminal, stderr shows the progress.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cds_service.batch import BatchRunner, PatientRecord
from cds_service.bulk.partition import bucket_count, export_files, partition, patients_in
from cds_service.cli.classify import EXIT_BAD_INPUT, rendered_answer
from cds_service.protocol.pipeline import CallResult

_RUNNER: BatchRunner | None = None  # one per worker process, built on first use


@dataclass(frozen=True)
class PatientOutput:
    out: str
    error: str | None
    fhir: tuple[str, ...]


def result_lines(answer: CallResult) -> tuple[str, ...]:
    """The results the card offers to record, as NDJSON lines with ids stable per patient and result."""
    if answer.answer is None:
        return ()
    lines = []
    for card, _ in answer.answer.cards:
        for suggestion in card.suggestions or ():
            for action in suggestion.actions or ():
                if action.type in ("create", "update") and action.resource:
                    resource = dict(action.resource)
                    if not resource.get("id"):
                        code = json.dumps(resource.get("code"), sort_keys=True)
                        subject = json.dumps(resource.get("subject"), sort_keys=True)
                        digest = hashlib.sha256(f"{subject}|{code}".encode()).hexdigest()[:32]
                        resource["id"] = f"nbcds-{digest}"
                    lines.append(json.dumps(resource, ensure_ascii=False, separators=(",", ":")))
    return tuple(lines)


def answer_bucket(task: tuple[str, str, bool, bool]) -> list[PatientOutput]:
    """Answer every patient of one bucket (in a worker process); the bucket file is removed after."""
    global _RUNNER
    bucket, label, as_json, with_fhir = task
    runner = _RUNNER = _RUNNER or BatchRunner()
    outputs = []
    for patient, resources in patients_in(Path(bucket)):
        answer = runner.answer(PatientRecord(patient, tuple(resources)))
        text, error = rendered_answer(label, patient, answer, as_json)
        outputs.append(PatientOutput(text, error, result_lines(answer) if with_fhir else ()))
    Path(bucket).unlink()
    return outputs


class _Progress:
    """``patients 12,345 · 410/s · buckets 30/256`` on one terminal line of stderr, at most ten times a second."""

    def __init__(self, err: TextIO, buckets: int) -> None:
        self.err, self.buckets, self.shown = err, buckets, 0.0
        self.enabled = err.isatty()
        self.start = time.monotonic()

    def update(self, patients: int, buckets_done: int, final: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not final and now - self.shown < 0.1):
            return
        self.shown = now
        rate = patients / max(now - self.start, 1e-9)
        self.err.write(f"\rnbcds: patients {patients:,} · {rate:,.0f}/s · buckets {buckets_done}/{self.buckets}"
                       + ("\n" if final else ""))
        self.err.flush()


def _answered(tasks: list[tuple[str, str, bool, bool]], workers: int) -> Iterator[list[PatientOutput]]:
    if workers <= 1 or len(tasks) <= 1:
        yield from map(answer_bucket, tasks)
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(answer_bucket, tasks, chunksize=1)


def _write_all(outputs: Iterable[list[PatientOutput]], out: TextIO, err: TextIO, fhir: TextIO | None,
               progress: _Progress) -> tuple[int, bool]:
    patients, refused = 0, False
    for done, bucket in enumerate(outputs, 1):
        for output in bucket:
            out.write(output.out)
            if output.error:
                print(output.error, file=err)
                refused = True
            if fhir is not None:
                fhir.writelines(line + "\n" for line in output.fhir)
        patients += len(bucket)
        progress.update(patients, done)
    return patients, refused


def classify_export(directory: Path, as_json: bool, out: TextIO, err: TextIO, *, workers: int = 1,
                    fhir_out: Path | None = None) -> int:
    """Classify every patient of a Bulk Data export directory; exit status 2 if a line or record was bad."""
    files = export_files(directory)
    if not files:
        print(f"nbcds: {directory}: no *.ndjson or *.ndjson.gz files (a FHIR Bulk Data export directory)", file=err)
        return EXIT_BAD_INPUT
    buckets = bucket_count(files)
    with tempfile.TemporaryDirectory(prefix="nbcds-bulk-") as spill_dir:
        spill = Path(spill_dir)
        stats = partition(directory, spill, buckets)
        for bad in stats.bad_lines:
            print(f"nbcds: {bad}", file=err)
        tasks = [(str(path), str(directory), as_json, fhir_out is not None)
                 for path in sorted(spill.glob("bucket-*.bin")) if path.stat().st_size]
        progress = _Progress(err, len(tasks))
        fhir: Any = None
        if fhir_out is not None:
            fhir_out.mkdir(parents=True, exist_ok=True)
            fhir = open(fhir_out / "Observation.ndjson", "w", encoding="utf-8")  # noqa: SIM115
        try:
            patients, refused = _write_all(_answered(tasks, workers), out, err, fhir, progress)
        finally:
            if fhir is not None:
                fhir.close()
        progress.update(patients, len(tasks), final=True)
    return EXIT_BAD_INPUT if stats.bad_lines or refused else 0
