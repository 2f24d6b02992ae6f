"""INRGSS stage (L1, L2, M, MS) of a case, or an indeterminate result naming what is missing.

Monclair 2009 (JCO 27:298), Table 2:
- L1: localized tumour not involving vital structures as defined by the IDRFs (Table 1), confined
  to one body compartment;
- L2: locoregional tumour with one or more IDRFs;
- M: distant metastatic disease (except MS);
- MS: metastatic disease in children younger than 18 months with metastases confined to skin,
  liver and/or bone marrow.
Brisse 2011 (Radiology 261:243) gives the IDRF relation terms, what counts as distant, and the MS
marrow (< 10 %) and imaging conditions. Where the inputs cannot decide, the result lists every
stage still possible and the inputs that would decide (product decisions 2 and 8).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from neuroblastoma.ages import DAYS_18_MONTHS, AgeBand
from neuroblastoma.assessments import L2_DECIDES, Assessment, cited, unique
from neuroblastoma.case import MS_PERMITTED_SITES, Case, FactKey, PrimaryTumour
from neuroblastoma.extension import ExtensionReading, read_extension
from neuroblastoma.facts import Presence, all_present, any_present
from neuroblastoma.idrf import IdrfAssessment, IdrfCode, assess_idrf
from neuroblastoma.metastatic_spread import DistantDisease, DistantSite, assess_distant_disease
from neuroblastoma.multifocal import (
    OVERALL_CALL_NEEDED,
    idrf_step,
    is_conditional,
    unattributed_idrfs,
    with_overall_call,
)
from neuroblastoma.registry import StagingSystem
from neuroblastoma.results import MissingInput, RuleWarning, Stage, StageResult, Trace, one_per_fact
from neuroblastoma.sources import BRISSE_2011, MONCLAIR_2009, RULESET_VERSION

PRESENT, ABSENT, UNKNOWN = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN

CITATIONS: dict[Stage, str] = {
    Stage.L1: (f"{MONCLAIR_2009.key}, Table 2, stage L1: localized tumour not involving vital structures as "
               f"defined by the IDRFs (Table 1) and confined to one body compartment"),
    Stage.L2: (f"{MONCLAIR_2009.key}, Table 2, stage L2: locoregional tumour with one or more IDRFs "
               f"(Table 1); IDRF relation terms per {BRISSE_2011.key}"),
    Stage.M: (f"{MONCLAIR_2009.key}, Table 2, stage M: distant metastatic disease, except stage MS; distant "
              f"nodes, effusions and contralateral extension per {BRISSE_2011.key}"),
    Stage.MS: (f"{MONCLAIR_2009.key}, Table 2, stage MS: metastatic disease in children younger than 18 "
               f"months (547 days) confined to skin, liver and/or bone marrow; marrow < 10 % and MIBG (or, "
               f"if not MIBG-avid, bone scan) negative in bone and marrow per {BRISSE_2011.key}"),
}
MS_DECIDES = "decides MS versus M"
# Marrow involvement must be < 10 % of nucleated cells on smears or biopsy (Brisse 2011; as for INSS 4S).
MS_MARROW_LIMIT_PERCENT = 10.0


# --- Locoregional extent: L1 or L2 ----------------------------------------------------------------------

ALL_IDRFS = frozenset(IdrfCode)


def _every_idrf_reported_absent(assessments: tuple[IdrfAssessment, ...]) -> bool:
    """All 20 IDRFs of Monclair 2009 Table 1 reported one by one, none present or in doubt. (Fewer than
    20 reports, the usual case, cannot cover the table: the codes are collected only when there are enough.)"""
    return (len(assessments) >= len(ALL_IDRFS) and all(a.presence is ABSENT for a in assessments)
            and {a.code for a in assessments} == ALL_IDRFS)


def _idrf_call(itemised: tuple[Presence, ...], conditional: bool, summary: Presence,
               every_absent: bool) -> tuple[Presence, str]:
    """The IDRF presence of one primary, in order of precedence:

    1. an itemised IDRF present decides (Kleene OR);
    2. so does an extension that is either distant or IDRF-01: if the stage is L1/L2 at all, the
       extension is locoregional and so IDRF-01 (if it is distant, the stage is M/MS anyway);
    3. any itemised IDRF in doubt leaves it undecided;
    4. else the report's overall call, which 20 itemised absences replace, or contradict."""
    if PRESENT in itemised:
        return PRESENT, "an itemised IDRF is present"
    if conditional:
        return PRESENT, "IDRF-01 if the tumour beyond the compartment is locoregional (else it is distant)"
    if UNKNOWN in itemised:
        return UNKNOWN, "itemised IDRFs undecided"
    if summary is PRESENT and every_absent:
        return UNKNOWN, "the overall call 'IDRF present' contradicts all 20 IDRFs reported absent"
    if summary.known:
        return summary, f"the report's overall IDRF call is {summary.value}"
    if every_absent:
        return ABSENT, "all 20 IDRFs reported absent"
    return UNKNOWN, "no overall IDRF call, and not all 20 IDRFs reported"


