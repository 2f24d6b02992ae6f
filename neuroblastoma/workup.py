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
  high-risk trial and targeted-therapy eligibility during induction (ANBL1531/ANBL2131): information only;
- the grade of differentiation only where it decides: L2 at 18 months or older (Cohn 2009, groups E/H).

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
from neuroblastoma.results import Classification, RiskLevel, Stage

PDQ = "PDQ Neuroblastoma Treatment"
# COG observation without biopsy of a small adrenal mass (PDQ; Nuchtern 2012, ANBL00P2): an infant younger than
# 6 months with an isolated adrenal L1 mass smaller than 3.1 cm if solid, or 5 cm if at least 25 % cystic.
OBSERVATION_MONTHS = 6
SOLID_LIMIT_CM = 3.1
CYSTIC_LIMIT_CM = 5.0
CYSTIC_FRACTION_PERCENT = 25.0
OBSERVATION_SOURCE = "PDQ; Nuchtern 2012 (COG ANBL00P2)"


class Urgency(Enum):
    """When an item is due."""

    EMERGENCY = "Now: cord compression is an emergency, and treatment is not delayed for it"
    BEFORE_RESECTION = "Due before treatment, and before any resection"
    BEFORE_TREATMENT = "Due before treatment"
    AT_DIAGNOSIS = "Recommended at diagnosis"
    DEFERRED = "May be deferred (observation without biopsy)"
    WHEN_SAFE = "When safe: an unstable MS infant may start chemotherapy first (PDQ)"
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
    items: tuple[WorkupItem, ...]
    notes: tuple[str, ...]


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
    months = "unknown" if young is None else "under" if young else "not under"
    steps = (f"age {months} {OBSERVATION_MONTHS} calendar months; adrenal primary {adrenal.value}; "
             f"INRGSS L1 {l1.value}; {size_step}",)
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


def _may_be_high(result: Classification) -> bool:
    return any(RiskLevel.HIGH in {c.risk for c in r.candidates} or r.risk is RiskLevel.HIGH for r in result.risks)


def _grade_decides(case: Case, result: Classification) -> bool:
    """Grade decides only L2 at 18 months or older (Cohn 2009, groups E and H), for neuroblastoma and nodular GNB."""
    bands = case.age.possible_bands() if case.age else {AgeBand.FROM_18_MONTHS}
    return (Stage.L2 in result.stage.candidates and AgeBand.FROM_18_MONTHS in bands
            and case.histology in (HistologicCategory.NEUROBLASTOMA, HistologicCategory.GANGLIONEUROBLASTOMA_NODULAR,
                                   HistologicCategory.UNKNOWN))


def _histology_missing(case: Case, result: Classification) -> str:
    parts = []
    if case.histology is HistologicCategory.UNKNOWN:
        parts.append("histologic category")
    if case.grade is DifferentiationGrade.UNKNOWN and _grade_decides(case, result):
        parts.append("grade of differentiation (it decides L2 at 18 months or older)")
    if case.inpc is InpcClass.UNKNOWN:
        parts.append("INPC favourable/unfavourable class")
    return ", ".join(parts)


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


