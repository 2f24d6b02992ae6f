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

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import product
from typing import TypeVar

from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion, contralateral
from neuroblastoma.case import (
    Case,
    EffusionKind,
    FactKey,
    ImagingModality,
    MarrowMethod,
    MetastaticSite,
    NodalFinding,
    PrimaryTumour,
    TumourExtension,
)
from neuroblastoma.facts import Presence, all_present, any_present, negate
from neuroblastoma.results import MissingInput, RuleWarning

PRESENT, ABSENT, UNKNOWN = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
T = TypeVar("T")

# Product decision 8; Brisse 2011: "a solitary, equivocal focus ... must be confirmed with additional
# imaging or biopsy".
EQUIVOCAL_NOTE = "single equivocal focus: needs confirmation by other imaging or biopsy"
DISTANT_DECIDES = "it decides localized (L1/L2) versus metastatic (M/MS) disease"


@dataclass(frozen=True)
class Assessment:
    """A tri-state conclusion with the reasoning that led to it, ready to merge into a trace."""

    presence: Presence
    steps: tuple[str, ...] = ()
    decided_by: tuple[FactKey, ...] = ()
    missing: tuple[MissingInput, ...] = ()
    warnings: tuple[RuleWarning, ...] = ()


def cited(text: str, source: str | None) -> str:
    """A reasoning line with the FHIR resource it rests on, when known."""
    return f"{text} [{source}]" if source else text


def unique(items: Iterable[T]) -> tuple[T, ...]:
    """The items in order, without repeats."""
    return tuple(dict.fromkeys(items))


# --- Extension beyond the primary's compartment ------------------------------------------------------

_POSSIBLE_VALUES = {PRESENT: (True,), ABSENT: (False,), UNKNOWN: (True, False)}


def _possible(value: Presence) -> tuple[bool, ...]:
    return _POSSIBLE_VALUES[value]


def _merged(values: Iterable[bool]) -> Presence:
    """The Presence of a conclusion over every world the unknown inputs allow."""
    seen = set(values)
    return PRESENT if seen == {True} else ABSENT if seen == {False} else UNKNOWN


def _opposite_side(primary: PrimaryTumour, extension: TumourExtension) -> Presence:
    return Presence.of(contralateral(primary.side, extension.side))


def _extension_world(crosses: bool, opposite: bool, contiguous: bool) -> tuple[bool, bool]:
    """(distant, IDRF-01) for one fully known extension.

    Within the primary's own compartment an extension is not staged (INRGSS does not use the midline,
    Monclair 2009). Across compartments, contiguous and ipsilateral is locoregional and is IDRF-01
    (Monclair 2009 Table 1 row 1); contralateral ("a left-sided abdominal tumour with clearly
    right-sided chest involvement") or non-contiguous disease is distant (Brisse 2011).
    """
    if not crosses:
        return False, False
    if opposite or not contiguous:
        return True, False
    return False, True


@dataclass(frozen=True)
class ExtensionReading:
    """What one extension means for distant disease and, if it is locoregional, for IDRF-01."""

    extension: TumourExtension
    distant: Presence
    ipsilateral_spread: Presence  # IDRF-01, in the event that the extension is locoregional
    undecided_by: tuple[FactKey, ...]  # the unknown inputs that would change ``distant``
    step: str


def read_extension(primary: PrimaryTumour, extension: TumourExtension) -> ExtensionReading:
    """Evaluate the extension in every world its unknown inputs allow, and merge: the result is
    unknown exactly when the worlds disagree."""
    crosses = UNKNOWN if primary.compartment is None else Presence.of(extension.compartment is not
                                                                       primary.compartment)
    inputs = {"crosses": crosses, "opposite": _opposite_side(primary, extension),
              "contiguous": extension.contiguous}
    outcomes = [_extension_world(**world) for world in _worlds(inputs)]
    distant = _merged(d for d, _ in outcomes)
    locoregional_worlds = [spread for d, spread in outcomes if not d]
    spread = _merged(locoregional_worlds) if locoregional_worlds else ABSENT
    undecided = _relevant_unknowns(inputs, lambda world: _extension_world(**world)[0])
    facts = unique(f for name in undecided for f in _facts_behind(primary, extension, name))
    return ExtensionReading(extension, distant, spread, facts,
                            _extension_step(primary, extension, distant, spread))


