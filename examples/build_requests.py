"""Write sample CDS Hooks requests (patient-view, full prefetch) from the example FHIR Bundles.

    python -m examples.build_requests          # writes examples/requests/*.json
    python -m examples.build_requests --check  # exits 1 when the committed files are stale

Used by the README's copy-paste request, the docs and the tests.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SAMPLES = ("nb-l2-infant", "nb-ms-infant", "nb-indeterminate-mycn", "nb-m-older")


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}


def patient_view_request(bundle: dict[str, Any], patient_id: str) -> dict[str, Any]:
    resources = [entry["resource"] for entry in bundle["entry"]]
    by_type = {t: [r for r in resources if r["resourceType"] == t] for t in ("Patient", "Condition", "Observation")}
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid5(uuid.NAMESPACE_URL, f"nbcds-example/{patient_id}")),
        "context": {"userId": "Practitioner/example-oncologist", "patientId": patient_id},
        "prefetch": {
            "patient": by_type["Patient"][0],
            "conditions": _searchset(by_type["Condition"]),
            "observations": _searchset(by_type["Observation"]),
        },
    }


def build() -> dict[Path, str]:
    out = {}
    for patient in SAMPLES:
        bundle = json.loads((HERE / "fhir" / f"{patient}.json").read_text(encoding="utf-8"))
        request = patient_view_request(bundle, patient)
        out[HERE / "requests" / f"patient-view-{patient}.json"] = json.dumps(request, indent=2) + "\n"
    return out


def main(argv: list[str]) -> int:
    files = build()
    if "--check" in argv:
        stale = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"stale: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
