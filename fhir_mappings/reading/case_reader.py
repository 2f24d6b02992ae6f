"""FHIR R4 resources → ``Case`` with provenance, plus a report of what was skipped and why.

Entry point: ``read_case(items, patient_id)``. Items are any mix of Bundles (searchset,
collection, transaction, batch) and single resources, as a CDS request or a FHIR server gives them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from fhir_mappings.reading.conflicts import Discordance, resolve
from fhir_mappings.reading.findings import (
    PRELIMINARY_STATUSES,
    READER_BY_CODING,
    Finding,
    MarrowReading,
    PrimarySite,
    Reader,
    SiteStatus,
    UnreadableValueError,
    metastasis_condition_findings,
)
from fhir_mappings.reading.resources import GatheredResources, Resource, gather, reference_of
from fhir_mappings.reading.validation import InvalidResource, validate
from fhir_mappings.reading.values import (
    codings,
    lookup,
    observed_at_text,
    parse_fhir_datetime,
    reference_target,
    well_formed_codings,
)
from fhir_mappings.results_codes import RESULT_OBSERVATION_CODINGS
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.model import CodingKey
from neuroblastoma.ages import PartialDate
from neuroblastoma.anatomy import Laterality
from neuroblastoma.biology import (
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MycnStatus,
    Ploidy,
    ResectionExtent,
)
from neuroblastoma.case import (
    Case,
    Evidence,
    FactKey,
    FunctionalImaging,
    ImagingModality,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    MetastaticSite,
    PrimaryTumour,
)
from neuroblastoma.facts import Presence

MCODE_HISTOLOGY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
IGNORED_STATUSES = frozenset({"entered-in-error", "cancelled", "registered"})
# What a reader may raise on a resource too malformed for it (validation then reports the resource).
_SHAPE_ERRORS = (TypeError, AttributeError, KeyError, IndexError, ValueError, AssertionError)
# Codes the rules read: a Condition with none of them is reported unrecognised unvalidated.
READ_CONDITION_CODINGS: frozenset[CodingKey] = (
    vs.NEUROBLASTOMA_CONDITION_CODINGS | frozenset(vs.HISTOLOGY_CANDIDATES_BY_CODING) | vs.SECONDARY_NEOPLASM_CODINGS)


@dataclass(frozen=True)
class MappingReport:
    """What the mapper did not use, and why — shown on cards, never silently dropped."""

    invalid: tuple[InvalidResource, ...] = ()
    unrecognised: tuple[str, ...] = ()
    ignored_by_status: tuple[str, ...] = ()
    preliminary: tuple[str, ...] = ()
    discordances: tuple[Discordance, ...] = ()
    recorded_only: tuple[str, ...] = ()
    other_patients: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CaseReading:
    case: Case
    patient_ref: str | None
    condition_ref: str | None
    has_neuroblastoma: bool
    report: MappingReport
    existing_results: tuple[Resource, ...] = ()
    sources: tuple[str, ...] = field(default=())


class _Subject:
    """Which references denote the patient: ``Patient/id``, an absolute URL to it, its fullUrl."""

    def __init__(self, patient_id: str | None, gathered: GatheredResources) -> None:
        self.patient_id = patient_id
        self.aliases = {f"Patient/{patient_id}"} if patient_id else set()
        self.aliases |= {url for url, ref in gathered.full_urls.items() if ref == f"Patient/{patient_id}"}
        self.url_suffix = f"/Patient/{patient_id}"

    def owns(self, resource: Resource) -> bool:
        target = reference_target(resource.get("subject")) or reference_target(resource.get("patient"))
        if target is None or self.patient_id is None:
            return target is None or self.patient_id is None
        return target in self.aliases or target.endswith(self.url_suffix)


def _choose_patient(gathered: GatheredResources, patient_id: str | None) -> Resource | None:
    patients = [p for p in gathered.of_type("Patient") if patient_id is None or p.get("id") == patient_id]
    return patients[0] if patients else None


def _histology_concepts(extensions: list[Any]) -> list[Any]:
    return [ext.get("valueCodeableConcept") for ext in extensions
            if isinstance(ext, dict) and ext.get("url") == MCODE_HISTOLOGY_EXTENSION]


def _is_neuroblastoma(condition: Resource) -> bool:
    concepts = [condition.get("code"), *_histology_concepts(condition.get("extension") or [])]
    return any(key in vs.NEUROBLASTOMA_CONDITION_CODINGS or key in vs.HISTOLOGY_CANDIDATES_BY_CODING
               for concept in concepts for key in codings(concept))


def _is_unread_condition(condition: Resource) -> bool:
    """True when, from the unvalidated resource, no code or histology extension names anything the rules
    read; False when one does or when their shape is too broken to tell (validation then reports it)."""
    extensions = condition.get("extension")
    if extensions is not None and not isinstance(extensions, list):
        return False
    keys: list[CodingKey] = []
    for concept in (condition.get("code"), *_histology_concepts(extensions or [])):
        found = well_formed_codings(concept)
        if found is None:
            return False
        keys += found
    return not any(key in READ_CONDITION_CODINGS for key in keys)


def _kind_coding(keys: list[CodingKey]) -> CodingKey | None:
    """The first of an Observation's codings that names a kind the rules read."""
    for key in keys:
        if key in READER_BY_CODING:
            return key
    return None