def _worlds(inputs: dict[str, Presence]) -> list[dict[str, bool]]:
    names = tuple(inputs)
    combinations = product(*(_possible(inputs[name]) for name in names))
    return [dict(zip(names, values, strict=True)) for values in combinations]


def _relevant_unknowns(inputs: dict[str, Presence], outcome: Callable[[dict[str, bool]], bool]) -> list[str]:
    """Unknown inputs whose value changes the outcome in at least one world."""
    return [name for name, value in inputs.items() if not value.known and any(
        outcome({**world, name: True}) != outcome({**world, name: False}) for world in _worlds(inputs))]


def _facts_behind(primary: PrimaryTumour, extension: TumourExtension, name: str) -> tuple[FactKey, ...]:
    """The case facts behind an unknown input of ``read_extension``."""
    if name == "crosses":
        return (FactKey.PRIMARY_TUMOUR,)  # the primary's compartment
    if name == "opposite":
        sides = ((FactKey.PRIMARY_TUMOUR, primary.side), (FactKey.EXTENSION, extension.side))
        return tuple(fact for fact, side in sides if side is Laterality.UNKNOWN)
    return (FactKey.EXTENSION,)


def _extension_step(primary: PrimaryTumour, extension: TumourExtension,
                    distant: Presence, spread: Presence) -> str:
    where = (f"{primary.label}: tumour in the {extension.compartment.value} "
             f"(side {extension.side.value}, contiguous {extension.contiguous.value})")
    if distant is PRESENT:
        why = ("on the opposite side to the primary" if _opposite_side(primary, extension) is PRESENT
               else "not contiguous with the primary")
        text = f"{why}: distant disease (Monclair 2009 Table 2; Brisse 2011)"
    elif distant is UNKNOWN:
        text = ("distant disease unless contiguous with the primary on the same side (Brisse 2011); "
                "if locoregional it is IDRF-01")
    elif spread is PRESENT:
        text = "contiguous, same side, second compartment: locoregional, IDRF-01 (Monclair 2009 Table 1)"
    elif spread is UNKNOWN:
        text = "locoregional; whether it is in a second compartment (IDRF-01) needs the primary's compartment"
    else:
        text = "within the primary's own compartment: not a cross-compartment extension"
    return cited(f"{where}: {text}", primary.source)


def reach(case: Case, compartment: Compartment) -> tuple[Presence, tuple[FactKey, ...]]:
    """Whether locoregional tumour occupies the compartment: a primary's origin, or its contiguous
    ipsilateral extension (Brisse 2011); with the unknown facts that leave it undecided."""
    if not case.primaries:
        return UNKNOWN, (FactKey.PRIMARY_TUMOUR,)
    parts: list[tuple[Presence, FactKey]] = []
    for primary in case.primaries:
        parts.append((_origin_in(primary, compartment), FactKey.PRIMARY_TUMOUR))
        parts += [(all_present((e.contiguous, negate(_opposite_side(primary, e)))), FactKey.EXTENSION)
                  for e in primary.extensions if e.compartment is compartment]
    presence = any_present(p for p, _ in parts)
    return presence, unique(f for p, f in parts if p is UNKNOWN) if presence is UNKNOWN else ()


def _origin_in(primary: PrimaryTumour, compartment: Compartment) -> Presence:
    return UNKNOWN if primary.compartment is None else Presence.of(primary.compartment is compartment)


