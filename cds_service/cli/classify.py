"""``nbcds classify``: case files classified directly; FHIR files through the service's own call pipeline.

A FHIR record gets exactly what the service would answer for the same resources: the classification and
the data notes the card shows, or "no neuroblastoma Condition on record" (no classification, as the
service sends no card). A bad file is one line on stderr naming the file (and field); the others go on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from cds_service.batch import BatchRunner, PatientRecord
from cds_service.cli.case_files import CaseInputError, load_file
from cds_service.cli.text_summary import render_text_summary
from cds_service.protocol.pipeline import CallResult
from neuroblastoma.classification import classify
from neuroblastoma.results import Classification
from neuroblastoma.summary import classification_summary

EXIT_BAD_INPUT = 2
NOT_CLASSIFIED = "not classified: no neuroblastoma Condition on record"


def rendered(result: Classification, notes: tuple[str, ...], as_json: bool) -> str:
    """One patient's classification as the CLI prints it: a JSON line, or a few lines of text."""
    if as_json:
        summary: dict[str, Any] = classification_summary(result)
        summary["notes"] = list(notes)
        return json.dumps(summary, ensure_ascii=False) + "\n"
    text = render_text_summary(result)
    return text + "".join(f"\n  note: {note}" for note in notes) + "\n"


def rendered_answer(label: str, patient_id: str, answer: CallResult, as_json: bool) -> tuple[str, str | None]:
    """What to print for one FHIR record answered by the pipeline: (stdout text, stderr line or None when the
    pipeline refused the record)."""
    if answer.status != 200 or answer.answer is None:
        diagnostics = answer.body.get("issue", [{}])[0].get("diagnostics", "cannot be answered")
        return "", f"nbcds: {label}: patient {patient_id}: {diagnostics}"
    classification = answer.answer.classification
    if classification is not None:
        return rendered(classification, answer.answer.notes, as_json), None
    if as_json:
        return json.dumps({"patient": patient_id, "neuroblastoma": False, "reason": NOT_CLASSIFIED,
                           "notes": list(answer.answer.notes)}, ensure_ascii=False) + "\n", None
    return f"{patient_id}\n  {NOT_CLASSIFIED}\n", None


def _record(runner: BatchRunner, path: Path, record: PatientRecord, as_json: bool, out: TextIO, err: TextIO) -> bool:
    """Answer one FHIR record; False when the pipeline refused it (said on stderr)."""
    text, error = rendered_answer(str(path), record.patient_id, runner.answer(record), as_json)
    out.write(text)
    if error:
        print(error, file=err)
    return error is None


def classify_files(paths: Sequence[str], as_json: bool, out: TextIO, err: TextIO, *, workers: int = 1,
                   fhir_out: str | None = None) -> int:
    """Classify every case and FHIR record in every file, and every patient of every Bulk Data export
    directory; exit status 2 if any file, line or record was bad."""
    status = 0
    runner: BatchRunner | None = None
    for name in paths:
        path = Path(name)
        if path.is_dir():
            from cds_service.bulk.export_run import classify_export

            status = max(status, classify_export(path, as_json, out, err, workers=workers,
                                                 fhir_out=Path(fhir_out) if fhir_out else None))
            continue
        try:
            loaded = load_file(path)
        except CaseInputError as error:
            print(f"nbcds: {error}", file=err)
            status = EXIT_BAD_INPUT
            continue
        for case in loaded.cases:
            out.write(rendered(classify(case), (), as_json))
        if loaded.records:
            runner = runner or BatchRunner()
        for record in loaded.records:
            if runner is not None and not _record(runner, path, record, as_json, out, err):
                status = EXIT_BAD_INPUT
    return status
