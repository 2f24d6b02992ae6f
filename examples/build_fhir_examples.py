"""Build the FHIR example data in examples/fhir/ from the example cases in examples/cases/.

* ``examples/fhir/<patient>.json``: one transaction Bundle per ``examples/cases/<patient>.json``
  (``PUT Type/id``, so loading it into a FHIR server keeps the ids; the HAPI loader in docker/ does so).
* ``examples/fhir/messy/<name>.json``: hand-written real-world data the reader must cope with
  (duplicates, entered-in-error, unknown codes, preliminary results, an invalid resource, a searchset).
  They are collection or searchset Bundles, not transactions: a server would rightly refuse the invalid
  one, so they live in their own folder. Their expected results are in examples/expected-fhir-results.json.

Run from the repository root::

    python -m examples.build_fhir_examples          # (re)write the files
    python -m examples.build_fhir_examples --check  # exit 1 when a committed file is stale or missing
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(ROOT))

from examples.real_ehr_examples import REAL_EHR  # noqa: E402
from examples.source_examples import SOURCE_EXAMPLES  # noqa: E402
from fhir_mappings.terminology import codes as std  # noqa: E402
from fhir_mappings.terminology.local_biology import MYCN_STATUS, SEGMENTAL_ABERRATION  # noqa: E402
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES  # noqa: E402
from fhir_mappings.terminology.local_staging import IDRF  # noqa: E402
from fhir_mappings.writing.case_to_fhir import bundle_of, case_resources, case_to_bundle  # noqa: E402
from neuroblastoma.case_json import case_from_json  # noqa: E402

CASES_DIR = ROOT / "examples" / "cases"
FHIR_DIR = ROOT / "examples" / "fhir"
MESSY_DIR = FHIR_DIR / "messy"

Resource = dict[str, Any]
HOSPITAL = "https://fhir.hospital.example/r4"  # the base of the FHIR server in the searchset example


# ---- clean examples: one per case file -----------------------------------------------------------

def case_document(name: str) -> dict[str, Any]:
    return json.loads((CASES_DIR / f"{name}.json").read_text(encoding="utf-8"))


def clean_bundles() -> dict[str, dict[str, Any]]:
    """``{patient: transaction Bundle}`` for every case file."""
    return {path.stem: case_to_bundle(case_from_json(json.loads(path.read_text(encoding="utf-8"))))
            for path in sorted(CASES_DIR.glob("*.json"))}


# ---- messy examples: a clean base, then hand-written real-world resources --------------------------

def _base(case_name: str, patient: str, **changes: Any) -> list[Resource]:
    """The resources of an example case under another patient id, with case fields changed (None drops)."""
    document = {**case_document(case_name), "patient": patient, **changes}
    return case_resources(case_from_json({k: v for k, v in document.items() if v is not None}))


def _find(resources: list[Resource], resource_id: str) -> Resource:
    return next(r for r in resources if r.get("id") == resource_id)


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def _subject(patient: str) -> dict[str, str]:
    return {"reference": f"Patient/{patient}"}


LABORATORY = {"coding": [std.OBS_CATEGORY_LABORATORY.coding()]}
IMAGING = {"coding": [std.OBS_CATEGORY_IMAGING.coding()]}


def messy_duplicates() -> dict[str, Any]:
    """MYCN reported twice: an older preliminary 'amplified' and a newer final 'not amplified' (final wins,
    discordance recorded); and the same 11q Observation twice (two versions: the later one is kept)."""
    p = "nb-messy-duplicates"
    resources = _base("nb-l1-low", p, mycn=None, chr11qAberration=None)
    resources += [
        {
            "resourceType": "Observation", "id": f"{p}-mycn-preliminary", "status": "preliminary",
            "category": [LABORATORY],
            "code": {"coding": [OBSERVATION_CODES.code("mycn-status").coding()], "text": "MYCN status"},
            "subject": _subject(p), "effectiveDateTime": "2025-05-28",
            "issued": "2025-05-29T09:12:00+02:00",
            "valueCodeableConcept": {"coding": [MYCN_STATUS.code("amplified").coding()]},
            "note": [{"text": "Preliminary read of a poor-quality FISH slide; to be repeated."}],
        },
        {
            "resourceType": "Observation", "id": f"{p}-mycn-final", "status": "final",
            "category": [LABORATORY],
            "code": {"coding": [std.LOINC_MYCN_AMPLIFICATION_FISH.coding()], "text": "MYCN FISH"},
            "subject": _subject(p), "effectiveDateTime": "2025-06-03",
            "issued": "2025-06-04T16:40:00+02:00",
            "valueCodeableConcept": {"coding": [std.LOINC_ANSWER_ABSENT.coding()], "text": "Not amplified"},
        },
        # The same resource fetched twice (prefetch and a later query): versions 1 and 2.
        {
            "resourceType": "Observation", "id": f"{p}-11q",
            "meta": {"versionId": "1", "lastUpdated": "2025-06-02T08:00:00Z"}, "status": "preliminary",
            "category": [LABORATORY],
            "code": {"coding": [OBSERVATION_CODES.code("11q-aberration").coding()], "text": "11q aberration"},
            "subject": _subject(p), "effectiveDateTime": "2025-06-01",
            "valueCodeableConcept": {"coding": [std.SCT_PRESENT.coding()]},
        },
        {
            "resourceType": "Observation", "id": f"{p}-11q",
            "meta": {"versionId": "2", "lastUpdated": "2025-06-05T11:30:00Z"}, "status": "amended",
            "category": [LABORATORY],
            "code": {"coding": [OBSERVATION_CODES.code("11q-aberration").coding()], "text": "11q aberration"},
            "subject": _subject(p), "effectiveDateTime": "2025-06-01",
            "valueCodeableConcept": {"coding": [std.SCT_ABSENT.coding()]},
        },
    ]
    return bundle_of(resources, bundle_type="collection")


def messy_entered_in_error() -> dict[str, Any]:
    """An IDRF recorded in error (would make it L2), a cancelled MYCN result and a duplicate
    neuroblastoma Condition entered in error (whose onset would change the age): all ignored."""
    p = "nb-messy-entered-in-error"
    resources = _base("nb-l1-low", p)
    resources += [
        {
            "resourceType": "Observation", "id": f"{p}-idrf-16-error", "status": "entered-in-error",
            "category": [IMAGING],
            "code": {"coding": [IDRF.code("IDRF-16").coding()]},
            "subject": _subject(p), "effectiveDateTime": "2025-06-01",
            "valueCodeableConcept": {"coding": [std.SCT_PRESENT.coding()]},
            "note": [{"text": "Entered on the wrong patient's report."}],
        },
        {
            "resourceType": "Observation", "id": f"{p}-mycn-cancelled", "status": "cancelled",
            "category": [LABORATORY],
            "code": {"coding": [std.LOINC_MYCN_AMPLIFICATION_FISH.coding()]},
            "subject": _subject(p), "effectiveDateTime": "2025-06-01",
            "valueCodeableConcept": {"coding": [std.LOINC_ANSWER_PRESENT.coding()]},
        },
        {
            "resourceType": "Condition", "id": f"{p}-neuroblastoma-duplicate",
            "verificationStatus": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "entered-in-error",
                "Entered in Error")]},
            "code": {"coding": [std.SCT_NEUROBLASTOMA.coding()]},
            "subject": _subject(p), "onsetDateTime": "2023-03-01",
        },
    ]
    return bundle_of(resources, bundle_type="collection")


def messy_unknown_codes() -> dict[str, Any]:
    """Codes we do not know (LOINC body height, a hospital's own MYCN code, an ICD-10-CM reflux Condition)
    and a MYCN result given only as text: all counted as unrecognised; MYCN stays unknown, never guessed."""
    p = "nb-messy-unknown-codes"
    resources = _base("nb-l1-low", p, mycn=None)
    resources += [
        {
            "resourceType": "Observation", "id": f"{p}-height", "status": "final",
            "category": [{"coding": [_coding("http://terminology.hl7.org/CodeSystem/observation-category",
                                             "vital-signs", "Vital Signs")]}],
            "code": {"coding": [_coding("http://loinc.org", "8302-2", "Body height")]},
            "subject": _subject(p), "effectiveDateTime": "2025-06-01",
            "valueQuantity": {"value": 88, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"},
        },
        {
            "resourceType": "Observation", "id": f"{p}-lab-mycn", "status": "final",
            "category": [LABORATORY],
            "code": {"coding": [_coding("https://lab.hospital.example/codes", "NB-MYCN-FISH", "MYCN FISH")]},
            "subject": _subject(p), "effectiveDateTime": "2025-06-02",
            "valueString": "MYCN/CEP2 ratio 1.1: not amplified",
        },
        {
            "resourceType": "Observation", "id": f"{p}-mycn-text", "status": "final",
            "category": [LABORATORY],
            "code": {"coding": [OBSERVATION_CODES.code("mycn-status").coding()]},
            "subject": _subject(p), "effectiveDateTime": "2025-06-02",
            "valueString": "not amplified",
        },
        {
            "resourceType": "Condition", "id": f"{p}-reflux",
            "clinicalStatus": {"coding": [_coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                  "active", "Active")]},
            "code": {"coding": [_coding("http://hl7.org/fhir/sid/icd-10-cm", "K21.9",
                                        "Gastro-esophageal reflux disease without esophagitis")]},
            "subject": _subject(p), "onsetDateTime": "2024-11",
        },
    ]
    return bundle_of(resources, bundle_type="collection")


def messy_preliminary() -> dict[str, Any]:
    """The 11q aberration that decides INRG group G is still a preliminary report: used, and flagged."""
    p = "nb-messy-preliminary"
    resources = _base("nb-l2-11q", p)
    eleven_q = _find(resources, f"{p}-11q")
    eleven_q["status"] = "preliminary"
    eleven_q["issued"] = "2025-06-02T14:05:00Z"
    return bundle_of(resources, bundle_type="collection")


def messy_invalid_resource() -> dict[str, Any]:
    """Two Observations that are not valid FHIR (status 'done'; a 13th month): reported and skipped."""
    p = "nb-messy-invalid-resource"
    resources = _base("nb-l1-low", p)
    _find(resources, f"{p}-dna-index")["status"] = "done"
    resources.append({
        "resourceType": "Observation", "id": f"{p}-sca-17q-gain", "status": "final",
        "category": [LABORATORY],
        "code": {"coding": [OBSERVATION_CODES.code("other-sca").coding()]},
        "subject": _subject(p), "effectiveDateTime": "2025-13-45",
        "valueCodeableConcept": {"coding": [SEGMENTAL_ABERRATION.code("17q-gain").coding()]},
    })
    return bundle_of(resources, bundle_type="collection")


def messy_searchset() -> dict[str, Any]:
    """A FHIR server's searchset: an outcome entry, absolute references, the liver metastasis as an
    ICD-10-CM C78.7 secondary-neoplasm Condition, bone metastasis refuted, and an unrelated Condition."""
    p = "nb-messy-searchset"
    resources = [r for r in _base("nb-ms-infant", p)
                 if r["id"] not in (f"{p}-metastasis-liver", f"{p}-metastasis-bone")]
    resources += [
        {
            "resourceType": "Condition", "id": f"{p}-liver-metastases",
            "clinicalStatus": {"coding": [_coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                  "active", "Active")]},
            "verificationStatus": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")]},
            "code": {"coding": [std.ICD_C78_7.coding()]},
            "subject": {"reference": f"{HOSPITAL}/Patient/{p}"},
            "onsetDateTime": "2025-06-01", "recordedDate": "2025-06-02",
        },
        {
            "resourceType": "Condition", "id": f"{p}-bone-metastases",
            "verificationStatus": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted", "Refuted")]},
            "code": {"coding": [std.ICD_C79_51.coding()]},
            "subject": _subject(p), "recordedDate": "2025-06-03",
            "note": [{"text": "Suspected on ultrasound; MIBG and MRI show no bone disease."}],
        },
        {
            "resourceType": "Condition", "id": f"{p}-reflux",
            "clinicalStatus": {"coding": [_coding("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                  "active", "Active")]},
            "code": {"coding": [_coding("http://hl7.org/fhir/sid/icd-10-cm", "K21.9",
                                        "Gastro-esophageal reflux disease without esophagitis")]},
            "subject": _subject(p),
        },
    ]
    entries: list[dict[str, Any]] = []
    for resource in resources:
        mode = "include" if resource["resourceType"] == "Patient" else "match"
        entries.append({"fullUrl": f"{HOSPITAL}/{resource['resourceType']}/{resource['id']}",
                        "resource": resource, "search": {"mode": mode}})
    entries.append({
        "resource": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "warning", "code": "incomplete",
                       "diagnostics": "Observations before 2020-01-01 are archived and were not searched."}],
        },
        "search": {"mode": "outcome"},
    })
    matches = sum(1 for e in entries if e.get("search", {}).get("mode") == "match")
    return {"resourceType": "Bundle", "type": "searchset", "total": matches,
            "link": [{"relation": "self", "url": f"{HOSPITAL}/Condition?patient={p}"}], "entry": entries}


MESSY: dict[str, Callable[[], dict[str, Any]]] = {
    "nb-messy-duplicates": messy_duplicates,
    "nb-messy-entered-in-error": messy_entered_in_error,
    "nb-messy-unknown-codes": messy_unknown_codes,
    "nb-messy-preliminary": messy_preliminary,
    "nb-messy-invalid-resource": messy_invalid_resource,
    "nb-messy-searchset": messy_searchset,
    **REAL_EHR,  # issue 13: several Conditions, equivocal foci resolved, multifocal by side, implausible dates
    **SOURCE_EXAMPLES,  # issue 18: evolving hepatomegaly coded as the MS symptom
}


def messy_bundles() -> dict[str, dict[str, Any]]:
    return {name: copy.deepcopy(build()) for name, build in MESSY.items()}


# ---- files ----------------------------------------------------------------------------------------

def render(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[Path, str]:
    """Every file this script owns, with its content."""
    files = {FHIR_DIR / f"{name}.json": render(bundle) for name, bundle in clean_bundles().items()}
    files |= {MESSY_DIR / f"{name}.json": render(bundle) for name, bundle in messy_bundles().items()}
    return files


def stale_files() -> list[str]:
    """Files that differ from what the script would write, are missing, or are left over."""
    wanted = expected_files()
    problems = [f"{path.relative_to(ROOT)}: {'differs' if path.exists() else 'missing'}"
                for path, text in wanted.items()
                if not path.exists() or path.read_text(encoding="utf-8") != text]
    present = set(FHIR_DIR.glob("*.json")) | set(MESSY_DIR.glob("*.json"))
    problems += [f"{path.relative_to(ROOT)}: not built from any case (remove it)"
                 for path in sorted(present - set(wanted))]
    return problems


def write() -> int:
    wanted = expected_files()
    MESSY_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in wanted.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for path in (set(FHIR_DIR.glob("*.json")) | set(MESSY_DIR.glob("*.json"))) - set(wanted):
        path.unlink()
    return len(wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed files are stale")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_files()
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python -m examples.build_fhir_examples", file=sys.stderr)
        return 1 if problems else 0
    count = write()
    print(f"wrote {count} Bundles to {FHIR_DIR.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