def _origin_anywhere(case: Case, compartment: Compartment) -> Presence:
    if not case.primaries:
        return UNKNOWN
    return any_present(_origin_in(p, compartment) for p in case.primaries)


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
    """An unconfirmed focus: unknown, and its confirmation is missing (product decision 8)."""
    why = f"{EQUIVOCAL_NOTE} ({site.value}; Brisse 2011): {DISTANT_DECIDES}"
    return DistantSite(site, UNKNOWN, description, fact, source, (MissingInput(fact, why),), EQUIVOCAL_NOTE)


def metastasis_sites(case: Case) -> tuple[DistantSite, ...]:
    """Reported metastases; an equivocal focus is unknown until confirmed (or ruled out)."""
    sites = []
    for finding in case.metastases:
        if finding.equivocal and finding.status is not ABSENT:
            sites.append(_equivocal(finding.site, "equivocal focus", FactKey.METASTASES, finding.source))
            continue
        why = f"whether there is disease in the {finding.site.value}: {DISTANT_DECIDES}"
        missing = (MissingInput(FactKey.METASTASES, why),) if finding.status is UNKNOWN else ()
        sites.append(DistantSite(finding.site, finding.status, "reported metastasis", FactKey.METASTASES,
                                 source=finding.source, missing=missing))
    return tuple(sites)


def extension_sites(case: Case) -> tuple[DistantSite, ...]:
    """Contralateral or non-contiguous tumour in another compartment is distant (Brisse 2011)."""
    sites = []
    for primary in case.primaries:
        for extension in primary.extensions:
            reading = read_extension(primary, extension)
            if reading.distant is ABSENT:
                continue
            where = extension.compartment.value
            why = (f"whether the tumour in the {where} is contiguous with {primary.label} and on the same "
                   f"side decides L2 (IDRF-01) versus M/MS (Brisse 2011)")
            sites.append(DistantSite(MetastaticSite.OTHER, reading.distant,
                                     f"tumour in the {where} beyond {primary.label}", FactKey.EXTENSION,
                                     source=primary.source,
                                     missing=tuple(MissingInput(f, why) for f in reading.undecided_by)))
    return tuple(sites)


def node_is_regional(case: Case, node: NodalFinding) -> tuple[Presence, tuple[FactKey, ...]]:
    """Regional: in a compartment the primary occupies, or lower mediastinal nodes with an (upper)
    abdominal tumour, or inguinal nodes with a pelvic tumour (Brisse 2011). Nodes outside the body
    cavity of the primary are metastatic (Brisse 2011)."""
    compartment = node.region.compartment
    in_cavity, facts = reach(case, compartment) if compartment else (ABSENT, ())
    exception = {NodalRegion.LOWER_MEDIASTINAL: Compartment.ABDOMEN,
                 NodalRegion.INGUINAL: Compartment.PELVIS}.get(node.region)
    by_exception = _origin_anywhere(case, exception) if exception else ABSENT
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


_TISSUES = (("bone", MetastaticSite.BONE), ("bone_marrow", MetastaticSite.BONE_MARROW))


def imaging_sites(case: Case) -> tuple[DistantSite, ...]:
    """Uptake in bone or marrow on functional imaging; an equivocal scan's focus is unknown until
    confirmed, and an equivocal scan with neither bone nor marrow uptake has its focus elsewhere."""
    sites = []
    for scan in case.functional_imaging:
        name, fact = scan.modality.value, FactKey.FUNCTIONAL_IMAGING
        for attribute, site in _TISSUES:
            value: Presence = getattr(scan, attribute)
            if scan.equivocal and value is not ABSENT:
                sites.append(_equivocal(site, f"equivocal {name} uptake", fact, scan.source))
            elif value.known:
                sites.append(DistantSite(site, value, f"{name} uptake", fact, source=scan.source))
        if scan.equivocal and scan.bone is ABSENT and scan.bone_marrow is ABSENT:
            sites.append(_equivocal(MetastaticSite.OTHER, f"equivocal {name} focus", fact, scan.source))
    return tuple(sites)