def _is_existing_result(keys: list[CodingKey]) -> bool:
    return any(key in RESULT_OBSERVATION_CODINGS for key in keys)


def _has_ignored_status(resource: Resource) -> bool:
    status = resource.get("status")
    return isinstance(status, str) and status in IGNORED_STATUSES


def _verification(condition: Resource) -> str:
    keys = codings(condition.get("verificationStatus"))
    return keys[0][1] if keys else "confirmed"


def _partial_date(text: Any) -> PartialDate | None:
    if not isinstance(text, str):
        return None
    try:
        return PartialDate.parse(text)
    except ValueError:
        return None


_AGE_UNIT_DAYS = {"d": (1.0, 1.0), "wk": (7.0, 7.0), "mo": (365.25 / 12, 365.25 / 12), "a": (365.25, 365.25)}


def _onset_age_days(condition: Resource) -> tuple[int, int] | None:
    """Condition.onsetAge as an interval of days: "14 mo" is any day of the 15th month of life.

    Condition.onsetRange (an age range) is read as every day from its low age to its high age; an
    open-ended range leaves the age unknown.
    """
    onset_range = condition.get("onsetRange")
    if "onsetAge" not in condition and isinstance(onset_range, dict):
        low, high = _age_days(onset_range.get("low")), _age_days(onset_range.get("high"))
        return (low[0], high[1]) if low and high and low[0] <= high[1] else None
    return _age_days(condition.get("onsetAge"))


def _age_days(age: Any) -> tuple[int, int] | None:
    """One Age quantity (d, wk, mo, a) as the interval of days it covers."""
    if not isinstance(age, dict) or not isinstance(age.get("value"), int | float):
        return None
    unit = age.get("code") or age.get("unit")
    if unit not in _AGE_UNIT_DAYS:
        return None
    low, _ = _AGE_UNIT_DAYS[unit]
    value = float(age["value"])
    if unit == "d":
        return int(value), int(value)
    return int(value * low), int((int(value) + 1) * low) - 1


def _diagnosis_date(condition: Resource) -> PartialDate | None:
    """Onset (dateTime or Period start), else recordedDate (product decision 1)."""
    onset = condition.get("onsetDateTime")
    if onset is None and isinstance(condition.get("onsetPeriod"), dict):
        onset = condition["onsetPeriod"].get("start")
    return _partial_date(onset) or _partial_date(condition.get("recordedDate"))