def primary_idrfs(primary: PrimaryTumour, name: str | None = None) -> Assessment:
    """Whether this primary has an IDRF: the itemised IDRFs (``assess_idrf``), IDRF-01 derived from a
    contiguous ipsilateral extension into a second compartment (Monclair 2009 Table 1 row 1), and the
    report's overall call. ``name`` tells the primary apart from others with the same label."""
    if name and name != primary.label:
        primary = replace(primary, label=name)
    assessments = tuple(assess_idrf(f) for f in primary.idrfs)
    readings = tuple(read_extension(primary, e) for e in primary.extensions)
    itemised = (*(a.presence for a in assessments),
                *(r.ipsilateral_spread for r in readings if not is_conditional(r)))
    every_absent = _every_idrf_reported_absent(assessments)
    presence, basis = _idrf_call(itemised, any(map(is_conditional, readings)), primary.idrf_summary,
                                 every_absent)
    steps = (*(idrf_step(a) for a in assessments), *(r.step for r in readings),
             cited(f"{primary.label}: IDRF {presence.value}: {basis}", primary.idrf_summary_source or primary.source))
    warnings = (*_idrf_call_conflicts(primary, assessments),
                *_summary_conflicts(primary, itemised, every_absent),
                *_idrf01_disagreement(primary, assessments, readings))
    if presence is UNKNOWN:
        return Assessment(UNKNOWN, steps, (), _idrf_missing(primary, assessments, readings), warnings)
    derived = (FactKey.EXTENSION,) if any(r.ipsilateral_spread is PRESENT for r in readings) else ()
    return Assessment(presence, steps, (FactKey.IDRF, *derived), (), warnings)


def _idrf_call_conflicts(primary: PrimaryTumour,
                         assessments: tuple[IdrfAssessment, ...]) -> tuple[RuleWarning, ...]:
    """A reported call contradicting its own relation or measurement (``assess_idrf``); each report is
    named by its source, or its position, so that two conflicts never read alike."""
    return tuple(RuleWarning("conflict-idrf-call", f"{primary.label}: {a.code.value} "
                                                   f"({a.source or f'IDRF report {i}'}): {a.reason}")
                 for i, a in enumerate(assessments, start=1) if a.conflict)


def _summary_conflicts(primary: PrimaryTumour, itemised: tuple[Presence, ...],
                       every_absent: bool) -> tuple[RuleWarning, ...]:
    if primary.idrf_summary is ABSENT and PRESENT in itemised:
        return (RuleWarning("conflict-idrf-summary", f"{primary.label}: the report says 'no IDRF', but an "
                                                     f"itemised IDRF is present; the IDRF is used."),)
    if primary.idrf_summary is PRESENT and every_absent:
        return (RuleWarning("conflict-idrf-summary", f"{primary.label}: the report says 'IDRF present', but "
                                                     f"all 20 IDRFs are reported absent."),)
    return ()


