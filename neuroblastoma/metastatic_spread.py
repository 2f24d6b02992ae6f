"""Distant disease, site by site: the evidence INRGSS stages M and MS rest on.

Monclair 2009 (JCO 27:298), Table 2: stage M is distant metastatic disease, i.e. disease not
contiguous with the primary tumour (except stage MS). Brisse 2011 (Radiology 261:243), as summarised
in clinical-rules.md §1.1–1.2, settles what counts as distant:

- tumour in another compartment that is on the other side, or not contiguous with the primary;
- lymph nodes outside the primary's body cavity, except lower mediastinal nodes with an abdominal
  tumour and inguinal nodes with a pelvic tumour;
- pleural effusion or ascites only when remote from the primary's compartment (and malignant);
- one unequivocal distant site is enough; a single equivocal focus needs confirmation.

Every conclusion is a tri-state ``Presence`` with its reasoning (``Assessment``): an unknown input
gives an unknown conclusion that names the input as missing, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from neuroblastoma.anatomy import Compartment, NodalRegion
from neuroblastoma.assessments import (
    ABSENT,
    DISTANT_DECIDES,
    EQUIVOCAL_NOTE,
    PRESENT,
    UNKNOWN,
    Assessment,
    cited,
    unique,
)
from neuroblastoma.case import (
    Case,
    EffusionKind,
    FactKey,
    ImagingModality,
    MetastaticSite,
    NodalFinding,
)
from neuroblastoma.extension import (
    ExtensionReading,
    origin_anywhere,
    reach,
    read_extension,
    read_unattributed_extension,
)
from neuroblastoma.facts import Presence, all_present, any_present, negate
from neuroblastoma.marrow_imaging import (
    TISSUES,
    focus_resolutions,
    functional_imaging_clear,
    marrow_involvement,
    resolved_scans,
)
from neuroblastoma.results import MissingInput, RuleWarning

# --- Distant sites ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DistantSite:
    """One piece of evidence for, or against, disease at a distant site."""

    site: MetastaticSite
    presence: Presence
    description: str
    fact: FactKey
    source: str | None = None
    missing: tuple[MissingInput, ...] = ()
    note: str | None = None

    @property
    def step(self) -> str:
        note = f" ({self.note})" if self.note else ""
        return cited(f"Distant site {self.site.value}, {self.description}: {self.presence.value}{note}",
                     self.source)


def _equivocal(site: MetastaticSite, description: str, fact: FactKey, source: str | None) -> DistantSite:
    """An unconfirmed focus: unknown, and its confirmation is missing (product decision 8). What resolves it
    is a report for that site from cross-sectional imaging or biopsy made after it (focus_resolutions)."""
    why = (f"the equivocal focus in the {site.value}{f' ({source})' if source else ''} needs confirmation or "
           f"exclusion by cross-sectional imaging or biopsy, recorded for that site after it (Brisse 2011): "
           f"{DISTANT_DECIDES}")
    return DistantSite(site, UNKNOWN, description, fact, source, (MissingInput(FactKey.EQUIVOCAL_FOCUS, why),),
                       EQUIVOCAL_NOTE)


def _equivocal_sites(case: Case) -> set[MetastaticSite]:
    return ({site for scan in case.functional_imaging if scan.equivocal for attribute, site in TISSUES
             if getattr(scan, attribute) is not ABSENT} | {m.site for m in case.metastases if m.equivocal})


def resolution_steps(case: Case) -> tuple[str, ...]:
    """The trace lines of the equivocal foci that a later report resolved."""
    equivocal = _equivocal_sites(case)
    return tuple(cited(f"Equivocal focus in the {site.value} {'confirmed' if presence is PRESENT else 'ruled out'} "
                       f"by a later report for that site (Brisse 2011)", source)
                 for site, (presence, source) in focus_resolutions(case).items() if site in equivocal)


def ruled_out(case: Case) -> Case:
    """The case as it would be if every equivocal focus were ruled out: what the rest of the work-up needs
    then is all that is worth asking for besides the focus's confirmation."""
    scans = tuple(replace(s, equivocal=False, bone=ABSENT if s.bone is not ABSENT else s.bone,
                          bone_marrow=ABSENT if s.bone_marrow is not ABSENT else s.bone_marrow)
                  if s.equivocal else s for s in resolved_scans(case))
    metastases = tuple(replace(m, equivocal=False, status=ABSENT) if m.equivocal else m for m in case.metastases)
    return replace(case, functional_imaging=scans, metastases=metastases)


