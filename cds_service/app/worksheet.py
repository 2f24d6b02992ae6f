"""The worksheet's answers → the radiology facts of a ``Case`` → the stage, live, and the Observations to save.

Every derivation is the domain's: each IDRF from the reported structure and relation by ``assess_idrf``
(renal-vessel contact → IDRF; inferior mesenteric artery encasement → not), IDRF 1 from the extension by the
staging rules, the stage and risk groups by ``classify`` on the chart's case with the worksheet's facts in place
of the chart's radiology. Nothing is decided here, and nothing in the browser.

Saving writes the Observations exactly as the implementation guide describes them (``case_to_fhir``, the same
encoder as the examples), as ``preliminary`` until the radiologist signs (then ``final``), each IDRF carrying
its structure and relation with the call the rules derived from them, plus one Provenance naming the author.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cds_service.app.worksheet_fields import FIELDS, SPINAL, STRUCTURES, idrf_name
from fhir_mappings.writing.case_to_fhir import case_resources
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.case import (
    Case,
    FunctionalImaging,
    ImagingModality,
    MetastasisFinding,
    MetastaticSite,
    NodalFinding,
    PrimaryTumour,
    TumourExtension,
)
from neuroblastoma.classification import classify
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import (
    IdrfAssessment,
    IdrfCode,
    IdrfFinding,
    SpinalCanalFinding,
    StructureKind,
    StructureRelation,
    assess_idrf,
)
from neuroblastoma.results import Classification

_YES_NO = {"yes": Presence.PRESENT, "no": Presence.ABSENT}
_SCAN = {"positive": Presence.PRESENT, "negative": Presence.ABSENT}
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"


@dataclass(frozen=True)
class Answers:
    """The worksheet's answers, each checked against its field; unknown names and values are reported."""

    values: Mapping[str, str]
    problems: tuple[str, ...] = ()

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> Answers:
        values, problems = {}, []
        for name, value in raw.items():
            field = FIELDS.get(name)
            text = str(value).strip() if value is not None else ""
            if field is None or not text:
                continue
            if field.kind == "choice" and text not in {c.value for c in field.choices}:
                problems.append(f"{field.label}: '{text[:40]}' is not one of the choices")
            elif field.kind == "decimal" and not _number(text, 0, 100):
                problems.append(f"{field.label}: a number from 0 to 100")
            elif field.kind == "date" and not _date(text):
                problems.append(f"{field.label}: a date YYYY-MM-DD")
            elif field.kind == "boolean" and text not in ("yes", "no", "true", "false", "on"):
                problems.append(f"{field.label}: yes or no")
            else:
                values[name] = {"true": "yes", "on": "yes", "false": "no"}.get(text, text)
        return cls(values, tuple(problems))

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def yes(self, name: str) -> bool:
        return self.values.get(name) == "yes"


def _number(text: str, low: float, high: float) -> bool:
    try:
        return low <= float(text) <= high
    except ValueError:
        return False


def _date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def idrf_findings(answers: Answers) -> tuple[IdrfFinding, ...]:
    """One finding per IDRF row the radiologist filled in, judged from its relation (the call is derived)."""
    findings = []
    for code in STRUCTURES:
        relation = answers.get(idrf_name(code, "relation"))
        if relation is None:
            continue
        structure = answers.get(idrf_name(code, "structure")) or STRUCTURES[code][0].value
        findings.append(IdrfFinding(code, structure=StructureKind(structure), relation=StructureRelation(relation)))
    spinal = [answers.get(idrf_name(SPINAL, part)) for part in ("canal-percent", "over-third", "leptomeninges",
                                                                 "cord-signal")]
    if any(spinal):
        percent, over, lepto, cord = spinal
        findings.append(IdrfFinding(SPINAL, spinal_canal=SpinalCanalFinding(
            float(percent) / 100 if percent else None, _YES_NO.get(over or "", Presence.UNKNOWN),
            _YES_NO.get(lepto or "", Presence.UNKNOWN), _YES_NO.get(cord or "", Presence.UNKNOWN))))
    return tuple(findings)


def assessed_idrfs(answers: Answers) -> tuple[tuple[IdrfFinding, IdrfAssessment], ...]:
    """Each filled-in IDRF with the rules' verdict, and the finding as it is saved: its call is the verdict."""
    pairs = []
    for finding in idrf_findings(answers):
        assessment = assess_idrf(finding)
        pairs.append((dataclasses.replace(finding, status=assessment.presence), assessment))
    return tuple(pairs)


def _primary(answers: Answers) -> PrimaryTumour | None:
    compartment = answers.get("compartment")
    pairs = assessed_idrfs(answers)
    extension = answers.get("extension-compartment")
    if not compartment and not pairs and not extension:
        return None
    extensions = (TumourExtension(Compartment(extension), Laterality(answers.get("extension-side") or "unknown"),
                                  _YES_NO.get(answers.get("extension-contiguous") or "", Presence.UNKNOWN)),
                  ) if extension else ()
    presences = [a.presence for _, a in pairs]
    if Presence.PRESENT in presences:
        summary = Presence.PRESENT
    elif answers.yes("idrf-others-absent") and Presence.UNKNOWN not in presences:
        summary = Presence.ABSENT
    else:
        summary = Presence.UNKNOWN
    return PrimaryTumour(Compartment(compartment) if compartment else None,
                         Laterality(answers.get("side") or "unknown"), extensions,
                         tuple(finding for finding, _ in pairs), summary, label="primary (worksheet)")