def _idrf01_disagreement(primary: PrimaryTumour, assessments: tuple[IdrfAssessment, ...],
                         readings: tuple[ExtensionReading, ...]) -> tuple[RuleWarning, ...]:
    derived = any(r.distant is ABSENT and r.ipsilateral_spread is PRESENT for r in readings)
    reported_absent = any(a.code is IdrfCode.IPSILATERAL_TWO_COMPARTMENTS and a.presence is ABSENT
                          for a in assessments)
    if not (derived and reported_absent):
        return ()
    return (RuleWarning("conflict-idrf-01", f"{primary.label}: IDRF-01 is reported absent, but the reported "
                                            f"contiguous ipsilateral extension into a second compartment is "
                                            f"IDRF-01 (Monclair 2009 Table 1 row 1); IDRF-01 is used."),)


def _idrf_missing(primary: PrimaryTumour, assessments: tuple[IdrfAssessment, ...],
                  readings: tuple[ExtensionReading, ...]) -> tuple[MissingInput, ...]:
    missing = []
    if undecided := [a.code.value for a in assessments if a.presence is UNKNOWN]:
        missing.append(MissingInput(FactKey.IDRF, f"{', '.join(undecided)} undecided for {primary.label} "
                                                  f"(not assessed or conflicting): {L2_DECIDES}"))
    if any(r.ipsilateral_spread is UNKNOWN for r in readings):
        why = f"the compartment of {primary.label} decides whether its extension is IDRF-01: {L2_DECIDES}"
        missing.append(MissingInput(FactKey.PRIMARY_TUMOUR, why))
    return tuple(missing) or (
        MissingInput(FactKey.IDRF, f"{OVERALL_CALL_NEEDED} {primary.label} consistent with the itemised "
                                   f"IDRFs, or all 20 IDRFs reported: {L2_DECIDES}"),)


def _primary_name(primary: PrimaryTumour, position: int, count: int) -> str:
    """The primary's label, made unique among several primaries by its position (labels and sources
    may repeat)."""
    return primary.label if count == 1 else f"{primary.label} (primary {position} of {count})"


# Monclair 2009 Table 2: L2 with one or more IDRFs, L1 without; both while the IDRFs are undecided.
EXTENT_BY_IDRF: dict[Presence, frozenset[Stage]] = {
    PRESENT: frozenset({Stage.L2}), ABSENT: frozenset({Stage.L1}), UNKNOWN: frozenset({Stage.L1, Stage.L2})}