def metastasis_sites(case: Case) -> tuple[DistantSite, ...]:
    """Reported metastases; an equivocal focus is unknown until confirmed (or ruled out)."""
    sites = []
    resolutions = focus_resolutions(case)
    for finding in case.metastases:
        if finding.equivocal and finding.site in resolutions:
            continue  # the resolving report is a site of its own (a metastasis, or the marrow biopsy)
        if finding.equivocal and finding.status is not ABSENT:
            sites.append(_equivocal(finding.site, "equivocal focus", FactKey.METASTASES, finding.source))
            continue
        why = f"whether there is disease in the {finding.site.value}: {DISTANT_DECIDES}"
        missing = (MissingInput(FactKey.METASTASES, why),) if finding.status is UNKNOWN else ()
        sites.append(DistantSite(finding.site, finding.status, "reported metastasis", FactKey.METASTASES,
                                 source=finding.source, missing=missing))
    return tuple(sites)


def _extension_site(reading: ExtensionReading, whose: str, source: str | None) -> DistantSite:
    where = reading.extension.compartment.value
    why = (f"whether the tumour in the {where} is contiguous with {whose} and on the same side decides L2 "
           f"(IDRF-01) versus M/MS (Brisse 2011)")
    attribution = (f"which primary the tumour in the {where} ({source or 'extension report'}) belongs to "
                   f"(Observation.focus → the primary's Observation or Condition, or its side): from one it is "
                   f"locoregional, from another distant; it decides L2 (IDRF-01) versus M/MS (Brisse 2011)")
    missing = tuple(MissingInput(f, attribution if f is FactKey.ATTRIBUTION else why) for f in reading.undecided_by)
    return DistantSite(MetastaticSite.OTHER, reading.distant, f"tumour in the {where} beyond {whose}",
                       FactKey.EXTENSION, source=source, missing=missing)


def extension_sites(case: Case) -> tuple[DistantSite, ...]:
    """Contralateral or non-contiguous tumour in another compartment is distant (Brisse 2011); an extension
    not tied to one of several primaries is read as each one's (``read_unattributed_extension``)."""
    sites = []
    for primary in case.primaries:
        for extension in primary.extensions:
            reading = read_extension(primary, extension)
            if reading.distant is not ABSENT:
                sites.append(_extension_site(reading, primary.label, extension.source or primary.source))
    if case.primaries:
        for extension in case.unattributed.extensions:
            reading = read_unattributed_extension(case.primaries, extension)
            if reading.distant is not ABSENT:
                sites.append(_extension_site(reading, "the primary", extension.source))
    return tuple(sites)


def node_is_regional(case: Case, node: NodalFinding) -> tuple[Presence, tuple[FactKey, ...]]:
    """Regional: in a compartment the primary occupies, or lower mediastinal nodes with an (upper)
    abdominal tumour, or inguinal nodes with a pelvic tumour (Brisse 2011). Nodes outside the body
    cavity of the primary are metastatic (Brisse 2011)."""
    compartment = node.region.compartment
    in_cavity, facts = reach(case, compartment) if compartment else (ABSENT, ())
    exception = {NodalRegion.LOWER_MEDIASTINAL: Compartment.ABDOMEN,
                 NodalRegion.INGUINAL: Compartment.PELVIS}.get(node.region)
    by_exception = origin_anywhere(case, exception) if exception else ABSENT
    regional = any_present((in_cavity, by_exception))
    if regional is not UNKNOWN:
        return regional, ()
    return regional, unique((*facts, *((FactKey.PRIMARY_TUMOUR,) if by_exception is UNKNOWN else ())))