class _Reader:
    """Accumulates findings and the report while walking the resources of one patient."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._invalid: list[tuple[int, InvalidResource]] = []  # with the resource's position, for the report order
        self.unrecognised: list[str] = []
        self.ignored: list[str] = []
        self.recorded_only: list[str] = []
        self.existing: list[Resource] = []
        self.notes: list[str] = []
        self._moments: dict[str, datetime | None] = {}
        self._position = 0  # of the resource being read, in reading order
        # Findings read from Observations not yet validated (by id: findings may be equal), with the
        # resource and its position; ``usable`` validates one when the conflict rule asks.
        self._unvalidated: dict[int, tuple[Resource, int]] = {}
        self._unusable: set[int] = set()

    @property
    def invalid(self) -> tuple[InvalidResource, ...]:
        """The invalid resources, in reading order whenever each was validated."""
        return tuple(problem for _, problem in sorted(self._invalid, key=lambda entry: entry[0]))

    def valid(self, resource: Resource, position: int | None = None) -> bool:
        problem = validate(resource)
        if problem:
            self._invalid.append((self._position if position is None else position, problem))
        return problem is None

    def usable(self, finding: Finding) -> bool:
        """Whether a finding may be used: its resource is validated now if it was read unvalidated."""
        pending = self._unvalidated.pop(id(finding), None)
        if pending is not None and not self.valid(*pending):
            self._unusable.add(id(finding))
        return id(finding) not in self._unusable

    def moment(self, text: Any) -> datetime | None:
        """``parse_fhir_datetime``, once per text: a chart repeats a handful of dates over many resources."""
        if not isinstance(text, str):
            return None
        if text not in self._moments:
            self._moments[text] = parse_fhir_datetime(text)
        return self._moments[text]

    def observation(self, resource: Resource) -> None:
        """Read one Observation of the patient's, validating it when it matters.

        One the rules never read is not validated (it is unrecognised). One whose finding decides a fact
        is read first and validated only if the conflict rule needs it (``usable``); the others are
        validated before they are read.
        """
        self._position += 1
        ref = reference_of(resource)
        code = resource.get("code")
        keys = well_formed_codings(code) if code is not None else None  # None: too broken to tell unvalidated
        kind = _kind_coding(keys) if keys is not None else None
        if keys is not None and kind is None and not _is_existing_result(keys) and not _has_ignored_status(resource):
            self.unrecognised.append(ref)
            return
        status = resource.get("status")
        if kind is not None and isinstance(status, str) and status not in IGNORED_STATUSES:
            read = READER_BY_CODING[kind]
            if read is not None:
                self._finding_unvalidated(resource, ref, read, status)
                return
        if not self.valid(resource):
            return
        if status in IGNORED_STATUSES:
            self.ignored.append(ref)
            return
        if keys is None:
            keys = codings(code)
            kind = _kind_coding(keys)
        if kind is None:
            if _is_existing_result(keys):
                self.existing.append(resource)
            else:
                self.unrecognised.append(ref)
            return
        read = READER_BY_CODING[kind]
        if read is None:
            self.recorded_only.append(ref)
            return
        try:
            fact = read(resource)
        except UnreadableValueError:
            self.unrecognised.append(ref)
            return
        if fact is not None:
            key, fact_key, value = fact
            preliminary = resource.get("status") in PRELIMINARY_STATUSES
            self.findings.append(Finding(key, fact_key, value, ref, self.moment(observed_at_text(resource)),
                                         preliminary))

    def condition(self, resource: Resource) -> Resource | None:
        """Validate and read one Condition of the patient's; returns it when it is a neuroblastoma diagnosis.

        One the rules never read (neither neuroblastoma nor a secondary neoplasm) is not validated.
        """
        self._position += 1
        if _is_unread_condition(resource):
            self.unrecognised.append(reference_of(resource))
            return None
        if not self.valid(resource):
            return None
        status = _verification(resource)
        if _is_neuroblastoma(resource):
            if status in ("entered-in-error", "refuted"):
                self.ignored.append(reference_of(resource))
                return None
            return resource
        if any(key in vs.SECONDARY_NEOPLASM_CODINGS for key in codings(resource.get("code"))):
            if status != "entered-in-error":
                self.metastasis_condition(resource)
        else:
            self.unrecognised.append(reference_of(resource))
        return None

    def _finding_unvalidated(self, resource: Resource, ref: str, read: Reader, status: str) -> None:
        """Read a decisive Observation before validating it; anything short of a finding validates it now.

        The readers expect valid FHIR: a shape they cannot read (TypeError and the like) is validation's
        to report; from a valid resource it is a bug, and raised.
        """
        try:
            fact = read(resource)
        except UnreadableValueError:
            if self.valid(resource):
                self.unrecognised.append(ref)
            return
        except _SHAPE_ERRORS:
            if self.valid(resource):
                raise
            return
        if fact is None:  # nothing to use ("no extension into X"); an invalid resource is still reported
            self.valid(resource)
            return
        key, fact_key, value = fact
        finding = Finding(key, fact_key, value, ref, self.moment(observed_at_text(resource)),
                          status in PRELIMINARY_STATUSES)
        self.findings.append(finding)
        self._unvalidated[id(finding)] = (resource, self._position)

    def metastasis_condition(self, resource: Resource) -> None:
        ref = reference_of(resource)
        at = self.moment(resource.get("recordedDate") or resource.get("onsetDateTime"))
        try:
            self.findings.extend(metastasis_condition_findings(resource, ref, at))
        except UnreadableValueError:
            self.unrecognised.append(ref)


def _by_kind(winners: dict[str, Finding]) -> dict[str, list[Finding]]:
    """The winners grouped by the part of their key before its first colon (``site`` for ``site:liver``)."""
    kinds: dict[str, list[Finding]] = {}
    for key, finding in winners.items():
        kinds.setdefault(key.partition(":")[0], []).append(finding)
    return kinds


def _value(winners: dict[str, Finding], key: str, default: Any) -> Any:
    finding = winners.get(key)
    return finding.value if finding else default


def _primaries(winners: dict[str, Finding], kinds: dict[str, list[Finding]], condition: Resource | None,
               multifocal: Presence, notes: list[str]) -> tuple[PrimaryTumour, ...]:
    sites = sorted(kinds.get("primary", ()), key=lambda f: (f.at is not None, f.at), reverse=True)
    if not sites and condition is not None:
        compartment = lookup(vs.COMPARTMENT_BY_CODING, condition.get("bodySite"))
        side = lookup(vs.LATERALITY_BY_CODING, condition.get("bodySite")) or Laterality.UNKNOWN
        if compartment is not None:
            sites = [Finding("primary:condition", FactKey.PRIMARY_TUMOUR, PrimarySite(compartment, side),
                             reference_of(condition), None)]
    if len(sites) > 1 and multifocal is not Presence.PRESENT:
        notes.append("several primary sites are reported without multifocality: the most recent is used")
        sites = sites[:1]
    idrfs = tuple(replace(f.value, source=f.source) for f in kinds.get("idrf", ()))
    extensions = tuple(f.value for f in kinds.get("extension", ()))
    summary = _value(winners, "idrf-summary", Presence.UNKNOWN)
    if not sites:
        if condition is None:
            return ()
        sites = [Finding("primary:unknown", FactKey.PRIMARY_TUMOUR, PrimarySite(None, Laterality.UNKNOWN),
                         reference_of(condition), None)]
    primaries = []
    for index, site in enumerate(sites):
        first = index == 0  # IDRFs, summary and extensions are attached to the first (most recent) primary
        primaries.append(PrimaryTumour(
            compartment=site.value.compartment, side=site.value.side,
            extensions=extensions if first else (), idrfs=idrfs if first else (),
            idrf_summary=summary if first else Presence.UNKNOWN,
            label=f"primary {index + 1}" if len(sites) > 1 else "primary", source=site.source))
    return tuple(primaries)


def _marrow(winners: dict[str, Finding]) -> MarrowAssessment:
    involvement: MarrowReading | None = _value(winners, "marrow-involvement", None)
    percent: MarrowReading | None = _value(winners, "marrow-percent", None)
    presence = involvement.presence if involvement and involvement.presence else Presence.UNKNOWN
    value = percent.percent if percent else None
    # No involvement call is derived from the percentage: the rules read it (a percentage above 0 implies
    # involvement; 0 % without a call decides nothing, metastatic_spread.marrow_involvement).
    method = next((r.method for r in (involvement, percent) if r and r.method is not MarrowMethod.UNKNOWN),
                  MarrowMethod.UNKNOWN)
    return MarrowAssessment(presence, value, method)


# Each modality with the keys of its bone and bone-marrow findings (findings._imaging).
_IMAGING_KEYS = tuple((modality, f"imaging:{modality.value}:bone", f"imaging:{modality.value}:bone-marrow")
                      for modality in ImagingModality)


def _imaging(winners: dict[str, Finding]) -> tuple[FunctionalImaging, ...]:
    scans = []
    for modality, bone_key, marrow_key in _IMAGING_KEYS:
        bone: SiteStatus | None = _value(winners, bone_key, None)
        marrow: SiteStatus | None = _value(winners, marrow_key, None)
        if bone or marrow:
            scans.append(FunctionalImaging(
                modality, bone.presence if bone else Presence.UNKNOWN, marrow.presence if marrow else Presence.UNKNOWN,
                equivocal=bool((bone and bone.equivocal) or (marrow and marrow.equivocal))))
    return tuple(scans)


def _ploidy(winners: dict[str, Finding]) -> Ploidy:
    return Ploidy(_value(winners, "dna-index", None), _value(winners, "ploidy-category", None))


def _evidence(winners: dict[str, Finding], extra: dict[FactKey, list[str]]) -> tuple[Evidence, ...]:
    by_fact: dict[FactKey, dict[str, None]] = {}
    for finding in winners.values():
        by_fact.setdefault(finding.fact, {})[finding.source] = None
    for fact, sources in extra.items():
        by_fact.setdefault(fact, {}).update(dict.fromkeys(sources))
    return tuple(Evidence(fact, tuple(sources)) for fact, sources in by_fact.items())


def read_case(items: Iterable[Any], patient_id: str | None = None) -> CaseReading:
    """Read one patient's case from FHIR resources (the patient named, or the only one present)."""
    gathered = gather(items)
    reader = _Reader()
    patient = _choose_patient(gathered, patient_id)
    if patient is not None and not reader.valid(patient):
        patient = None
    patient_id = patient_id or (patient.get("id") if patient else None)
    subject = _Subject(patient_id, gathered)
    others: list[str] = []
    condition: Resource | None = None
    for resource in gathered.of_type("Condition"):
        if not subject.owns(resource):
            others.append(reference_of(resource))
            continue
        diagnosis = reader.condition(resource)
        if diagnosis is None:
            continue
        if condition is None:
            condition = diagnosis
        else:
            reader.notes.append(f"several neuroblastoma Conditions: {reference_of(condition)} is used")
    for resource in gathered.of_type("Observation"):
        if subject.owns(resource):
            reader.observation(resource)
        else:
            others.append(reference_of(resource))
    other_patients = tuple(others)

    resolved = resolve(reader.findings, reader.usable)
    winners = resolved.winners
    kinds = _by_kind(winners)
    multifocal = _value(winners, "multifocal", Presence.UNKNOWN)
    notes = list(reader.notes)
    age_interval = _onset_age_days(condition) if condition else None
    birth = _partial_date(patient.get("birthDate")) if patient else None
    diagnosis = _diagnosis_date(condition) if condition else None
    age_sources = [reference_of(r) for r in (patient, condition) if r is not None]
    if condition is not None and _is_histology_only(condition) and "histology" not in winners:
        notes.append("the Condition's morphology code does not name the INPC subtype; report it separately")
    histology = _value(winners, "histology", HistologicCategory.UNKNOWN)
    facts: dict[str, Any] = dict(
        patient=patient_id or "unknown-patient",
        primaries=_primaries(winners, kinds, condition, multifocal, notes),
        multifocal=multifocal,
        lymph_nodes=tuple(f.value for f in kinds.get("node", ())),
        metastases=tuple(MetastasisFinding(MetastaticSite(f.key.split(":", 1)[1]), f.value.presence,
                                           f.value.equivocal, f.source)
                         for f in kinds.get("site", ())),
        metastatic_survey=_value(winners, "work-up", Presence.UNKNOWN),
        bone_marrow=_marrow(winners),
        functional_imaging=_imaging(winners),
        primary_mibg_avid=_value(winners, "mibg-avidity", Presence.UNKNOWN),
        effusions=tuple(f.value for f in kinds.get("effusion", ())),
        histology=histology,
        grade=_value(winners, "grade", DifferentiationGrade.UNKNOWN),
        inpc=_value(winners, "inpc", InpcClass.UNKNOWN),
        mycn=_value(winners, "mycn", MycnStatus.UNKNOWN),
        chr11q_aberration=_value(winners, "11q", Presence.UNKNOWN),
        chr1p_aberration=_value(winners, "1p", Presence.UNKNOWN),
        other_scas=tuple(f.value for f in kinds.get("other-sca", ())),
        ploidy=_ploidy(winners),
        ms_symptoms=_value(winners, "symptoms", Presence.UNKNOWN),
        resection=_value(winners, "resection", ResectionExtent.UNKNOWN),
    )
    try:
        case = Case(
            birth_date=birth,
            diagnosis_date=diagnosis,
            age_days=age_interval[0] if age_interval else None,
            age_days_max=age_interval[1] if age_interval else None,
            evidence=_evidence(winners, {FactKey.AGE: age_sources}),
            **facts,
        )
    except ValueError as error:  # e.g. a diagnosis date before the birth date: only the dates are dropped
        notes.append(f"dates cannot be used: {error}")
        case = Case(evidence=_evidence(winners, {}), **facts)
    if reader.recorded_only and case.mycn is MycnStatus.UNKNOWN:
        notes.append("MYCN copy numbers are recorded but the laboratory's MYCN call is missing")
    report = MappingReport(
        invalid=reader.invalid, unrecognised=tuple(reader.unrecognised),
        ignored_by_status=tuple(reader.ignored),
        preliminary=tuple(f.source for f in winners.values() if f.preliminary),
        discordances=resolved.discordances, recorded_only=tuple(reader.recorded_only),
        other_patients=other_patients, notes=tuple(notes))
    used = tuple(dict.fromkeys([*age_sources, *(f.source for f in winners.values())]))
    return CaseReading(case, f"Patient/{patient_id}" if patient_id else None,
                       reference_of(condition) if condition else None, condition is not None, report,
                       tuple(reader.existing), used)


def _is_histology_only(condition: Resource) -> bool:
    return not any(key in vs.NEUROBLASTOMA_CONDITION_CODINGS for key in codings(condition.get("code"))) and any(
        len(vs.HISTOLOGY_CANDIDATES_BY_CODING.get(key, frozenset())) > 1 for key in codings(condition.get("code")))
