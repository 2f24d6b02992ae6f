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
from neuroblastoma.classification import classify
from neuroblastoma.results import Classification
from neuroblastoma.summary import classification_summary

EXIT_BAD_INPUT = 2
NOT_CLASSIFIED = "not classified: no neuroblastoma Condition on record"


def _write(result: Classification, notes: tuple[str, ...], as_json: bool, out: TextIO) -> None:
    if as_json:
        summary: dict[str, Any] = classification_summary(result)
        summary["notes"] = list(notes)
        out.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    text = render_text_summary(result)
    out.write(text + "".join(f"\n  note: {note}" for note in notes) + "\n")


def _record(runner: BatchRunner, path: Path, record: PatientRecord, as_json: bool, out: TextIO, err: TextIO) -> bool:
    """Answer one FHIR record; False when the pipeline refused it (said on stderr)."""
    answer = runner.answer(record)
    if answer.status != 200 or answer.answer is None:
        diagnostics = answer.body.get("issue", [{}])[0].get("diagnostics", "cannot be answered")
        print(f"nbcds: {path}: patient {record.patient_id}: {diagnostics}", file=err)
        return False
    classification = answer.answer.classification
    if classification is not None:
        _write(classification, answer.answer.notes, as_json, out)
    elif as_json:
        out.write(json.dumps({"patient": record.patient_id, "neuroblastoma": False, "reason": NOT_CLASSIFIED,
                              "notes": list(answer.answer.notes)}, ensure_ascii=False) + "\n")
    else:
        out.write(f"{record.patient_id}\n  {NOT_CLASSIFIED}\n")
    return True


def classify_files(paths: Sequence[str], as_json: bool, out: TextIO, err: TextIO) -> int:
    """Classify every case and FHIR record in every file; exit status 2 if any file or record was bad."""
    status = 0
    runner: BatchRunner | None = None
    for name in paths:
        path = Path(name)
        try:
            loaded = load_file(path)
        except CaseInputError as error:
            print(f"nbcds: {error}", file=err)
            status = EXIT_BAD_INPUT
            continue
        for case in loaded.cases:
            _write(classify(case), (), as_json, out)
        if loaded.records:
            runner = runner or BatchRunner()
        for record in loaded.records:
            if runner is not None and not _record(runner, path, record, as_json, out, err):
                status = EXIT_BAD_INPUT
    return status