def nodal_sites(case: Case) -> tuple[DistantSite, ...]:
    """Involved distant lymph nodes are metastatic; INRGSS does not stage regional nodes (Monclair 2009)."""
    sites = []
    for node in case.lymph_nodes:
        regional, facts = node_is_regional(case, node)
        presence = all_present((node.status, negate(regional)))
        where = f"{node.region.value} lymph nodes"
        missing = []
        if presence is UNKNOWN and node.status is UNKNOWN:
            why = f"whether the {where} are involved: {DISTANT_DECIDES}"
            missing.append(MissingInput(FactKey.LYMPH_NODES, why))
        if presence is UNKNOWN and regional is UNKNOWN:
            why = f"whether the {where} lie in the primary's body cavity (Brisse 2011): {DISTANT_DECIDES}"
            missing += [MissingInput(fact, why) for fact in facts]
        label = {PRESENT: "regional", ABSENT: "distant", UNKNOWN: "regional or distant"}[regional]
        sites.append(DistantSite(MetastaticSite.DISTANT_LYMPH_NODE, presence, f"{where} ({label})",
                                 FactKey.LYMPH_NODES, source=node.source, missing=tuple(missing)))
    return tuple(sites)


# Where an effusion is local: pleural effusion in the chest; ascites in the abdomen or pelvis.
_EFFUSION_HOME = {EffusionKind.PLEURAL: (Compartment.CHEST,),
                  EffusionKind.ASCITES: (Compartment.ABDOMEN, Compartment.PELVIS)}
_EFFUSION_SITE = {EffusionKind.PLEURAL: MetastaticSite.PLEURA, EffusionKind.ASCITES: MetastaticSite.OTHER}
_EFFUSION_NAME = {EffusionKind.PLEURAL: "pleural effusion", EffusionKind.ASCITES: "ascites"}


def effusion_sites(case: Case) -> tuple[tuple[DistantSite, ...], tuple[RuleWarning, ...]]:
    """Pleural effusion and ascites are recorded (Monclair 2009, Table 1 footnote) and are metastatic
    only when remote from the primary's compartment and malignant (Brisse 2011)."""
    sites, warnings = [], []
    for effusion in case.effusions:
        reaches = [reach(case, c) for c in _EFFUSION_HOME[effusion.kind]]
        remote = negate(any_present(p for p, _ in reaches))
        presence = all_present((remote, effusion.malignant_cells))
        name = _EFFUSION_NAME[effusion.kind]
        missing = []
        if presence is UNKNOWN and effusion.malignant_cells is UNKNOWN:
            why = f"cytology of the {name} remote from the primary: {DISTANT_DECIDES}"
            missing.append(MissingInput(FactKey.EFFUSIONS, why))
        if presence is UNKNOWN and remote is UNKNOWN:
            why = f"whether the {name} is remote from the primary's compartment: {DISTANT_DECIDES}"
            missing += [MissingInput(f, why) for f in unique(f for _, fs in reaches for f in fs)]
        place = {PRESENT: "remote from", ABSENT: "in", UNKNOWN: "possibly remote from"}[remote]
        cells = effusion.malignant_cells.value
        description = f"{name} {place} the primary's compartment, malignant cells {cells}"
        sites.append(DistantSite(_EFFUSION_SITE[effusion.kind], presence, description, FactKey.EFFUSIONS,
                                 source=effusion.source, missing=tuple(missing)))
        verdict = {PRESENT: "metastatic", ABSENT: "recorded only, not metastatic",
                   UNKNOWN: "metastatic or not: undecided"}[presence]
        warnings.append(RuleWarning("effusion-recorded", f"{name.capitalize()} recorded (Monclair 2009 "
                                                         f"Table 1: not an IDRF): {verdict} (Brisse 2011)."))
    return tuple(sites), tuple(warnings)


def imaging_sites(case: Case) -> tuple[DistantSite, ...]:
    """Uptake in bone or marrow on functional imaging; an equivocal scan's focus is unknown until
    confirmed, and an equivocal scan with neither bone nor marrow uptake has its focus elsewhere."""
    sites = []
    for scan in resolved_scans(case):
        name, fact = scan.modality.value, FactKey.FUNCTIONAL_IMAGING
        for attribute, site in TISSUES:
            value: Presence = getattr(scan, attribute)
            if scan.equivocal and value is not ABSENT:
                sites.append(_equivocal(site, f"equivocal {name} uptake", fact, scan.source))
            elif value.known:
                sites.append(DistantSite(site, value, f"{name} uptake", fact, source=scan.source))
        if scan.equivocal and scan.bone is ABSENT and scan.bone_marrow is ABSENT:
            sites.append(_equivocal(MetastaticSite.OTHER, f"equivocal {name} focus", fact, scan.source))
    return tuple(sites)


