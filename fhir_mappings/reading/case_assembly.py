"""The ``Case`` from the winning findings, the Patient and the neuroblastoma Condition.

The winners are grouped by ``FindingKey.kind``; a fact nobody reported keeps the Case's unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, cast

from fhir_mappings.reading.conditions import is_histology_only, partial_date
from fhir_mappings.reading.diagnosis_dates import DiagnosisDating
from fhir_mappings.reading.findings import Finding, FindingKey, MarrowReading, SiteStatus
from fhir_mappings.reading.findings import FindingKind as F
from fhir_mappings.reading.primaries import PrimaryPlan, target_of
from fhir_mappings.reading.resources import Resource
from fhir_mappings.terminology.value_sets import ImagingTarget
from neuroblastoma.biology import (
    AlkStatus,
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MkiClass,
    MycnStatus,
    Ploidy,
    ResectionExtent,
)
from neuroblastoma.case import (
    Case,
    Evidence,
    FactKey,
    FunctionalImaging,
    IdrfCall,
    ImagingModality,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    MetastaticSite,
    PrimaryTumour,
    Unattributed,
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


def _primaries(by_kind: dict[F, list[Finding]], plans: list[PrimaryPlan]) -> tuple[PrimaryTumour, ...]:
    """The primary tumours (primaries.plan_primaries), each with the IDRFs, overall IDRF call and extensions
    tied to it (primaries.attribute)."""
    primaries = []
    for index, plan in enumerate(plans):
        mine = {kind: [f for f in by_kind.get(kind, ()) if target_of(f).index == index]
                for kind in (F.IDRF, F.IDRF_SUMMARY, F.EXTENSION)}
        summary = mine[F.IDRF_SUMMARY][0] if mine[F.IDRF_SUMMARY] else None
        primaries.append(PrimaryTumour(
            compartment=plan.site.compartment, side=plan.site.side,
            extensions=tuple(replace(f.value, source=f.source) for f in mine[F.EXTENSION]),
            idrfs=tuple(replace(f.value, source=f.source) for f in mine[F.IDRF]),
            idrf_summary=summary.value if summary else Presence.UNKNOWN,
            idrf_summary_source=summary.source if summary else None,
            label=f"primary {index + 1}" if len(plans) > 1 else "primary", source=plan.source,
            adrenal=plan.site.adrenal))
    return tuple(primaries)


def _unattributed(by_kind: dict[F, list[Finding]]) -> Unattributed:
    """Findings that no record ties to one of several primaries (primaries.attribute)."""
    untied = {kind: [f for f in by_kind.get(kind, ()) if target_of(f).index is None]
              for kind in (F.IDRF, F.IDRF_SUMMARY, F.EXTENSION)}
    return Unattributed(
        idrfs=tuple(replace(f.value, source=f.source) for f in untied[F.IDRF]),
        extensions=tuple(replace(f.value, source=f.source) for f in untied[F.EXTENSION]),
        idrf_calls=tuple(IdrfCall(f.value, f.source) for f in untied[F.IDRF_SUMMARY]))


_TISSUE_SITE = {ImagingTarget.BONE: MetastaticSite.BONE, ImagingTarget.BONE_MARROW: MetastaticSite.BONE_MARROW}


def _equivocal_foci(winners: Winners) -> dict[MetastaticSite, datetime | None]:
    """When each site's equivocal focus was reported (the latest report; None when a report has no date)."""
    found: dict[MetastaticSite, datetime | None] = {}
    for key, finding in winners.items():
        status = finding.value
        if key.kind is F.IMAGING and status.equivocal and status.presence is not Presence.ABSENT:
            site = _TISSUE_SITE[cast(tuple[Any, ImagingTarget], key.item)[1]]
        elif key.kind is F.SITE and status.equivocal:
            site = cast(MetastaticSite, key.item)
        else:
            continue
        earlier = found.get(site, datetime.min.replace(tzinfo=UTC))
        found[site] = None if finding.at is None or earlier is None else max(earlier, finding.at)
    return found


def _resolves(finding: Finding | None, site: MetastaticSite, foci: dict[MetastaticSite, datetime | None]) -> bool:
    """A report for a site resolves its equivocal focus when it is dated after every report of the focus
    (docs/clinical-rules.md, "Equivocal foci"; Brisse 2011), or says so explicitly."""
    if finding is None or site not in foci:
        return False
    if isinstance(finding.value, SiteStatus) and finding.value.resolves:
        return True
    reported = foci[site]
    return reported is not None and finding.at is not None and finding.at > reported


def _marrow(winners: Winners, foci: dict[MetastaticSite, datetime | None]) -> MarrowAssessment:
    involvement: MarrowReading | None = _value(winners, F.MARROW_INVOLVEMENT, None)
    percent: MarrowReading | None = _value(winners, F.MARROW_PERCENT, None)
    presence = involvement.presence if involvement and involvement.presence else Presence.UNKNOWN
    value = percent.percent if percent else None
    # No involvement call is derived from the percentage: the rules read it (a percentage above 0 implies
    # involvement; 0 % without a call decides nothing, metastatic_spread.marrow_involvement).
    method = next((r.method for r in (involvement, percent) if r and r.method is not MarrowMethod.UNKNOWN),
                  MarrowMethod.UNKNOWN)
    biopsies = [winners.get(FindingKey(F.MARROW_INVOLVEMENT)), winners.get(FindingKey(F.MARROW_PERCENT))]
    resolves = any(_resolves(f, MetastaticSite.BONE_MARROW, foci) for f in biopsies)
    source = next((f.source for f in biopsies if f is not None), None)
    return MarrowAssessment(presence, value, method, source, resolves)


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
                equivocal=bool((bone and bone.equivocal) or (marrow and marrow.equivocal)),
                source=next((f.source for f in (bone_finding, marrow_finding) if f is not None), None)))
    return tuple(scans)


