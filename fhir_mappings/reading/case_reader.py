"""FHIR R4 resources → ``Case`` with provenance, plus a report of what was skipped and why.

Entry point: ``read_case(items, patient_id)``. Items are any mix of Bundles (searchset,
collection, transaction, batch) and single resources, as a CDS request or a FHIR server gives them.

``read_case`` works in three steps:

1. **Read the findings** (``ChartReader``): each Condition and Observation of the patient's gives a
   finding or goes to one of the report's lists (unrecognised, ignored by status, recorded only, an
   earlier result of ours). A resource whose codes name nothing the rules read is never validated; a
   decisive Observation (one whose finding decides a fact) is read first and validated in step 2;
   everything else is validated before it is used.
2. **Resolve conflicts** (``conflicts.resolve``): the findings of each fact compete, and the candidates
   are validated in the order they would win. A superseded report that agrees with the winner is never
   validated: it cannot change the answer, and validation is most of the cost of a chart seen for the
   first time (guide section 2).
3. **Assemble the Case** (``case_assembly``) from the winners, the Patient and the neuroblastoma Condition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir_mappings.reading.case_assembly import assemble_case
from fhir_mappings.reading.conditions import (
    MCODE_HISTOLOGY_EXTENSION,
    is_neuroblastoma,
    is_secondary_neoplasm,
    is_unread_condition,
    metastasis_finding,
    verification_status,
)
from fhir_mappings.reading.conflicts import Discordance, resolve
from fhir_mappings.reading.diagnosis_dates import date_the_diagnosis
from fhir_mappings.reading.findings import (
    IGNORED_STATUSES,
    PRELIMINARY_STATUSES,
    Finding,
    FindingKey,
    FindingKind,
    UnreadableValueError,
)
from fhir_mappings.reading.observation_readers import READERS
from fhir_mappings.reading.primaries import attribute, plan_primaries
from fhir_mappings.reading.resources import GatheredResources, Resource, gather, reference_of
from fhir_mappings.reading.validation import InvalidResource, Validation
from fhir_mappings.reading.values import (
    codings,
    observed_at,
    reference_target,
    uses_deprecated_base,
    well_formed_codings,
)
from fhir_mappings.results_codes import RESULT_OBSERVATION_CODINGS
from fhir_mappings.terminology.model import CodingKey
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING, ObservationKind
from neuroblastoma.biology import MycnStatus
from neuroblastoma.case import Case
from neuroblastoma.facts import Presence

__all__ = ["MCODE_HISTOLOGY_EXTENSION", "CaseReading", "MappingReport", "read_case"]


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
    #: Resources whose code (or a Condition's body site) is under the deprecated base: read all the same.
    deprecated_base: tuple[str, ...] = ()


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


def _observation_kind(codes: list[CodingKey]) -> ObservationKind | None:
    """The kind named by the first of an Observation's codings that names one the rules read."""
    for key in codes:
        if key in OBSERVATION_KIND_BY_CODING:
            return OBSERVATION_KIND_BY_CODING[key]
    return None


def _is_existing_result(codes: list[CodingKey]) -> bool:
    """One of the stage or risk Observations this service writes (recorded earlier)."""
    return any(key in RESULT_OBSERVATION_CODINGS for key in codes)


class ChartReader:
    """Step 1: one patient's Conditions and Observations, sorted into findings and the report's lists."""

    def __init__(self, validation: Validation) -> None:
        self.validation = validation
        self.findings: list[Finding] = []
        self.diagnoses: list[Resource] = []  # the valid neuroblastoma Conditions, in reading order
        self.unrecognised: list[str] = []
        self.ignored: list[str] = []
        self.recorded_only: list[str] = []
        self.existing_results: list[Resource] = []
        self.deprecated_base: list[str] = []

    def _note_deprecated_base(self, resource: Resource, concepts: Iterable[Any]) -> None:
        """Remember a resource coded under the deprecated base (its codes are read as the canonical ones). Only
        the code (and a Condition's body sites) is looked at: a cheap check, and where our codes usually are."""
        if any(uses_deprecated_base(concept) for concept in concepts):
            self.deprecated_base.append(reference_of(resource))

    def condition(self, condition: Resource, position: int) -> None:
        """A neuroblastoma diagnosis, a metastasis, or unrecognised; validated unless unrecognised."""
        ref = reference_of(condition)
        sites = condition.get("bodySite")
        self._note_deprecated_base(condition, [condition.get("code"), *(sites if isinstance(sites, list) else ())])
        if is_unread_condition(condition):
            self.unrecognised.append(ref)
            return
        if not self.validation.is_valid(position):
            return
        status = verification_status(condition)
        if is_neuroblastoma(condition):
            if status in ("entered-in-error", "refuted"):
                self.ignored.append(ref)
            else:
                self.diagnoses.append(condition)
        elif is_secondary_neoplasm(condition):
            if status != "entered-in-error":
                try:
                    self.findings.append(metastasis_finding(condition, ref, position))
                except UnreadableValueError:
                    self.unrecognised.append(ref)
        else:
            self.unrecognised.append(ref)

    def observation(self, observation: Resource, position: int) -> None:
        """A finding, or an entry in one of the report's lists.

        Not validated when its codes name nothing the rules read (unrecognised); validated in step 2 when
        it gives a finding that decides a fact; validated now otherwise.
        """
        ref = reference_of(observation)
        code = observation.get("code")
        self._note_deprecated_base(observation, [code])
        codes = well_formed_codings(code) if code is not None else None
        if codes is None:  # no code, or one too broken to tell what the Observation is about: validation decides
            if not self.validation.is_valid(position):
                return
            codes = codings(code)
        kind = _observation_kind(codes)
        status = observation.get("status")
        ignored = isinstance(status, str) and status in IGNORED_STATUSES
        if kind is None and not _is_existing_result(codes) and not ignored:
            self.unrecognised.append(ref)
            return
        if kind is not None and kind.decisive and not ignored:
            # Its finding is validated in step 2. A status that is not a string is never valid FHIR:
            # such an Observation is validated (and so reported) at once.
            if isinstance(status, str) or self.validation.is_valid(position):
                self._decisive(observation, position, kind)
            return
        if not self.validation.is_valid(position):
            return
        if ignored:
            self.ignored.append(ref)
        elif kind is None:
            self.existing_results.append(observation)
        else:  # a kind recorded but never deciding a result (product decision 11)
            self.recorded_only.append(ref)

    def _decisive(self, observation: Resource, position: int, kind: ObservationKind) -> None:
        """Read a decisive Observation: its finding is validated in step 2, if it can change the answer.

        An Observation that gives no finding is validated now: an invalid one is reported, and a valid one
        whose value cannot be read is listed as unrecognised.
        """
        ref = reference_of(observation)
        try:
            keyed_value = READERS[kind](observation)
        except UnreadableValueError:
            if self.validation.is_valid(position):
                self.unrecognised.append(ref)
            return
        if keyed_value is None:  # nothing to use ("no extension into X")
            self.validation.is_valid(position)  # validated for the report only
            return
        key, value = keyed_value
        preliminary = observation.get("status") in PRELIMINARY_STATUSES
        self.findings.append(Finding(key, value, ref, observed_at(observation), preliminary, position))