def locoregional_extent(case: Case) -> tuple[frozenset[Stage], Assessment]:
    """L1 or L2 by the IDRFs of each primary; synchronous multifocal primaries are staged by the
    greatest extent, L2 over L1 (Brisse 2011; product decision 9)."""
    if not case.primaries:
        no_primary = MissingInput(FactKey.PRIMARY_TUMOUR, f"no primary tumour is described: {L2_DECIDES}")
        return frozenset({Stage.L1, Stage.L2}), Assessment(UNKNOWN, ("No primary tumour described",), (),
                                                           (no_primary,))
    count = len(case.primaries)
    per_primary = tuple(primary_idrfs(with_overall_call(case, p), _primary_name(p, i, count))
                        for i, p in enumerate(case.primaries, 1))
    extra = unattributed_idrfs(case) if count > 1 else None
    presence = any_present((*(a.presence for a in per_primary), *((extra.presence,) if extra else ())))
    multifocal_steps, multifocal_warnings = _multifocality(case)
    steps = (*(s for a in per_primary for s in a.steps), *(extra.steps if extra else ()), *multifocal_steps)
    warnings = (*(w for a in per_primary for w in a.warnings), *multifocal_warnings)
    undescribed: tuple[MissingInput, ...] = ()
    if count == 1 and case.multifocal is PRESENT and presence is not PRESENT:
        presence = UNKNOWN  # an undescribed second primary could have an IDRF
        why = f"a second primary is reported but not described: {L2_DECIDES}"
        undescribed = (MissingInput(FactKey.PRIMARY_TUMOUR, why),)
    extent = EXTENT_BY_IDRF[presence]
    steps += (f"Locoregional extent: {' or '.join(s.value for s in _ordered(extent))}",)
    if presence is UNKNOWN:
        missing = (*(m for a in per_primary if a.presence is UNKNOWN for m in a.missing), *undescribed,
                   *(extra.missing if extra else ()))
        if any(m.fact is FactKey.ATTRIBUTION for m in missing):  # the call is on record, but not tied to a primary
            missing = tuple(m for m in missing if not m.why.startswith(OVERALL_CALL_NEEDED))
        assessment = Assessment(UNKNOWN, steps, (), unique(missing), warnings)
    else:
        deciding = (f for a in (*per_primary, *((extra,) if extra else ())) if a.presence is presence
                    for f in a.decided_by)
        multifocal = (FactKey.MULTIFOCALITY,) if count > 1 else ()
        assessment = Assessment(presence, steps, unique((FactKey.PRIMARY_TUMOUR, *deciding, *multifocal)), (),
                                warnings)
    return extent, assessment


def _multifocality(case: Case) -> tuple[tuple[str, ...], tuple[RuleWarning, ...]]:
    """Multifocal primaries are a recorded condition (Monclair 2009, Table 1 footnote)."""
    count = len(case.primaries)
    if count > 1:
        note = " (the case says not multifocal)" if case.multifocal is ABSENT else ""
        return ((f"{count} synchronous primaries: staged by the greatest extent of disease (Brisse 2011)",),
                (RuleWarning("multifocal", f"Multifocal primary tumours ({count}){note}: recorded (Monclair "
                                           f"2009 Table 1), staged by the greatest extent."),))
    if case.multifocal is PRESENT and count == 1:
        return (("Multifocal disease reported, but only one primary is described",),
                (RuleWarning("conflict-multifocal", "Multifocal primaries are reported but only one is "
                                                    "described; another primary could change L1 to L2."),))
    return (), ()


# --- MS eligibility (Monclair 2009 Table 2; Brisse 2011) ----------------------------------------------------

def _age_condition(case: Case) -> Assessment:
    """MS: younger than 18 months, i.e. < 547 days at diagnosis (ages.py; product decision 1)."""
    age = case.age
    if age is None:
        problem = f"; the dates on record cannot be used: {case.age_problem}" if case.age_problem else ""
        why = f"age at diagnosis (birth date and diagnosis date{problem}) {MS_DECIDES} (< {DAYS_18_MONTHS} days)"
        return Assessment(UNKNOWN, ("Age at diagnosis unknown",), (), (MissingInput(FactKey.AGE, why),))
    bands = age.possible_bands()
    if AgeBand.FROM_18_MONTHS not in bands:
        step = f"Age at diagnosis {age}: younger than 18 months ({DAYS_18_MONTHS} days)"
        return Assessment(PRESENT, (step,), (FactKey.AGE,))
    if bands == {AgeBand.FROM_18_MONTHS}:
        step = f"Age at diagnosis {age}: 18 months ({DAYS_18_MONTHS} days) or older: not MS"
        return Assessment(ABSENT, (step,), (FactKey.AGE,))
    cause = case.age_conflict or "from the dates' precision or an age range"
    why = (f"the recorded age ({age}, {cause}) lies on both sides of {DAYS_18_MONTHS} days; the exact age "
           f"at diagnosis {MS_DECIDES}")
    return Assessment(UNKNOWN, (f"Age at diagnosis {age}: straddles {DAYS_18_MONTHS} days",), (),
                      (MissingInput(FactKey.AGE, why),))