def radiology_case(answers: Answers, patient: str) -> Case:
    """Only what the worksheet records, as a case (facts left blank stay unknown)."""
    primary = _primary(answers)
    nodes = tuple(NodalFinding(region, Presence.PRESENT if value == "involved" else Presence.ABSENT)
                  for region in NodalRegion if (value := answers.get(f"node-{region.value}")))
    sites = tuple(MetastasisFinding(site, Presence.ABSENT if value == "absent" else Presence.PRESENT,
                                    equivocal=value == "equivocal")
                  for site in MetastaticSite if (value := answers.get(f"site-{site.value}")))
    bone, marrow = (_SCAN.get(answers.get(name) or "", Presence.UNKNOWN) for name in ("mibg-bone", "mibg-marrow"))
    imaging = (FunctionalImaging(ImagingModality.MIBG, bone, marrow),) if bone.known or marrow.known else ()
    return Case(patient, primaries=(primary,) if primary else (), lymph_nodes=nodes, metastases=sites,
                functional_imaging=imaging,
                primary_mibg_avid=_YES_NO.get(answers.get("mibg-avid") or "", Presence.UNKNOWN))


def with_worksheet(chart: Case, answers: Answers) -> Case:
    """The chart's case with the worksheet's radiology in place of the chart's, fact by fact."""
    sheet = radiology_case(answers, chart.patient)
    keep_scans = tuple(s for s in chart.functional_imaging if not (sheet.functional_imaging and
                                                                  s.modality is ImagingModality.MIBG))
    changes: dict[str, Any] = {}
    if sheet.primaries:
        changes["primaries"] = sheet.primaries
    if sheet.lymph_nodes:
        changes["lymph_nodes"] = sheet.lymph_nodes
    if sheet.metastases:
        sites = {m.site for m in sheet.metastases}
        changes["metastases"] = (*(m for m in chart.metastases if m.site not in sites), *sheet.metastases)
    if sheet.functional_imaging:
        changes["functional_imaging"] = (*keep_scans, *sheet.functional_imaging)
    if sheet.primary_mibg_avid.known:
        changes["primary_mibg_avid"] = sheet.primary_mibg_avid
    return dataclasses.replace(chart, **changes)


@dataclass(frozen=True)
class Preview:
    idrfs: dict[str, tuple[str, str]]  # IDRF code → (present/absent/unknown, the rule's reason)
    classification: Classification
    problems: tuple[str, ...]


def preview(chart: Case, answers: Answers) -> Preview:
    idrfs = {a.code.value: (a.presence.value, a.reason) for _, a in assessed_idrfs(answers)}
    return Preview(idrfs, classify(with_worksheet(chart, answers)), answers.problems)


def worksheet_bundle(answers: Answers, patient_id: str, *, author: str | None, now: datetime | None = None,
                     ) -> dict[str, Any]:
    """The transaction Bundle the worksheet saves: its Observations (preliminary, or final when signed) and a
    Provenance of all of them naming the author (the signed-in ``fhirUser``) and the worksheet."""
    now = now or datetime.now(UTC)
    status = "final" if answers.yes("sign") else "preliminary"
    effective = answers.get("study-date") or now.date().isoformat()
    entries: list[dict[str, Any]] = []
    for resource in case_resources(radiology_case(answers, patient_id)):
        if resource["resourceType"] != "Observation":
            continue
        resource = {key: value for key, value in resource.items() if key != "id"}
        resource.update(status=status, subject={"reference": f"Patient/{patient_id}"}, effectiveDateTime=effective)
        entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": resource,
                        "request": {"method": "POST", "url": "Observation"}})
    if not entries:
        return {"resourceType": "Bundle", "type": "transaction", "entry": []}
    who = {"reference": author} if author else {"display": "Radiologist, via the nbcds IDRF worksheet"}
    agents = [{"type": {"coding": [{"system": PROVENANCE_PARTICIPANT, "code": "author", "display": "Author"}]},
               "who": who}]
    if status == "final":
        agents.append({"type": {"coding": [{"system": PROVENANCE_PARTICIPANT, "code": "attester",
                                            "display": "Attester"}]}, "who": who})
    provenance = {"resourceType": "Provenance", "target": [{"reference": e["fullUrl"]} for e in entries],
                  "recorded": now.isoformat(timespec="seconds"),
                  "activity": {"coding": [{"system": DATA_OPERATION, "code": "CREATE", "display": "create"}]},
                  "agent": [*agents, {"type": {"coding": [{"system": PROVENANCE_PARTICIPANT, "code": "assembler",
                                                           "display": "Assembler"}]},
                                      "who": {"display": "nbcds IDRF and staging worksheet"}}]}
    entries.append({"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": provenance,
                    "request": {"method": "POST", "url": "Provenance"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


IDRF_CODES = tuple(IdrfCode)