def _evidence(winners: Winners, extra: dict[FactKey, list[str]]) -> tuple[Evidence, ...]:
    by_fact: dict[FactKey, dict[str, None]] = {}
    for finding in winners.values():
        by_fact.setdefault(finding.fact, {})[finding.source] = None
    for fact, sources in extra.items():
        by_fact.setdefault(fact, {}).update(dict.fromkeys(sources))
    return tuple(Evidence(fact, tuple(sources)) for fact, sources in by_fact.items())


def assemble_case(winners: Winners, patient: Resource | None, patient_id: str | None, condition: Resource | None,
                  age_sources: list[str], dating: DiagnosisDating, plans: list[PrimaryPlan]) -> AssembledCase:
    """The Case the winning findings describe, dated by the Patient and the neuroblastoma Conditions
    (``dating``, diagnosis_dates.py); ``condition`` is the one that stands for the diagnosis."""
    by_kind = _by_kind(winners)
    notes: list[str] = []
    if condition is not None and is_histology_only(condition) and FindingKey(F.HISTOLOGY) not in winners:
        notes.append("the Condition's morphology code does not name the INPC subtype; report it separately")
    all_primaries = winners.get(FindingKey(F.IDRF_ALL_PRIMARIES))
    foci = _equivocal_foci(winners)
    facts: dict[str, Any] = dict(
        patient=patient_id or "unknown-patient",
        primaries=_primaries(by_kind, plans),
        multifocal=_value(winners, F.MULTIFOCAL, Presence.UNKNOWN),
        idrf_all_primaries=IdrfCall(all_primaries.value, all_primaries.source) if all_primaries else IdrfCall(),
        unattributed=_unattributed(by_kind) if len(plans) > 1 else Unattributed(),
        lymph_nodes=tuple(replace(finding.value, source=finding.source) for finding in by_kind.get(F.NODE, ())),
        metastases=tuple(MetastasisFinding(cast(MetastaticSite, finding.key.item), finding.value.presence,
                                           finding.value.equivocal, finding.source,
                                           not finding.value.equivocal
                                           and _resolves(finding, cast(MetastaticSite, finding.key.item), foci))
                         for finding in by_kind.get(F.SITE, ())),
        metastatic_survey=_value(winners, F.WORK_UP, Presence.UNKNOWN),
        bone_marrow=_marrow(winners, foci),
        functional_imaging=_imaging(winners),
        primary_mibg_avid=_value(winners, F.MIBG_AVIDITY, Presence.UNKNOWN),
        effusions=tuple(replace(finding.value, source=finding.source) for finding in by_kind.get(F.EFFUSION, ())),
        histology=_value(winners, F.HISTOLOGY, HistologicCategory.UNKNOWN),
        grade=_value(winners, F.GRADE, DifferentiationGrade.UNKNOWN),
        mki=_value(winners, F.MKI, MkiClass.UNKNOWN),
        inpc=_value(winners, F.INPC, InpcClass.UNKNOWN),
        mycn=_value(winners, F.MYCN, MycnStatus.UNKNOWN),
        chr11q_aberration=_value(winners, F.CHR_11Q, Presence.UNKNOWN),
        chr1p_aberration=_value(winners, F.CHR_1P, Presence.UNKNOWN),
        other_scas=tuple(finding.value for finding in by_kind.get(F.OTHER_SCA, ())),
        ploidy=Ploidy(_value(winners, F.DNA_INDEX, None), _value(winners, F.PLOIDY_CATEGORY, None)),
        ms_symptoms=_value(winners, F.SYMPTOMS, Presence.UNKNOWN),
        resection=_value(winners, F.RESECTION, ResectionExtent.UNKNOWN),
        microscopic_residual=_value(winners, F.MICROSCOPIC_RESIDUAL, Presence.UNKNOWN),
        nodes_ipsilateral=_value(winners, F.NODES_IPSILATERAL, Presence.UNKNOWN),
        nodes_contralateral=_value(winners, F.NODES_CONTRALATERAL, Presence.UNKNOWN),
        midline_infiltration=_value(winners, F.MIDLINE, Presence.UNKNOWN),
        primary_diameter_cm=_value(winners, F.PRIMARY_DIAMETER, None),
        primary_cystic_percent=_value(winners, F.PRIMARY_CYSTIC, None),
        paraspinal=_value(winners, F.PARASPINAL, Presence.UNKNOWN),
        cord_compression=_value(winners, F.CORD_COMPRESSION, Presence.UNKNOWN),
        alk=_value(winners, F.ALK, AlkStatus.UNKNOWN),
        mibg_scores=tuple(replace(f.value, source=f.source)
                          for f in sorted(by_kind.get(F.MIBG_SCORE, ()), key=lambda f: f.value.method.value)),
    )
    notes += dating.notes
    if dating.problem:
        notes.append(f"dates cannot be used: {dating.problem}")
    birth = partial_date(patient.get("birthDate")) if patient else None
    try:
        case = Case(
            birth_date=birth, diagnosis_date=dating.diagnosis_date,
            age_days=dating.age[0] if dating.age else None, age_days_max=dating.age[1] if dating.age else None,
            age_problem=dating.problem, age_conflict=dating.conflict, set_aside_ages=dating.set_aside,
            evidence=_evidence(winners, {FactKey.AGE: age_sources}),
            **facts,
        )
    except ValueError as error:  # cannot happen: diagnosis_dates checks the dates; kept as the last guard
        notes.append(f"dates cannot be used: {error}")
        case = Case(birth_date=birth, age_problem=str(error), evidence=_evidence(winners, {}), **facts)
    return AssembledCase(case, tuple(notes))