def _outside_ms_sites(sites: Iterable[DistantSite]) -> list[DistantSite]:
    return [s for s in sites if s.site not in MS_PERMITTED_SITES]


def sites_condition(distant: DistantDisease, decides: str = MS_DECIDES) -> Assessment:
    """MS (and INSS 4S): metastases confined to skin, liver and/or bone marrow; ``decides`` says what it
    decides.

    With no site known to be involved, the distant disease (if any) lies among the sites in doubt
    when the work-up is otherwise complete; else it may lie anywhere, and the sites are missing.
    """
    special = "MS" if decides == MS_DECIDES else "4S"
    present = [s for s in distant.sites if s.presence is PRESENT]
    doubtful = [s for s in distant.sites if s.presence is UNKNOWN]
    if outside := _outside_ms_sites(present):
        names = ", ".join(unique(s.site.value for s in outside))
        return Assessment(ABSENT, (f"Metastases outside skin, liver and bone marrow ({names}): not {special}",),
                          unique(s.fact for s in outside))
    only_doubtful = not present and distant.closed and doubtful
    if only_doubtful and len(_outside_ms_sites(doubtful)) == len(doubtful):
        names = ", ".join(unique(s.site.value for s in doubtful))
        return Assessment(ABSENT, (f"Any distant disease would lie outside skin, liver and bone marrow "
                                   f"({names}): not {special}",), unique(s.fact for s in doubtful))
    if outside := _outside_ms_sites(doubtful):
        return Assessment(UNKNOWN, ("Possible metastases outside skin, liver and bone marrow",), (),
                          tuple(MissingInput(s.fact, f"whether there is disease in the {s.site.value} "
                                                     f"({s.description}) {decides}") for s in outside))
    if present or only_doubtful:
        names = ", ".join(unique(s.site.value for s in present or doubtful))
        return Assessment(PRESENT, (f"Metastatic sites confined to skin, liver and/or marrow ({names})",),
                          unique(s.fact for s in present or doubtful))
    why = f"which sites are involved (only skin, liver and bone marrow are allowed) {decides}"
    return Assessment(UNKNOWN, ("Metastatic sites not listed",), (), (MissingInput(FactKey.METASTASES, why),))


def marrow_condition(case: Case, marrow: Assessment, decides: str = MS_DECIDES) -> Assessment:
    """MS (and INSS 4S): marrow involvement < 10 % of nucleated cells on smears or biopsy (Brisse 2011;
    Brodeur 1993). ``marrow`` is the work-up's ``marrow_involvement``; ``decides`` says what it decides."""
    percent = case.bone_marrow.tumour_cell_percent
    if marrow.presence is ABSENT:
        return Assessment(PRESENT, ("Bone marrow not involved",), (FactKey.BONE_MARROW,), (), marrow.warnings)
    if marrow.presence is UNKNOWN or percent is None:
        if marrow.presence is UNKNOWN:
            step, why = "Bone marrow involvement not reported", "marrow involvement and tumour-cell %"
        else:
            step, why = "Bone marrow involved, percentage unknown", "the tumour-cell percentage (< 10 %)"
        return Assessment(UNKNOWN, (step,), (), (MissingInput(FactKey.BONE_MARROW, f"{why} {decides}"),),
                          marrow.warnings)
    below = percent < MS_MARROW_LIMIT_PERCENT
    special = "MS" if decides == MS_DECIDES else "4S"
    verdict = f"below 10 %: allowed in {special}" if below else f"10 % or more: not {special}"
    return Assessment(Presence.of(below), (f"Bone marrow {percent:g} % tumour cells, {verdict}",),
                      (FactKey.BONE_MARROW,), (), marrow.warnings)