def imaging_discordance(case: Case) -> tuple[RuleWarning, ...]:
    """Two unequivocal scans that disagree about the same tissue: the positive one is used."""
    unequivocal = [s for s in case.functional_imaging if not s.equivocal]
    return tuple(
        RuleWarning("conflict-functional-imaging", f"Functional imaging is discordant for {site.value}: one "
                                                   f"scan shows uptake, another not; the positive is used.")
        for attribute, site in _TISSUES if {PRESENT, ABSENT} <= {getattr(s, attribute) for s in unequivocal}
    )


# --- Bone marrow ---------------------------------------------------------------------------------------

MARROW_CONFLICT = ("Bone marrow reports disagree (or a tumour-cell percentage above 0 is reported "
                   "'not involved'); involvement is used.")
NON_MORPHOLOGICAL = ("INRGSS counts tumour cells on smears or biopsy (morphology); confirm how to stage it "
                     "(clinical-rules §1.2).")

def marrow_involvement(case: Case) -> Assessment:
    """Marrow involvement from the aspirate/biopsy call and any reported marrow metastases.

    A tumour-cell percentage above 0 implies involvement; 0 % without a call decides nothing
    (product decision 11: the reported call is consumed, not re-derived). Involvement found only by
    immunocytology or RT-PCR is flagged: no source says how INRGSS treats it (clinical-rules §1.2 ⚠).
    """
    marrow = case.bone_marrow
    percent = marrow.tumour_cell_percent
    call = PRESENT if percent is not None and percent > 0 else marrow.involvement
    reports = {call, *(f.status for f in case.metastases
                       if f.site is MetastaticSite.BONE_MARROW and not f.equivocal)} - {UNKNOWN}
    presence = PRESENT if PRESENT in reports else ABSENT if reports else UNKNOWN
    warnings = []
    if len(reports) > 1 or (marrow.involvement is ABSENT and call is PRESENT):
        warnings.append(RuleWarning("conflict-marrow", MARROW_CONFLICT))
    method = marrow.method.value
    if presence is PRESENT and marrow.method in (MarrowMethod.IMMUNOCYTOLOGY, MarrowMethod.RT_PCR):
        warnings.append(RuleWarning("marrow-non-morphological", f"Marrow involvement detected by {method}: "
                                                                f"{NON_MORPHOLOGICAL}"))
    percent_text = f", {percent:g} % tumour cells" if percent is not None else ""
    step = cited(f"Bone marrow involvement: {presence.value}{percent_text} (method {method})", marrow.source)
    decided = (FactKey.BONE_MARROW,) if presence.known else ()
    return Assessment(presence, (step,), decided, (), tuple(warnings))


# --- Functional imaging of bone and marrow --------------------------------------------------------------

_FOR_AVID = frozenset({ImagingModality.MIBG})
_FOR_NON_AVID = frozenset({ImagingModality.MDP_BONE_SCAN, ImagingModality.FDG_PET})
_AVIDITY_DECIDES = ("whether the primary is MIBG-avid decides which scan must be negative for bone and "
                    "marrow (MIBG if avid, else MDP bone scan or FDG-PET; Brisse 2011)")


def _shows_free(case: Case, modalities: frozenset[ImagingModality]) -> Presence:
    """PRESENT when unequivocal scans of these modalities show bone and bone marrow free."""
    scans = [s for s in case.functional_imaging if s.modality in modalities and not s.equivocal]
    bone_free = PRESENT if any(s.bone is ABSENT for s in scans) else UNKNOWN
    marrow_free = PRESENT if any(s.bone_marrow is ABSENT for s in scans) else UNKNOWN
    return all_present((bone_free, marrow_free))