def read_case(items: Iterable[Any], patient_id: str | None = None, today: date | None = None) -> CaseReading:
    """Read one patient's case from FHIR resources (the patient named, or the only one present). ``today``
    (the call's date) lets a diagnosis date in the future be named as the data error it is."""
    gathered = gather(items)
    patient = _choose_patient(gathered, patient_id)
    reading_order = [*([patient] if patient else []), *gathered.of_type("Condition"), *gathered.of_type("Observation")]
    validation = Validation(reading_order)
    if patient is not None and not validation.is_valid(0):
        patient = None
    patient_id = patient_id or (patient.get("id") if patient else None)
    subject = _Subject(patient_id, gathered)

    # 1. Read the findings.
    chart = ChartReader(validation)
    other_patients: list[str] = []
    for position, resource in enumerate(reading_order):
        if resource["resourceType"] == "Patient":
            continue
        if not subject.owns(resource):
            other_patients.append(reference_of(resource))
        elif resource["resourceType"] == "Condition":
            chart.condition(resource, position)
        else:
            chart.observation(resource, position)

    # 2. Resolve conflicts, validating the candidates in the order they would win: first the primaries,
    # then everything else, each IDRF, overall call and extension tied to its primary where the record says.
    def is_valid(finding: Finding) -> bool:
        return validation.is_valid(finding.position)

    dating = date_the_diagnosis(chart.diagnoses, patient.get("birthDate") if patient else None, today)
    early = resolve([f for f in chart.findings if f.key.kind in (FindingKind.PRIMARY, FindingKind.MULTIFOCAL)],
                    is_valid).winners
    notes: list[str] = []
    plans = plan_primaries([f for k, f in early.items() if k.kind is FindingKind.PRIMARY],
                           early[FindingKey(FindingKind.MULTIFOCAL)].value
                           if FindingKey(FindingKind.MULTIFOCAL) in early else Presence.UNKNOWN,
                           chart.diagnoses, dating.chosen, notes)
    resolved = resolve([attribute(f, plans) for f in chart.findings], is_valid)
    winners = resolved.winners

    # 3. Assemble the Case.
    condition = dating.chosen
    age_sources = [*([reference_of(patient)] if patient else []), *dating.sources]
    assembled = assemble_case(winners, patient, patient_id, condition, age_sources, dating, plans)
    notes += assembled.notes
    if chart.recorded_only and assembled.case.mycn is MycnStatus.UNKNOWN:
        notes.append("MYCN copy numbers are recorded but the laboratory's MYCN call is missing")
    report = MappingReport(
        invalid=validation.invalid(), unrecognised=tuple(chart.unrecognised),
        ignored_by_status=tuple(chart.ignored),
        preliminary=tuple(finding.source for finding in winners.values() if finding.preliminary),
        discordances=resolved.discordances, recorded_only=tuple(chart.recorded_only),
        other_patients=tuple(other_patients), notes=tuple(notes), deprecated_base=tuple(chart.deprecated_base))
    used = tuple(dict.fromkeys([*age_sources, *(finding.source for finding in winners.values())]))
    return CaseReading(assembled.case, f"Patient/{patient_id}" if patient_id else None,
                       reference_of(condition) if condition else None, condition is not None, report,
                       tuple(chart.existing_results), used)
