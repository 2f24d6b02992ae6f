"""The ``Case`` from the winning findings, the Patient and the neuroblastoma Condition.

The winners are grouped by ``FindingKey.kind``; a fact nobody reported keeps the Case's unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from fhir_mappings.reading.conditions import diagnosis_date, is_histology_only, onset_age_days, partial_date
from fhir_mappings.reading.findings import Finding, FindingKey, MarrowReading, PrimarySite, SiteStatus
from fhir_mappings.reading.findings import FindingKind as F
from fhir_mappings.reading.resources import Resource, reference_of
from fhir_mappings.reading.values import lookup
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.value_sets import ImagingTarget
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

Winners = Mapping[FindingKey, Finding]


@dataclass(frozen=True)
class AssembledCase:
    case: Case
    notes: tuple[str, ...]  # what could not be used as sent, for the card


def _value(winners: Winners, kind: F, default: Any) -> Any:
    """The winning value of a kind that has one member (MYCN, 11q, histology ...)."""
    finding = winners.get(FindingKey(kind))
    return finding.value if finding else default


def _by_kind(winners: Winners) -> dict[F, list[Finding]]:
    kinds: dict[F, list[Finding]] = {}
    for key, finding in winners.items():
        kinds.setdefault(key.kind, []).append(finding)
    return kinds


def _primaries(by_kind: dict[F, list[Finding]], winners: Winners, condition: Resource | None, multifocal: Presence,
               notes: list[str]) -> tuple[PrimaryTumour, ...]:
    """The primary tumour(s): from primary-site Observations, most recent first, else the Condition's bodySite.

    Without multifocality only the most recent site is used. IDRFs, their overall call and extensions
    are attached to the first (most recent) primary.
    """
    reported = sorted(by_kind.get(F.PRIMARY, ()), key=lambda f: (f.at is not None, f.at), reverse=True)
    sites: list[tuple[PrimarySite, str]] = [(finding.value, finding.source) for finding in reported]
    if not sites and condition is not None:
        compartment = lookup(vs.COMPARTMENT_BY_CODING, condition.get("bodySite"))
        side = lookup(vs.LATERALITY_BY_CODING, condition.get("bodySite")) or Laterality.UNKNOWN
        if compartment is not None:
            sites = [(PrimarySite(compartment, side), reference_of(condition))]
    if len(sites) > 1 and multifocal is not Presence.PRESENT:
        notes.append("several primary sites are reported without multifocality: the most recent is used")
        sites = sites[:1]
    if not sites:
        if condition is None:
            return ()
        sites = [(PrimarySite(None, Laterality.UNKNOWN), reference_of(condition))]
    idrfs = tuple(replace(finding.value, source=finding.source) for finding in by_kind.get(F.IDRF, ()))
    extensions = tuple(finding.value for finding in by_kind.get(F.EXTENSION, ()))
    summary = _value(winners, F.IDRF_SUMMARY, Presence.UNKNOWN)
    primaries = []
    for index, (site, source) in enumerate(sites):
        first = index == 0
        primaries.append(PrimaryTumour(
            compartment=site.compartment, side=site.side,
            extensions=extensions if first else (), idrfs=idrfs if first else (),
            idrf_summary=summary if first else Presence.UNKNOWN,
            label=f"primary {index + 1}" if len(sites) > 1 else "primary", source=source))
    return tuple(primaries)


def _marrow(winners: Winners) -> MarrowAssessment:
    involvement: MarrowReading | None = _value(winners, F.MARROW_INVOLVEMENT, None)
    percent: MarrowReading | None = _value(winners, F.MARROW_PERCENT, None)
    presence = involvement.presence if involvement and involvement.presence else Presence.UNKNOWN
    value = percent.percent if percent else None
    # No involvement call is derived from the percentage: the rules read it (a percentage above 0 implies
    # involvement; 0 % without a call decides nothing, metastatic_spread.marrow_involvement).
    method = next((r.method for r in (involvement, percent) if r and r.method is not MarrowMethod.UNKNOWN),
                  MarrowMethod.UNKNOWN)
    return MarrowAssessment(presence, value, method)


def _imaging(winners: Winners) -> tuple[FunctionalImaging, ...]:
    """One FunctionalImaging per modality with a bone or a bone-marrow result."""
    scans = []
    for modality in ImagingModality:
        bone_finding = winners.get(FindingKey(F.IMAGING, (modality, ImagingTarget.BONE)))
        marrow_finding = winners.get(FindingKey(F.IMAGING, (modality, ImagingTarget.BONE_MARROW)))
        bone: SiteStatus | None = bone_finding.value if bone_finding else None
        marrow: SiteStatus | None = marrow_finding.value if marrow_finding else None
        if bone or marrow:
            scans.append(FunctionalImaging(
                modality, bone.presence if bone else Presence.UNKNOWN, marrow.presence if marrow else Presence.UNKNOWN,
                equivocal=bool((bone and bone.equivocal) or (marrow and marrow.equivocal))))
    return tuple(scans)


def _evidence(winners: Winners, extra: dict[FactKey, list[str]]) -> tuple[Evidence, ...]:
    by_fact: dict[FactKey, dict[str, None]] = {}
    for finding in winners.values():
        by_fact.setdefault(finding.fact, {})[finding.source] = None
    for fact, sources in extra.items():
        by_fact.setdefault(fact, {}).update(dict.fromkeys(sources))
    return tuple(Evidence(fact, tuple(sources)) for fact, sources in by_fact.items())


def assemble_case(winners: Winners, patient: Resource | None, patient_id: str | None,
                  condition: Resource | None, age_sources: list[str]) -> AssembledCase:
    """The Case the winning findings describe, dated by the Patient and the neuroblastoma Condition."""
    by_kind = _by_kind(winners)
    notes: list[str] = []
    if condition is not None and is_histology_only(condition) and FindingKey(F.HISTOLOGY) not in winners:
        notes.append("the Condition's morphology code does not name the INPC subtype; report it separately")
    multifocal = _value(winners, F.MULTIFOCAL, Presence.UNKNOWN)
    facts: dict[str, Any] = dict(
        patient=patient_id or "unknown-patient",
        primaries=_primaries(by_kind, winners, condition, multifocal, notes),
        multifocal=multifocal,
        lymph_nodes=tuple(finding.value for finding in by_kind.get(F.NODE, ())),
        metastases=tuple(MetastasisFinding(cast(MetastaticSite, finding.key.item), finding.value.presence,
                                           finding.value.equivocal, finding.source)
                         for finding in by_kind.get(F.SITE, ())),
        metastatic_survey=_value(winners, F.WORK_UP, Presence.UNKNOWN),
        bone_marrow=_marrow(winners),
        functional_imaging=_imaging(winners),
        primary_mibg_avid=_value(winners, F.MIBG_AVIDITY, Presence.UNKNOWN),
        effusions=tuple(finding.value for finding in by_kind.get(F.EFFUSION, ())),
        histology=_value(winners, F.HISTOLOGY, HistologicCategory.UNKNOWN),
        grade=_value(winners, F.GRADE, DifferentiationGrade.UNKNOWN),
        inpc=_value(winners, F.INPC, InpcClass.UNKNOWN),
        mycn=_value(winners, F.MYCN, MycnStatus.UNKNOWN),
        chr11q_aberration=_value(winners, F.CHR_11Q, Presence.UNKNOWN),
        chr1p_aberration=_value(winners, F.CHR_1P, Presence.UNKNOWN),
        other_scas=tuple(finding.value for finding in by_kind.get(F.OTHER_SCA, ())),
        ploidy=Ploidy(_value(winners, F.DNA_INDEX, None), _value(winners, F.PLOIDY_CATEGORY, None)),
        ms_symptoms=_value(winners, F.SYMPTOMS, Presence.UNKNOWN),
        resection=_value(winners, F.RESECTION, ResectionExtent.UNKNOWN),
    )
    age_interval = onset_age_days(condition) if condition else None
    try:
        case = Case(
            birth_date=partial_date(patient.get("birthDate")) if patient else None,
            diagnosis_date=diagnosis_date(condition) if condition else None,
            age_days=age_interval[0] if age_interval else None,
            age_days_max=age_interval[1] if age_interval else None,
            evidence=_evidence(winners, {FactKey.AGE: age_sources}),
            **facts,
        )
    except ValueError as error:  # e.g. a diagnosis date before the birth date: only the dates are dropped
        notes.append(f"dates cannot be used: {error}")
        case = Case(evidence=_evidence(winners, {}), **facts)
    return AssembledCase(case, tuple(notes))