def _imaging_condition(imaging: Assessment) -> Assessment:
    """MS: functional imaging suited to the primary negative for bone and bone marrow (Brisse 2011).
    ``imaging`` is the work-up's ``functional_imaging_clear``."""
    if not imaging.missing:
        return imaging
    missing = tuple(MissingInput(m.fact, f"{m.why}: {MS_DECIDES}") for m in imaging.missing)
    return replace(imaging, missing=missing)


MS_VERDICT = {PRESENT: "all MS conditions hold", ABSENT: "an MS condition fails: M",
              UNKNOWN: "MS conditions undecided: M or MS"}


def ms_eligibility(case: Case, distant: DistantDisease) -> Assessment:
    """MS if all four conditions hold (Kleene AND). Only conditions still in doubt name missing inputs,
    and none do once a condition fails."""
    conditions = (_age_condition(case), sites_condition(distant), marrow_condition(case, distant.marrow),
                  _imaging_condition(distant.imaging))
    presence = all_present(c.presence for c in conditions)
    deciding = [c for c in conditions if c.presence is (ABSENT if presence is ABSENT else PRESENT)]
    in_doubt = [] if presence is ABSENT else [c for c in conditions if c.presence is UNKNOWN]
    steps = (*(s for c in conditions for s in c.steps), f"MS eligibility: {MS_VERDICT[presence]}")
    return Assessment(presence, steps, unique(f for c in deciding for f in c.decided_by),
                      unique(m for c in in_doubt for m in c.missing),
                      tuple(w for c in conditions for w in c.warnings))


# --- The stage --------------------------------------------------------------------------------------------


_STAGE_ORDER = tuple(Stage)


def _ordered(stages: frozenset[Stage]) -> tuple[Stage, ...]:
    return tuple(sorted(stages, key=_STAGE_ORDER.index))


# The metastatic stage by MS eligibility (Monclair 2009 Table 2).
METASTATIC_BY_MS = {PRESENT: frozenset({Stage.MS}), ABSENT: frozenset({Stage.M}),
                    UNKNOWN: frozenset({Stage.M, Stage.MS})}


def assign_stage(case: Case) -> StageResult[Stage]:
    """The INRGSS stage: metastatic (M or MS) if there is distant disease, else L1 or L2; when distant
    disease is undecided, the stages possible either way all stay candidates (Monclair 2009 Table 2)."""
    extent, locoregional = locoregional_extent(case)
    distant = assess_distant_disease(case)
    ms = ms_eligibility(case, distant)
    metastatic = METASTATIC_BY_MS[ms.presence]
    deciding: tuple[Assessment, ...]
    if distant.presence is PRESENT:
        candidates, deciding = metastatic, (distant.assessment, ms)
    elif distant.presence is ABSENT:
        candidates, deciding = extent, (locoregional, distant.assessment)
    else:
        candidates, deciding = extent | metastatic, (locoregional, distant.assessment, ms)
    stages = _ordered(candidates)
    stage = stages[0] if len(stages) == 1 else None
    shown = (locoregional, distant.assessment, *((ms,) if distant.presence is not ABSENT else ()))
    conclusion = (f"Stage {stage.value}" if stage
                  else f"Indeterminate: {', '.join(s.value for s in stages)} remain possible")
    trace = Trace(
        rule=f"INRGSS-{stage.value}" if stage else "INRGSS-INDETERMINATE",
        citation=CITATIONS[stage] if stage else "; ".join(CITATIONS[s] for s in stages),
        decided_by=unique(f for a in deciding for f in a.decided_by),
        missing=one_per_fact(m for a in deciding for m in a.missing),
        warnings=unique(w for a in (locoregional, distant.assessment, ms) for w in a.warnings),
        steps=unique((*(s for a in shown for s in a.steps), conclusion)),
    )
    return StageResult(INRGSS_ID, stage, stages, trace, RULESET_VERSION)


INRGSS_ID = "inrgss"
INRGSS = StagingSystem(INRGSS_ID, "INRGSS", "INRG stage", MONCLAIR_2009, assign_stage, tuple(Stage))