EXCEPT_GN_MATURE = "for every patient except a mature ganglioneuroma"
ROWS: tuple[Row, ...] = (
    Row("cross-sectional-imaging", "MRI or contrast CT of the primary, with the IDRFs", "for every patient",
        f"{PDQ}; Brisse 2011; SRC-A", Urgency.BEFORE_TREATMENT, FactKey.IDRF, _always,
        lambda c, r: "" if _has_idrf_call(c) else "no IDRF report of the primary"),
    Row("mibg", "123I-MIBG scintigraphy", "for every patient", f"Brisse 2011; {PDQ}", Urgency.BEFORE_RESECTION,
        FactKey.FUNCTIONAL_IMAGING, _always, lambda c, r: "" if _mibg(c) else "no MIBG scan on record"),
    Row("mibg-score", "Semi-quantitative MIBG score (Curie; or SIOPEN)", "when MIBG shows bone or marrow disease",
        f"Brisse 2011, recommended; {PDQ}; SRC-A: modified Curie in North America", Urgency.AT_DIAGNOSIS,
        FactKey.MIBG_SCORE,
        lambda c, r: any(s.modality is ImagingModality.MIBG and PRESENT in (s.bone, s.bone_marrow)
                         for s in c.functional_imaging),
        lambda c, r: "" if c.mibg_scores else "no Curie or SIOPEN score"),
    Row("fdg-pet", "18F-FDG PET", "when the primary is not MIBG-avid", f"{PDQ}; SRC-A", Urgency.BEFORE_TREATMENT,
        FactKey.FUNCTIONAL_IMAGING, lambda c, r: c.primary_mibg_avid is ABSENT,
        lambda c, r: "" if any(s.modality is ImagingModality.FDG_PET for s in c.functional_imaging)
        else "no FDG-PET on record" + (" (a 99mTc-MDP bone scan is: Brisse 2011 accepts it for staging)"
                                       if any(s.modality is ImagingModality.MDP_BONE_SCAN for s in c.functional_imaging)
                                       else "")),
    Row("spine-mri", "MRI of the spine", "for a paraspinal primary, or with signs of cord or nerve-root compression",
        f"{PDQ}; SRC-A", Urgency.BEFORE_TREATMENT, FactKey.PARASPINAL,
        lambda c, r: PRESENT in (c.paraspinal, c.cord_compression),
        lambda c, r: "" if _spine_imaged(c) else "no report of the spinal canal (IDRF 19)"),
    Row("bone-marrow", "Bilateral bone marrow aspirates and trephine biopsies", "for every patient", PDQ,
        Urgency.BEFORE_TREATMENT, FactKey.BONE_MARROW, _always,
        lambda c, r: "" if c.bone_marrow.involvement.known or c.bone_marrow.tumour_cell_percent is not None
        else "no marrow result"),
    Row("histology", "Tumour biopsy: histology (INPC)", EXCEPT_GN_MATURE,
        f"{PDQ}: 'absolute requirement'; Cohn 2009; Irwin 2021", Urgency.BEFORE_TREATMENT, FactKey.HISTOLOGY,
        _classifiable, _histology_missing),
    Row("mycn", "MYCN status", EXCEPT_GN_MATURE, "Cohn 2009; Irwin 2021", Urgency.BEFORE_TREATMENT, FactKey.MYCN,
        _classifiable, lambda c, r: "" if c.mycn is not MycnStatus.UNKNOWN else "not recorded"),
    Row("ploidy", "Tumour ploidy (DNA index)", EXCEPT_GN_MATURE, "Cohn 2009; Irwin 2021", Urgency.BEFORE_TREATMENT,
        FactKey.PLOIDY, _classifiable, lambda c, r: "" if c.ploidy.effective_category else "not recorded"),
    Row("sca", "11q and 1p status (segmental chromosome aberrations)", EXCEPT_GN_MATURE, "Cohn 2009; Irwin 2021",
        Urgency.BEFORE_TREATMENT, FactKey.SCA, _classifiable,
        lambda c, r: ", ".join(name for name, value in (("11q", c.chr11q_aberration), ("1p", c.chr1p_aberration))
                               if not value.known)),
    Row("alk", "ALK status (mutation, amplification)", "when a risk group is or may be high",
        "COG ANBL1531/ANBL2131 via PDQ; not a risk input of Irwin 2021", Urgency.DURING_INDUCTION, FactKey.ALK,
        lambda c, r: _may_be_high(r), lambda c, r: "" if c.alk is not AlkStatus.UNKNOWN else "not recorded"),
    Row("primary-size", "Longest diameter and cystic fraction of the adrenal primary",
        "for an infant under 6 months with an L1 adrenal (or possibly adrenal) primary", OBSERVATION_SOURCE,
        Urgency.AT_DIAGNOSIS, FactKey.PRIMARY_SIZE,
        lambda c, r: younger_than_months(c.birth_date, c.diagnosis_date, c.age, OBSERVATION_MONTHS) is True
        and r.stage.stage is Stage.L1 and len(c.primaries) == 1 and c.primaries[0].adrenal is not ABSENT,
        lambda c, r: "" if c.primary_diameter_cm is not None and c.primary_cystic_percent is not None
        else "diameter" if c.primary_diameter_cm is None and c.primary_cystic_percent is not None
        else "cystic fraction" if c.primary_diameter_cm is not None else "diameter and cystic fraction"),
)

# Tests that need tumour tissue: deferred when observation without biopsy is an accepted approach.
_NEEDS_TISSUE = frozenset({"histology", "mycn", "ploidy", "sca", "alk"})
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
        note = SRC_A_PET if row.key == "fdg-pet" and observe.presence is not ABSENT else None
        decides = row.fact in open_facts or (row.fact is FactKey.SCA and bool(open_facts & {FactKey.CHR_11Q,
                                                                                             FactKey.CHR_1P}))
        items.append(WorkupItem(row.key, row.name, what, row.required_when, row.source, urgency, row.fact,
                                decides, note))
    young = younger_than_months(case.birth_date, case.diagnosis_date, case.age, OBSERVATION_MONTHS)
    return Workup(tuple(items), _notes(observe) if young else ())


def _notes(observe: Assessment) -> tuple[str, ...]:
    """What the small-adrenal-mass criteria say for an infant under 6 months."""
    if observe.presence is PRESENT:
        return (f"Observation without biopsy is an accepted approach for this infant ({OBSERVATION_SOURCE}): "
                f"{observe.steps[0]}. The tests that need tumour tissue may be deferred; the risk groups stay "
                f"undetermined until they are done.",)
    if observe.presence is UNKNOWN and "size not recorded" not in observe.steps[0]:
        return (f"Observation without biopsy may apply ({OBSERVATION_SOURCE}): {observe.steps[0]}.",)
    return ()