def functional_imaging_clear(case: Case) -> Assessment:
    """Bone and bone marrow free on the functional imaging that suits the primary (Brisse 2011): MIBG
    if the primary is MIBG-avid; otherwise a 99mTc-MDP bone scan or FDG-PET (PDQ 2025: FDG-PET has
    replaced bone scans; clinical-rules §1.2 ⚠). With avidity unknown, both must be free. Uptake on any
    unequivocal scan, whatever the modality, is never clear."""
    positives = [(s, site) for s in case.functional_imaging if not s.equivocal
                 for attribute, site in _TISSUES if getattr(s, attribute) is PRESENT]
    if positives:
        steps = tuple(cited(f"{s.modality.value} shows uptake in {site.value}: not clear", s.source)
                      for s, site in positives)
        return Assessment(ABSENT, steps, (FactKey.FUNCTIONAL_IMAGING,))
    mibg, other = _shows_free(case, _FOR_AVID), _shows_free(case, _FOR_NON_AVID)
    avid = case.primary_mibg_avid
    if avid is PRESENT:
        return _imaging_verdict(mibg, "MIBG (primary MIBG-avid)", "an MIBG scan negative for bone and "
                                                                  "bone marrow (the primary is MIBG-avid)")
    if avid is ABSENT:
        return _imaging_verdict(other, "MDP bone scan or FDG-PET (primary not MIBG-avid)",
                                "an MDP bone scan or FDG-PET negative for bone and bone marrow "
                                "(the primary is not MIBG-avid)")
    clear = all_present((mibg, other))
    verdict = _imaging_verdict(clear, "MIBG and MDP bone scan or FDG-PET (MIBG avidity unknown)",
                               "scans negative for bone and bone marrow", avidity_known=False)
    if clear is PRESENT:
        return verdict
    missing = [MissingInput(FactKey.MIBG_AVIDITY, _AVIDITY_DECIDES)]
    scans = ((mibg, "an MIBG scan"), (other, "an MDP bone scan or FDG-PET"))
    missing += [MissingInput(FactKey.FUNCTIONAL_IMAGING, f"{scan} negative for bone and bone marrow")
                for free, scan in scans if free is UNKNOWN]
    return Assessment(UNKNOWN, verdict.steps, (), tuple(missing))


def _imaging_verdict(clear: Presence, modality: str, needed: str, avidity_known: bool = True) -> Assessment:
    avidity = (FactKey.MIBG_AVIDITY,) if avidity_known else ()
    if clear is PRESENT:
        step = f"Functional imaging clear of bone and marrow disease; modality used: {modality} (Brisse 2011)"
        return Assessment(PRESENT, (step,), (FactKey.FUNCTIONAL_IMAGING, *avidity))
    step = f"Functional imaging of bone and bone marrow not decisive; needed: {needed} (Brisse 2011)"
    return Assessment(UNKNOWN, (step,), avidity, (MissingInput(FactKey.FUNCTIONAL_IMAGING, needed),))


# --- Distant disease -------------------------------------------------------------------------------------

_WORK_UP_FACTS = frozenset({FactKey.METASTASES, FactKey.BONE_MARROW, FactKey.FUNCTIONAL_IMAGING})
SURVEY_NEGATIVE_SITE_INVOLVED = ("The metastatic work-up is reported negative, but a distant site is "
                                 "reported involved; the involved site is used.")
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
    steps = tuple(s.step for s in sites)
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
        missing = (*(m for s in doubtful for m in s.missing), *(() if work_up.closed else work_up.missing()))
        summary = "sites in doubt" if doubtful else "the metastatic work-up is incomplete"
        shown = (f"Metastatic work-up: {work_up.survey.value}",) if work_up.closed else work_up.steps
        assessment = Assessment(UNKNOWN, (*steps, *shown, f"Distant disease undecided: {summary}"), (),
                                unique(missing), warnings)
    return DistantDisease(assessment, sites, work_up.closed, work_up.survey, work_up.marrow, work_up.imaging)