def imaging_discordance(case: Case) -> tuple[RuleWarning, ...]:
    """Two unequivocal scans that disagree about the same tissue: the positive one is used. A negative MIBG
    scan of a tumour that is not MIBG-avid is expected, not discordant (Brisse 2011: the bone scan or FDG-PET
    is then the scan that counts)."""
    unequivocal = [s for s in resolved_scans(case) if not s.equivocal]
    expected_negative = case.primary_mibg_avid is ABSENT

    def values(attribute: str) -> set[Presence]:
        return {getattr(s, attribute) for s in unequivocal
                if not (expected_negative and s.modality is ImagingModality.MIBG and getattr(s, attribute) is ABSENT)}

    return tuple(
        RuleWarning("conflict-functional-imaging", f"Functional imaging is discordant for {site.value}: one "
                                                   f"scan shows uptake, another not; the positive is used.")
        for attribute, site in TISSUES if {PRESENT, ABSENT} <= values(attribute)
    )


# --- Distant disease -------------------------------------------------------------------------------------

_WORK_UP_FACTS = frozenset({FactKey.METASTASES, FactKey.BONE_MARROW, FactKey.FUNCTIONAL_IMAGING})
SURVEY_NEGATIVE_SITE_INVOLVED = ("The metastatic work-up is reported negative, but a distant site is "
                                 "reported involved; the involved site is used.")
EQUIVOCAL_AFTER_NEGATIVE_SURVEY = ("The metastatic work-up is reported negative, but the equivocal focus has no "
                                   "recorded resolution: record the cross-sectional imaging or biopsy result for "
                                   "that site (a metastatic-site Observation dated after the focus, or 'focus ruled "
                                   "out'); a work-up conclusion alone does not resolve it (Brisse 2011).")
SURVEY_POSITIVE_NOTHING_FOUND = ("The work-up reports metastases, but none is listed and imaging and marrow "
                                 "are negative.")


@dataclass(frozen=True)
class DistantDisease:
    """Whether there is distant disease, the sites behind it, and whether the work-up is complete
    (``closed``: a site not listed can be taken as free of disease); with the work-up's bone marrow
    (``marrow_involvement``) and functional imaging (``functional_imaging_clear``) assessments, which
    MS eligibility reads again."""

    assessment: Assessment
    sites: tuple[DistantSite, ...]
    closed: bool
    survey: Presence
    marrow: Assessment
    imaging: Assessment

    @property
    def presence(self) -> Presence:
        return self.assessment.presence


@dataclass(frozen=True)
class _WorkUp:
    survey: Presence
    marrow: Assessment
    imaging: Assessment

    @property
    def negative_by_imaging(self) -> bool:
        """Functional imaging suited to the primary clear, and bone marrow not involved (Brisse 2011)."""
        return self.imaging.presence is PRESENT and self.marrow.presence is ABSENT

    @property
    def closed(self) -> bool:
        return self.survey is ABSENT or self.negative_by_imaging

    @property
    def steps(self) -> tuple[str, ...]:
        survey = f"Metastatic work-up: {self.survey.value}"
        return (survey,) if self.survey is ABSENT else (survey, *self.imaging.steps, *self.marrow.steps)

    def missing(self) -> tuple[MissingInput, ...]:
        survey = f"a complete metastatic work-up (functional imaging and bone marrow): {DISTANT_DECIDES}"
        missing = [MissingInput(FactKey.METASTATIC_SURVEY, survey)]
        if self.marrow.presence is UNKNOWN:
            marrow = f"bone marrow aspirates and trephine biopsies (PDQ): {DISTANT_DECIDES}"
            missing.append(MissingInput(FactKey.BONE_MARROW, marrow))
        if self.imaging.presence is UNKNOWN:
            missing += self.imaging.missing
        return tuple(missing)


