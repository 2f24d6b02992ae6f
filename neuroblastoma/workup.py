"""The pretreatment work-up, as a table: each item with the condition that requires it, its source and urgency.

The COG requirements as the clinician summary lists them (SRC-A), checked against the primary sources (PDQ
Neuroblastoma Treatment; Brisse 2011; the COG trial records), which win where they differ:

- cross-sectional imaging (MRI or contrast CT) of the primary with its IDRFs, 123I-MIBG before resection, bilateral
  marrow aspirates and trephines, and the tumour biology before treatment (PDQ; Brisse 2011);
- a semi-quantitative MIBG score (Curie, or SIOPEN) when MIBG shows bone or marrow disease: Brisse 2011
  "recommended" (SRC-A: the modified Curie score in North America);
- FDG-PET when the primary is not MIBG-avid (PDQ). SRC-A exempts infants under 6 months with small L1 adrenal
  masses; in PDQ (Nuchtern 2012, ANBL00P2) those are the criteria for **observation without biopsy**, not an
  imaging exception: FDG-PET stays on the list, and the observation criteria are reported (``small_adrenal_mass``);
- MRI of the spine for a paraspinal primary or signs of cord or nerve-root compression (PDQ; SRC-A);
- ALK: SRC-A lists it before treatment; it is no input of INRG 2009 or COG 2021, and COG determines it for
  high-risk trial and targeted-therapy eligibility during induction (ANBL1531/ANBL2131): asked for, as
  information, only once a risk group is high;
- bilateral marrow aspirates and trephines for every patient; PDQ adds that sampling "may not be necessary for
  tumors that are otherwise stage 1" (a note on an L1 tumour's item, the team decides);
- the grade of differentiation only where it decides: L2 at 18 months or older, MYCN not amplified, no 11q
  aberration (Cohn 2009, groups E/H).

An item is missing when its condition holds for this patient and the record lacks it. It ``decides`` when the
fact it supplies is missing from an open stage or risk result (then the work-up card is a warning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from neuroblastoma.ages import AgeBand, younger_than_months
from neuroblastoma.assessments import ABSENT, PRESENT, UNKNOWN, Assessment
from neuroblastoma.biology import AlkStatus, DifferentiationGrade, HistologicCategory, InpcClass, MycnStatus
from neuroblastoma.case import Case, FactKey, ImagingModality
from neuroblastoma.cog2021 import unstable_ms_infant
from neuroblastoma.facts import Presence, all_present
from neuroblastoma.idrf import IdrfCode
from neuroblastoma.inpc import derive_inpc
from neuroblastoma.results import Classification, RiskLevel, Stage

PDQ = "PDQ Neuroblastoma Treatment"
# COG observation without biopsy of a small adrenal mass (PDQ; Nuchtern 2012, ANBL00P2): an infant younger than
# 6 months with an isolated adrenal L1 mass smaller than 3.1 cm if solid, or 5 cm if at least 25 % cystic.
OBSERVATION_MONTHS = 6
SOLID_LIMIT_CM = 3.1
CYSTIC_LIMIT_CM = 5.0
CYSTIC_FRACTION_PERCENT = 25.0
OBSERVATION_SOURCE = "PDQ; Nuchtern 2012, COG ANBL00P2"


class Urgency(Enum):
    """When an item is due (the card's words)."""

    EMERGENCY = "Urgent: signs of cord compression are an emergency, and treatment is not delayed for the MRI"
    BEFORE_RESECTION = "Due before treatment and before any resection"
    BEFORE_TREATMENT = "Due before treatment"
    AT_DIAGNOSIS = "At diagnosis"
    DEFERRED = "May be deferred while the infant is observed without biopsy"
    WHEN_SAFE = "When safe: an unstable MS infant may start chemotherapy before the biopsy (PDQ)"
    DURING_INDUCTION = "During induction, not before treatment"


@dataclass(frozen=True)
class WorkupItem:
    """A work-up item missing for this patient: what to do, exactly what is missing, its condition, source and
    urgency; ``fact`` names the test that supplies it (``deciding_tests``); ``decides`` when that fact is
    missing from an open result; ``note`` is a source disagreement or a caveat the card shows."""

    key: str
    name: str
    what: str
    required_when: str
    source: str
    urgency: Urgency
    fact: FactKey
    decides: bool = False
    note: str | None = None


@dataclass(frozen=True)
class Workup:
    """The items still missing, the notes the card shows, and whether observation without biopsy is an accepted
    approach for this infant (then the tests on tumour tissue may be deferred)."""

    items: tuple[WorkupItem, ...]
    notes: tuple[str, ...]
    observation: Presence = Presence.ABSENT


# --- The small adrenal mass of a young infant (observation without biopsy) --------------------------------------

def small_adrenal_mass(case: Case, result: Classification) -> Assessment:
    """Whether the COG criteria for observation without biopsy hold (Kleene AND). A size exactly at 3.1 cm (solid)
    or 5 cm (cystic) is undecided: PDQ writes "smaller than", SRC-A "≤"."""
    young = younger_than_months(case.birth_date, case.diagnosis_date, case.age, OBSERVATION_MONTHS)
    stage = result.stage
    adrenal = (case.primaries[0].adrenal if len(case.primaries) == 1 else ABSENT if case.primaries else UNKNOWN)
    l1 = (PRESENT if stage.stage is Stage.L1 else ABSENT if Stage.L1 not in stage.candidates else UNKNOWN)
    size, size_step = _size_condition(case)
    conditions = (Presence.of(young), adrenal, l1, size)
    presence = all_present(conditions)
    months = {None: f"age against {OBSERVATION_MONTHS} calendar months undecided",
              True: f"under {OBSERVATION_MONTHS} calendar months",
              False: f"{OBSERVATION_MONTHS} calendar months or older"}[young]
    origin = {PRESENT: "isolated adrenal primary", ABSENT: "not an isolated adrenal primary",
              UNKNOWN: "adrenal origin not recorded"}[adrenal]
    localized = {PRESENT: "INRGSS L1", ABSENT: "not INRGSS L1", UNKNOWN: "INRGSS L1 undecided"}[l1]
    steps = (f"{months}; {origin}; {localized}; {size_step}",)
    return Assessment(presence, steps)


def _size_condition(case: Case) -> tuple[Presence, str]:
    diameter, cystic = case.primary_diameter_cm, case.primary_cystic_percent
    if diameter is None:
        return UNKNOWN, "size not recorded"
    if cystic is None:
        if diameter < SOLID_LIMIT_CM:
            return PRESENT, f"{diameter:g} cm: below 3.1 cm whatever the cystic fraction"
        if diameter > CYSTIC_LIMIT_CM:
            return ABSENT, f"{diameter:g} cm: above 5 cm"
        return UNKNOWN, f"{diameter:g} cm: the cystic fraction decides (3.1 cm solid, 5 cm if at least 25 % cystic)"
    is_cystic = cystic >= CYSTIC_FRACTION_PERCENT
    limit = CYSTIC_LIMIT_CM if is_cystic else SOLID_LIMIT_CM
    kind = f"{cystic:g} % cystic" if is_cystic else f"solid ({cystic:g} % cystic)"
    if diameter == limit:
        return UNKNOWN, (f"{diameter:g} cm, {kind}: exactly at the {limit:g} cm limit (PDQ: 'smaller than'; SRC-A: "
                         "'≤'): confirm with the team")
    below = diameter < limit
    return Presence.of(below), f"{diameter:g} cm, {kind}: {'below' if below else 'not below'} {limit:g} cm"


# --- The table ----------------------------------------------------------------------------------------------------

def _mibg(case: Case) -> bool:
    return any(s.modality is ImagingModality.MIBG for s in case.functional_imaging)


def _has_idrf_call(case: Case) -> bool:
    return (case.idrf_all_primaries.presence.known
            or any(p.idrf_summary.known or p.idrfs or p.extensions for p in case.primaries))


def _spine_imaged(case: Case) -> bool:
    findings = (*(f for p in case.primaries for f in p.idrfs), *case.unattributed.idrfs)
    return any(f.code is IdrfCode.INTRASPINAL for f in findings)


def _is_high(result: Classification) -> bool:
    """A risk group is decided high (ALK matters for high-risk therapy only; a possible high is not enough, or
    every patient without a biopsy would be asked)."""
    return any(r.risk is RiskLevel.HIGH for r in result.risks)


def _grade_decides(case: Case, result: Classification) -> bool:
    """Grade decides only L2 at 18 months or older: Cohn 2009 Table 2, neuroblastoma or nodular GNB, MYCN not
    amplified, no 11q aberration: differentiating is group E (low), poorly differentiated or undifferentiated
    group H (intermediate). With MYCN amplified (N) or an 11q aberration (H) it decides nothing. COG 2021 uses
    the INPC class, not the grade."""
    bands = case.age.possible_bands() if case.age else {AgeBand.FROM_18_MONTHS}
    return (Stage.L2 in result.stage.candidates and AgeBand.FROM_18_MONTHS in bands
            and case.histology in (HistologicCategory.NEUROBLASTOMA, HistologicCategory.GANGLIONEUROBLASTOMA_NODULAR,
                                   HistologicCategory.UNKNOWN)
            and case.mycn is not MycnStatus.AMPLIFIED and case.chr11q_aberration is not PRESENT)


def _not_recorded(parts: list[str]) -> str:
    return f"not recorded: {', '.join(parts)}" if parts else ""


def _histology_missing(case: Case, result: Classification) -> str:
    parts = []
    if case.histology is HistologicCategory.UNKNOWN:
        parts.append("histologic category")
    if case.grade is DifferentiationGrade.UNKNOWN and _grade_decides(case, result):
        parts.append("grade of differentiation (it decides L2 at 18 months or older)")
    if case.inpc is InpcClass.UNKNOWN:
        derived = derive_inpc(case)
        if derived.inpc is not None:  # issue 18: the parts decide it; the pathologist's call confirms or overrides
            parts.append(f"INPC favourable/unfavourable class (derived from its parts: {derived.inpc.value})")
        else:
            if FactKey.MKI in derived.missing and any(m.fact is FactKey.MKI for m in result.missing):
                parts.append("MKI class (it decides the INPC class, which decides a risk group)")
            parts.append("INPC favourable/unfavourable class")
    return _not_recorded(parts)


def _fdg_pet_missing(case: Case, result: Classification) -> str:
    modalities = {s.modality for s in case.functional_imaging}
    if ImagingModality.FDG_PET in modalities:
        return ""
    if ImagingModality.MDP_BONE_SCAN in modalities:
        return ("no FDG-PET on record, only a 99mTc-MDP bone scan (Brisse 2011 accepts it for bone and marrow; PDQ: "
                "bone scans are no longer standard staging)")
    return "no FDG-PET on record"


def _size_missing(case: Case, result: Classification) -> str:
    return _not_recorded([name for name, value in (("longest diameter", case.primary_diameter_cm),
                                                   ("cystic fraction", case.primary_cystic_percent))
                          if value is None])


def _observation_applies(case: Case, result: Classification) -> bool:
    return (younger_than_months(case.birth_date, case.diagnosis_date, case.age, OBSERVATION_MONTHS) is True
            and result.stage.stage is Stage.L1 and len(case.primaries) == 1 and case.primaries[0].adrenal is not ABSENT)


Check = Callable[[Case, Classification], str]  # what is missing, in words; "" when nothing


@dataclass(frozen=True)
class Row:
    """One printed requirement: ``applies`` says whether it holds for this patient, ``missing`` what is lacking."""

    key: str
    name: str
    required_when: str
    source: str
    urgency: Urgency
    fact: FactKey
    applies: Callable[[Case, Classification], bool]
    missing: Check


def _always(case: Case, result: Classification) -> bool:
    return True


def _classifiable(case: Case, result: Classification) -> bool:
    """The tumour biology is needed unless the tumour is a mature ganglioneuroma: benign, outside both schemas
    (product decision 3)."""
    return case.histology is not HistologicCategory.GANGLIONEUROMA_MATURE


EVERY = "required for every patient"
EXCEPT_GN_MATURE = "required for every patient except a mature ganglioneuroma"
BIOLOGY_SOURCE = "Cohn 2009; Irwin 2021; PDQ"
ROWS: tuple[Row, ...] = (
    Row("cross-sectional-imaging", "MRI or contrast CT of the primary, with the IDRFs", EVERY,
        f"{PDQ}; Brisse 2011; SRC-A", Urgency.BEFORE_TREATMENT, FactKey.IDRF, _always,
        lambda c, r: "" if _has_idrf_call(c) else "no IDRF report of the primary"),
    Row("mibg", "123I-MIBG scintigraphy", EVERY, f"{PDQ}: before resection of the primary; Brisse 2011",
        Urgency.BEFORE_RESECTION, FactKey.FUNCTIONAL_IMAGING, _always,
        lambda c, r: "" if _mibg(c) else "no MIBG scan on record"),
    Row("mibg-score", "Semi-quantitative MIBG score (Curie, or SIOPEN)",
        "recommended when MIBG shows bone or marrow disease; decides no stage or risk group",
        f"Brisse 2011; {PDQ}; SRC-A: modified Curie score in North America", Urgency.AT_DIAGNOSIS,
        FactKey.MIBG_SCORE,
        lambda c, r: any(s.modality is ImagingModality.MIBG and PRESENT in (s.bone, s.bone_marrow)
                         for s in c.functional_imaging),
        lambda c, r: "" if c.mibg_scores else "no Curie or SIOPEN score on record"),
    Row("fdg-pet", "18F-FDG PET", "required when the primary is not MIBG-avid", f"{PDQ}; SRC-A",
        Urgency.BEFORE_TREATMENT, FactKey.FUNCTIONAL_IMAGING, lambda c, r: c.primary_mibg_avid is ABSENT,
        _fdg_pet_missing),
    Row("spine-mri", "MRI of the spine", "required for a paraspinal primary or with signs of cord or nerve-root "
        "compression", f"{PDQ}; SRC-A", Urgency.BEFORE_TREATMENT, FactKey.PARASPINAL,
        lambda c, r: PRESENT in (c.paraspinal, c.cord_compression),
        lambda c, r: "" if _spine_imaged(c) else "no report of the spinal canal (IDRF 19) on record"),
    Row("bone-marrow", "Bilateral bone marrow aspirates and trephine biopsies", EVERY, PDQ,
        Urgency.BEFORE_TREATMENT, FactKey.BONE_MARROW, _always,
        lambda c, r: "" if c.bone_marrow.involvement.known or c.bone_marrow.tumour_cell_percent is not None
        else "no marrow result on record"),
    Row("histology", "Tumour biopsy: histology (INPC)", EXCEPT_GN_MATURE,
        f"{PDQ}: an 'absolute requirement'; Cohn 2009; Irwin 2021", Urgency.BEFORE_TREATMENT, FactKey.HISTOLOGY,
        _classifiable, _histology_missing),
    Row("mycn", "MYCN status", EXCEPT_GN_MATURE, BIOLOGY_SOURCE, Urgency.BEFORE_TREATMENT, FactKey.MYCN,
        _classifiable, lambda c, r: "" if c.mycn is not MycnStatus.UNKNOWN else "not recorded"),
    Row("ploidy", "Tumour ploidy (DNA index)", EXCEPT_GN_MATURE, BIOLOGY_SOURCE, Urgency.BEFORE_TREATMENT,
        FactKey.PLOIDY, _classifiable, lambda c, r: "" if c.ploidy.effective_category else "not recorded"),
    Row("sca", "11q and 1p status (segmental chromosome aberrations)", EXCEPT_GN_MATURE, BIOLOGY_SOURCE,
        Urgency.BEFORE_TREATMENT, FactKey.SCA, _classifiable,
        lambda c, r: _not_recorded([name for name, value in (("11q", c.chr11q_aberration), ("1p", c.chr1p_aberration))
                                    if not value.known])),
    Row("alk", "ALK status (mutation, amplification)",
        "for a high-risk patient: eligibility for ALK-targeted therapy; not a risk input of INRG 2009 or COG 2021",
        "COG ANBL1531 and ANBL2131, via PDQ", Urgency.DURING_INDUCTION, FactKey.ALK,
        lambda c, r: _is_high(r), lambda c, r: "" if c.alk is not AlkStatus.UNKNOWN else "not recorded"),
    Row("primary-size", "Longest diameter and cystic fraction of the adrenal primary",
        "needed to judge observation without biopsy for an infant under 6 months with an L1 adrenal primary",
        OBSERVATION_SOURCE, Urgency.AT_DIAGNOSIS, FactKey.PRIMARY_SIZE, _observation_applies, _size_missing),
)

# Tests that need tumour tissue: deferred when observation without biopsy is an accepted approach.
_NEEDS_TISSUE = frozenset({"histology", "mycn", "ploidy", "sca"})
# The facts an item supplies, for ``decides`` (any of them missing from an open result); the spine MRI gives the
# IDRF 19 call (intraspinal extension), which can decide L1 versus L2.
_SUPPLIES = {FactKey.SCA: frozenset({FactKey.SCA, FactKey.CHR_11Q, FactKey.CHR_1P}),
             FactKey.HISTOLOGY: frozenset({FactKey.HISTOLOGY, FactKey.GRADE, FactKey.MKI, FactKey.INPC}),
             FactKey.PARASPINAL: frozenset({FactKey.IDRF})}
MARROW_STAGE_1 = ("PDQ: marrow sampling may not be necessary for a tumour that is otherwise stage 1; the treating "
                  "team decides")
SRC_A_PET = ("SRC-A exempts infants under 6 months with small L1 adrenal masses from FDG-PET; in the sources these "
             "are the criteria for observation without biopsy (PDQ; Nuchtern 2012), not an imaging exception")


def pretreatment_workup(case: Case, result: Classification) -> Workup:
    """Every work-up item required for this patient and absent from the record, in table order, with the notes
    the card shows (observation without biopsy; where SRC-A departs from the sources)."""
    observe = small_adrenal_mass(case, result)
    unstable = bool(unstable_ms_infant(case, result.stage))
    open_facts = {m.fact for m in result.missing}
    items = []
    for row in ROWS:
        if not row.applies(case, result):
            continue
        what = row.missing(case, result)
        if not what:
            continue
        urgency = row.urgency
        if row.key in _NEEDS_TISSUE and observe.presence is PRESENT:
            urgency = Urgency.DEFERRED
        if row.key in _NEEDS_TISSUE and unstable:
            urgency = Urgency.WHEN_SAFE
        if row.key == "spine-mri" and case.cord_compression is PRESENT:
            urgency = Urgency.EMERGENCY
        note = (SRC_A_PET if row.key == "fdg-pet" and observe.presence is not ABSENT
                else MARROW_STAGE_1 if row.key == "bone-marrow" and result.stage.stage is Stage.L1 else None)
        decides = bool(open_facts & _SUPPLIES.get(row.fact, frozenset({row.fact})))
        items.append(WorkupItem(row.key, row.name, what, row.required_when, row.source, urgency, row.fact,
                                decides, note))
    young = younger_than_months(case.birth_date, case.diagnosis_date, case.age, OBSERVATION_MONTHS)
    return Workup(tuple(items), _notes(observe) if young else (), observe.presence)


def _notes(observe: Assessment) -> tuple[str, ...]:
    """What the small-adrenal-mass criteria say for an infant under 6 months."""
    if observe.presence is PRESENT:
        return (f"Observation without biopsy is an accepted approach for this infant ({OBSERVATION_SOURCE}): "
                f"{observe.steps[0]}. The tests that need tumour tissue may be deferred; the risk groups stay "
                f"undetermined until they are done. ANBL00P2 referred for resection on 'a 50% increase in the "
                f"volume of the mass or urine catecholamine values, or an increase in the HVA/VMA ratio > 2' "
                f"(Nuchtern 2012).",)
    if observe.presence is UNKNOWN and "size not recorded" not in observe.steps[0]:
        return (f"Observation without biopsy may apply ({OBSERVATION_SOURCE}): {observe.steps[0]}.",)
    return ()