def distant_sites(case: Case, marrow: Assessment) -> tuple[tuple[DistantSite, ...], tuple[RuleWarning, ...]]:
    """Every piece of distant-site evidence. Marrow not assessed is no site: it is part of the work-up."""
    effusions, effusion_warnings = effusion_sites(case)
    marrow_site = () if not marrow.presence.known else (
        DistantSite(MetastaticSite.BONE_MARROW, marrow.presence, "aspirate/biopsy", FactKey.BONE_MARROW,
                    source=case.bone_marrow.source),)
    sites = (*metastasis_sites(case), *extension_sites(case), *nodal_sites(case), *effusions,
             *imaging_sites(case), *marrow_site)
    equivocal = tuple(RuleWarning("equivocal-focus", f"Equivocal focus ({s.site.value}): {EQUIVOCAL_NOTE} "
                                                     f"(Brisse 2011; product decision 8).")
                      for s in sites if s.note)
    return sites, (*effusion_warnings, *imaging_discordance(case), *marrow.warnings, *equivocal)


def assess_distant_disease(case: Case) -> DistantDisease:
    """Distant disease is present if any site is (or the work-up reports metastases); absent only when
    no site is present or in doubt and the work-up is negative: the metastatic survey, or functional
    imaging suited to the primary plus bone marrow (Brisse 2011); otherwise unknown, naming what is
    missing."""
    work_up = _WorkUp(case.metastatic_survey, marrow_involvement(case), functional_imaging_clear(case))
    sites, warnings = distant_sites(case, work_up.marrow)
    present = [s for s in sites if s.presence is PRESENT]
    doubtful = [s for s in sites if s.presence is UNKNOWN]
    steps = (*resolution_steps(case), *(s.step for s in sites))
    if present:
        names = ", ".join(unique(s.site.value for s in present))
        if work_up.survey is ABSENT and any(s.fact in _WORK_UP_FACTS for s in present):
            warnings += (RuleWarning("conflict-metastatic-survey", SURVEY_NEGATIVE_SITE_INVOLVED),)
        conclusion = f"Distant disease present: {names} (Monclair 2009 Table 2)"
        assessment = Assessment(PRESENT, (*steps, conclusion), unique(s.fact for s in present), (), warnings)
    elif work_up.survey is PRESENT:
        if work_up.negative_by_imaging and not doubtful:
            warnings += (RuleWarning("conflict-metastatic-survey", SURVEY_POSITIVE_NOTHING_FOUND),)
        conclusion = "Metastatic work-up: distant disease present, sites not listed"
        assessment = Assessment(PRESENT, (*steps, conclusion), (FactKey.METASTATIC_SURVEY,), (), warnings)
    elif work_up.closed and not doubtful:
        by_survey = work_up.survey is ABSENT
        decided = ((FactKey.METASTATIC_SURVEY,) if by_survey
                   else (*work_up.imaging.decided_by, *work_up.marrow.decided_by))
        ways = "metastatic work-up negative" if by_survey else "functional imaging and bone marrow negative"
        assessment = Assessment(ABSENT, (*steps, *work_up.steps, f"No distant disease: {ways} (Brisse 2011)"),
                                unique(decided), (), warnings)
    else:
        only_foci = bool(doubtful) and all(s.note == EQUIVOCAL_NOTE for s in doubtful)
        if only_foci and work_up.survey is ABSENT:
            warnings += (RuleWarning("equivocal-focus-unresolved", EQUIVOCAL_AFTER_NEGATIVE_SURVEY),)
        # Ask for the rest of the work-up only if it would still be needed once the foci are resolved.
        hypothetical = ruled_out(case) if only_foci else case
        closed = work_up.closed or (only_foci and _WorkUp(
            hypothetical.metastatic_survey, marrow_involvement(hypothetical),
            functional_imaging_clear(hypothetical)).closed)
        missing = (*(m for s in doubtful for m in s.missing), *(() if closed else work_up.missing()))
        summary = "sites in doubt" if doubtful else "the metastatic work-up is incomplete"
        shown = (f"Metastatic work-up: {work_up.survey.value}",) if work_up.closed else work_up.steps
        assessment = Assessment(UNKNOWN, (*steps, *shown, f"Distant disease undecided: {summary}"), (),
                                unique(missing), warnings)
    return DistantDisease(assessment, sites, work_up.closed, work_up.survey, work_up.marrow, work_up.imaging)
