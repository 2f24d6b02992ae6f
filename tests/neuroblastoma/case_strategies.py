"""Hypothesis strategies for whole Cases, every field with its unknowns, and for refining or blurring them.

``cases(**overrides)`` draws any Case: each keyword names a Case field and gives the strategy to use
for it instead of the default, e.g. ``cases(mycn=st.just(MycnStatus.AMPLIFIED))``. Ages cluster
around the 365- and 547-day thresholds, dates come at year, month or day precision, and unknowns
(``Presence.UNKNOWN``, ``None``, the ``UNKNOWN`` enum members) are drawn as often as known values.
The staging facts follow one of four scenarios (anything; nothing positive; MS-like sites; a fully
reported textbook L1/L2/M/MS case), so localized, MS and M cases are all common.

``textbook_cases()`` draws fully reported cases whose edge parameters (age, marrow percentage, sites,
imaging modality) vary; ``forgetting(case)`` forgets one or two of its known facts, which puts a
case one refinement away from a rule's edge.

``refinements()`` draws a ``Refinement``: a case and the same case with one unknown fact replaced by a
known value, the pair the monotonicity properties need; ``every_refinement()`` refines each unknown
fact of one case in turn; ``edge_refinements()`` forgets and re-refines each fact of a textbook case. ``blurred_case(case)`` is the opposite move: any part of the case forgotten.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any, TypeVar

from hypothesis import assume
from hypothesis import strategies as st

from neuroblastoma.ages import PartialDate
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.biology import (
    AlkStatus,
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MkiClass,
    MycnStatus,
    Ploidy,
    PloidyCategory,
    ResectionExtent,
)
from neuroblastoma.case import (
    MS_PERMITTED_SITES,
    Case,
    Effusion,
    EffusionKind,
    Evidence,
    FactKey,
    FunctionalImaging,
    IdrfCall,
    ImagingModality,
    MarrowAssessment,
    MarrowMethod,
    MetastasisFinding,
    MetastaticSite,
    MibgScore,
    MibgScoreMethod,
    NodalFinding,
    PrimaryTumour,
    SetAsideAge,
    TumourExtension,
    Unattributed,
)
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode, IdrfFinding, SpinalCanalFinding, StructureKind, StructureRelation

T = TypeVar("T")
P, A, U = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN

# --- Values ----------------------------------------------------------------------------------------------

presences = st.sampled_from(Presence)
known_presences = st.sampled_from((P, A))
sources = st.none() | st.sampled_from(("Observation/1", "Observation/2", "DiagnosticReport/3", "Condition/4"))
THRESHOLD_AGES = (0, 30, 364, 365, 366, 500, 546, 547, 548, 700, 1500, 6000)
age_days = st.sampled_from(THRESHOLD_AGES) | st.integers(0, 7000)
MARROW_EDGES = (0.5, 5.0, 9.0, 9.99, 10.0, 10.01, 40.0, 100.0)
marrow_percents = st.sampled_from((0.0, *MARROW_EDGES)) | st.floats(0, 100)


def small_tuples(elements: st.SearchStrategy[T], max_size: int = 3) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(elements, max_size=max_size).map(tuple)


def maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.none() | strategy


def weighted(common: T, rare: T, odds: int = 4) -> st.SearchStrategy[T]:
    """``common`` ``odds`` times as often as ``rare``."""
    return st.sampled_from((common,) * odds + (rare,))


# --- Dates and ages (product decision 1) ------------------------------------------------------------------

def at_precision(value: date, precision: str) -> PartialDate:
    if precision == "year":
        return PartialDate(value.year)
    if precision == "month":
        return PartialDate(value.year, value.month)
    return PartialDate.from_date(value)


@st.composite
def ages_at_diagnosis(draw: st.DrawFn) -> tuple[PartialDate | None, PartialDate | None, int | None, int | None]:
    """(birth date, diagnosis date, age in days, upper bound in days) consistent with one true age; any
    may be missing, and an age in days may be an interval around the true age (e.g. "14 months")."""
    birth = draw(st.dates(date(2005, 1, 1), date(2024, 12, 31)))
    age = draw(age_days)
    precisions = st.sampled_from(("year", "month", "day"))
    birth_date = draw(maybe(st.just(at_precision(birth, draw(precisions)))))
    diagnosis_date = draw(maybe(st.just(at_precision(birth + timedelta(days=age), draw(precisions)))))
    form = draw(st.sampled_from(("missing", "exact", "interval")))
    if form == "missing":
        return birth_date, diagnosis_date, None, None
    if form == "exact":
        return birth_date, diagnosis_date, age, None
    below, above = draw(st.integers(0, 60)), draw(st.integers(0, 60))
    return birth_date, diagnosis_date, max(age - below, 0), age + above


# --- The primary tumour and its IDRFs ----------------------------------------------------------------------

spinal_canal_findings = st.builds(
    SpinalCanalFinding,
    axial_canal_fraction=maybe(st.sampled_from((0.2, 0.33, 1 / 3, 0.34, 0.9)) | st.floats(0, 1)),
    canal_over_one_third=presences,
    leptomeningeal_spaces_obliterated=presences,
    cord_signal_abnormal=presences,
)
idrf_findings = st.builds(
    IdrfFinding,
    code=st.sampled_from(IdrfCode),
    status=presences,
    structure=maybe(st.sampled_from(StructureKind)),
    relation=maybe(st.sampled_from(StructureRelation)),
    spinal_canal=maybe(spinal_canal_findings),
    source=sources,
)


@st.composite
def every_idrf_itemised(draw: st.DrawFn) -> tuple[IdrfFinding, ...]:
    """All 20 IDRFs reported one by one, mostly absent: the 'every IDRF itemised' branch."""
    statuses = st.sampled_from((A,) * 6 + (P, U))
    return tuple(IdrfFinding(code, draw(statuses)) for code in IdrfCode)


tumour_extensions = st.builds(
    TumourExtension, compartment=st.sampled_from(Compartment), side=st.sampled_from(Laterality),
    contiguous=presences,
)
primary_tumours = st.builds(
    PrimaryTumour,
    compartment=maybe(st.sampled_from(Compartment)),
    side=st.sampled_from(Laterality),
    extensions=small_tuples(tumour_extensions, 2),
    idrfs=small_tuples(idrf_findings, 4) | every_idrf_itemised(),
    idrf_summary=presences,
    label=st.sampled_from(("primary", "left adrenal", "right adrenal", "pelvic mass")),
    source=sources,
    adrenal=presences,
)

# --- Spread ------------------------------------------------------------------------------------------------

nodal_findings = st.builds(
    NodalFinding, region=st.sampled_from(NodalRegion), status=presences, side=st.sampled_from(Laterality),
    source=sources,
)
metastasis_findings = st.builds(
    MetastasisFinding, site=st.sampled_from(MetastaticSite), status=presences, equivocal=st.booleans(),
    source=sources,
)
marrow_assessments = st.builds(
    MarrowAssessment, involvement=presences, tumour_cell_percent=maybe(marrow_percents),
    method=st.sampled_from(MarrowMethod), source=sources,
)
functional_imaging = st.builds(
    FunctionalImaging, modality=st.sampled_from(ImagingModality), bone=presences, bone_marrow=presences,
    equivocal=st.booleans(), source=sources,
)
effusions = st.builds(Effusion, kind=st.sampled_from(EffusionKind), malignant_cells=presences, source=sources)

# --- Biology -----------------------------------------------------------------------------------------------

dna_indices = st.sampled_from((0.8, 1.0, 1.2, 1.5)) | st.floats(0.3, 4.0)
known_ploidies = (st.builds(Ploidy, dna_index=dna_indices, category=maybe(st.sampled_from(PloidyCategory)))
                  | st.builds(Ploidy, category=st.sampled_from(PloidyCategory)))
ploidies = st.just(Ploidy()) | known_ploidies
evidence = st.builds(
    Evidence, fact=st.sampled_from(FactKey),
    sources=small_tuples(st.sampled_from(("Observation/1", "Patient/p", "Condition/4")), 2),
)

FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "patient": st.sampled_from(("patient-1", "patient-2")),
    "primaries": small_tuples(primary_tumours, 3),
    "multifocal": presences,
    "lymph_nodes": small_tuples(nodal_findings),
    "metastases": small_tuples(metastasis_findings),
    "metastatic_survey": presences,
    "bone_marrow": marrow_assessments,
    "functional_imaging": small_tuples(functional_imaging),
    "primary_mibg_avid": presences,
    "effusions": small_tuples(effusions, 2),
    "histology": st.sampled_from(HistologicCategory),
    "grade": st.sampled_from(DifferentiationGrade),
    "mki": st.sampled_from(MkiClass),
    "inpc": st.sampled_from(InpcClass),
    "mycn": st.sampled_from(MycnStatus),
    "chr11q_aberration": presences,
    "chr1p_aberration": presences,
    "other_scas": small_tuples(st.sampled_from(("17q gain", "3p loss", "4p loss")), 2),
    "ploidy": ploidies,
    "ms_symptoms": presences,
    "resection": st.sampled_from(ResectionExtent),
    "microscopic_residual": presences,
    "nodes_ipsilateral": presences,
    "nodes_contralateral": presences,
    "midline_infiltration": presences,
    "primary_diameter_cm": maybe(st.sampled_from((2.5, 3.0, 3.1, 3.2, 4.9, 5.0, 5.1, 8.0))),
    "primary_cystic_percent": maybe(st.sampled_from((0.0, 24.0, 25.0, 60.0))),
    "paraspinal": presences,
    "cord_compression": presences,
    "alk": st.sampled_from(AlkStatus),
    "mibg_scores": small_tuples(st.builds(MibgScore, method=st.just(MibgScoreMethod.CURIE),
                                          value=st.sampled_from((0.0, 2.0, 12.0, 30.0))), 1),
    "evidence": small_tuples(evidence, 2),
    "idrf_all_primaries": st.just(IdrfCall()) | st.builds(IdrfCall, presence=presences, source=sources),
    "unattributed": st.just(Unattributed()) | st.builds(
        Unattributed, idrfs=small_tuples(idrf_findings, 2), extensions=small_tuples(tumour_extensions, 1),
        idrf_calls=small_tuples(st.builds(IdrfCall, presence=presences, source=sources), 1)),
    "age_problem": weighted(None, "the onset of Condition/x is after today"),
    "age_conflict": weighted(None, "the neuroblastoma Conditions give different onsets"),
    "set_aside_ages": st.just(()) | st.tuples(st.builds(
        SetAsideAge, source=st.just("Condition/recorded"), basis=st.just("recorded later, no onset"),
        min_days=st.sampled_from((300, 364, 365, 546, 547, 800)), max_days=st.just(900))),
}
AGE_FIELDS = ("birth_date", "diagnosis_date", "age_days", "age_days_max")
STAGING_FIELDS = ("primaries", "multifocal", "lymph_nodes", "metastases", "metastatic_survey", "bone_marrow",
                  "functional_imaging", "primary_mibg_avid", "effusions", "idrf_all_primaries", "unattributed")
_CASE_FIELDS = {f.name for f in dataclasses.fields(Case)}
assert set(FIELD_STRATEGIES) | set(AGE_FIELDS) == _CASE_FIELDS, "cases() must draw every field of Case"

# --- Scenarios ---------------------------------------------------------------------------------------------
# With every distant-evidence field drawn freely, almost every case has some distant site present and
# is M; the scenarios make localized and MS cases, and cases one fact from them, as common.

not_positive = weighted(A, U)
locoregional_extensions = st.builds(  # midline extensions are never contralateral
    TumourExtension, compartment=st.sampled_from(Compartment), side=weighted(Laterality.MIDLINE, Laterality.UNKNOWN),
    contiguous=weighted(P, U),
)
quiet_primaries = st.builds(
    PrimaryTumour,
    compartment=st.sampled_from((*Compartment, *Compartment, None)),
    side=st.sampled_from(Laterality),
    extensions=small_tuples(locoregional_extensions, 1),
    idrfs=small_tuples(idrf_findings, 3) | every_idrf_itemised(),
    idrf_summary=presences,
    source=sources,
)
QUIET: dict[str, st.SearchStrategy[Any]] = {
    "primaries": st.lists(quiet_primaries, min_size=1, max_size=2).map(tuple),
    "metastases": small_tuples(st.builds(MetastasisFinding, site=st.sampled_from(MetastaticSite),
                                         status=not_positive, equivocal=weighted(False, True), source=sources), 2),
    "lymph_nodes": small_tuples(st.builds(NodalFinding, region=st.sampled_from(NodalRegion), status=not_positive,
                                          side=st.sampled_from(Laterality)), 1),
    "effusions": small_tuples(st.builds(Effusion, kind=st.sampled_from(EffusionKind), malignant_cells=not_positive),
                              1),
    "functional_imaging": small_tuples(st.builds(FunctionalImaging, modality=st.sampled_from(ImagingModality),
                                                 bone=not_positive, bone_marrow=not_positive,
                                                 equivocal=weighted(False, True)), 2),
    "bone_marrow": st.builds(MarrowAssessment, involvement=not_positive, tumour_cell_percent=maybe(st.just(0.0)),
                             method=st.sampled_from(MarrowMethod)),
}
_PERMITTED = sorted(MS_PERMITTED_SITES, key=lambda site: site.value)
MS_LIKE: dict[str, st.SearchStrategy[Any]] = {
    **QUIET,
    "metastases": st.lists(st.builds(MetastasisFinding, site=st.sampled_from(_PERMITTED), status=weighted(P, U, 2),
                                     equivocal=weighted(False, True), source=sources),
                           min_size=1, max_size=2).map(tuple),
    "bone_marrow": marrow_assessments,
}


@st.composite
def textbook_cases(draw: st.DrawFn) -> Case:
    """A fully reported case: localized (L1, L2 by an IDRF or by ipsilateral extension, regional nodes
    and local ascites) or metastatic (sites, marrow percentage and imaging drawn around the MS edges),
    with an exact age near the 547-day threshold and consistent metastatic work-up and imaging."""
    avid = draw(known_presences)
    modality = ImagingModality.MIBG if avid is P else draw(st.sampled_from((ImagingModality.MDP_BONE_SCAN,
                                                                           ImagingModality.FDG_PET)))
    primary = PrimaryTumour(draw(st.sampled_from(Compartment)), draw(st.sampled_from((Laterality.LEFT,
                                                                                      Laterality.RIGHT))),
                            idrf_summary=A, label="textbook primary")
    base = Case(
        draw(FIELD_STRATEGIES["patient"]), age_days=draw(st.sampled_from(THRESHOLD_AGES)), primaries=(primary,),
        metastatic_survey=A, primary_mibg_avid=avid, functional_imaging=(FunctionalImaging(modality, A, A),),
        bone_marrow=MarrowAssessment(A, 0.0, MarrowMethod.MORPHOLOGY),
    )
    kind = draw(st.sampled_from(("l1", "l2-idrf", "l2-extension", "l1-regional", "metastatic", "metastatic")))
    if kind == "l2-idrf":
        renal_contact = IdrfFinding(IdrfCode.ABDOMEN_RENAL_PEDICLE, U, StructureKind.RENAL_VESSEL,
                                    StructureRelation.CONTACT)
        return dataclasses.replace(base, primaries=(dataclasses.replace(primary, idrfs=(renal_contact,)),))
    if kind == "l2-extension":
        into = draw(st.sampled_from([c for c in Compartment if c is not primary.compartment]))
        extension = TumourExtension(into, primary.side, P)
        return dataclasses.replace(base, primaries=(dataclasses.replace(primary, extensions=(extension,)),))
    if kind == "l1-regional":
        node_region = {Compartment.ABDOMEN: NodalRegion.LOWER_MEDIASTINAL, Compartment.PELVIS: NodalRegion.INGUINAL,
                       Compartment.NECK: NodalRegion.CERVICAL, Compartment.CHEST: NodalRegion.MEDIASTINAL}
        return dataclasses.replace(base, lymph_nodes=(NodalFinding(node_region[primary.compartment]),),
                                   effusions=(Effusion(draw(st.sampled_from(EffusionKind)), A),))
    if kind == "l1":
        return base
    sites = draw(st.lists(st.sampled_from((*_PERMITTED, *_PERMITTED, *MetastaticSite)), min_size=1, max_size=2,
                          unique=True))
    percent = draw(st.sampled_from((None, *MARROW_EDGES)))
    marrow = (MarrowAssessment(A, 0.0, MarrowMethod.MORPHOLOGY) if percent is None
              else MarrowAssessment(P, percent, draw(weighted(MarrowMethod.MORPHOLOGY, MarrowMethod.RT_PCR))))
    scan = FunctionalImaging(modality, draw(weighted(A, P)), draw(weighted(A, P)))
    return dataclasses.replace(base, metastatic_survey=P, bone_marrow=marrow, functional_imaging=(scan,),
                               metastases=tuple(MetastasisFinding(site, P) for site in sites))


SCENARIOS = ("any", "quiet", "ms-like", "textbook")


@st.composite
def cases(draw: st.DrawFn, **overrides: st.SearchStrategy[Any]) -> Case:
    """Any Case; keyword arguments replace the strategy of the Case field they name."""
    unknown = set(overrides) - _CASE_FIELDS
    if unknown:
        raise TypeError(f"not fields of Case: {sorted(unknown)}")
    values = dict(zip(AGE_FIELDS, draw(ages_at_diagnosis()), strict=True))
    scenario = draw(st.sampled_from(SCENARIOS))
    chosen: dict[str, st.SearchStrategy[Any]] = {"quiet": QUIET, "ms-like": MS_LIKE}.get(scenario, {})
    if scenario == "textbook":
        textbook = draw(textbook_cases())
        chosen = {name: st.just(getattr(textbook, name)) for name in (*STAGING_FIELDS, "age_days")}
        values["age_days_max"] = None
    for name, strategy in FIELD_STRATEGIES.items():
        values[name] = draw(overrides.get(name, chosen.get(name, strategy)))
    if "age_days" in chosen:
        values["age_days"] = draw(chosen["age_days"])
    if "age_days" in overrides and "age_days_max" not in overrides:
        values["age_days_max"] = None  # the drawn bound belonged to the drawn age, not the override
    for name in AGE_FIELDS:
        if name in overrides:
            values[name] = draw(overrides[name])
    return Case(**values)


# --- Plumbing for rebuilding a case around one changed value ---------------------------------------------

Rebuild = Callable[[Any], Case]


def _identity(case: Case) -> Case:
    return case


def _replaced(items: tuple[T, ...], index: int, item: T) -> tuple[T, ...]:
    return (*items[:index], item, *items[index + 1:])


def _through(rebuild: Rebuild, obj: Any, name: str, index: int | None = None) -> Rebuild:
    """Rebuild the case with ``obj.name`` (or its ``index``-th item) replaced by a new value."""
    def apply(value: Any) -> Case:
        if index is not None:
            value = _replaced(getattr(obj, name), index, value)
        return rebuild(dataclasses.replace(obj, **{name: value}))
    return apply


def _optional(field: dataclasses.Field[Any]) -> bool:
    return "None" in str(field.type)


# --- Forgetting: known facts made unknown ------------------------------------------------------------------

Forget = Callable[[], Case]


def _known_leaves(obj: Any, path: str, rebuild: Rebuild) -> list[tuple[str, Forget]]:
    """Every known tri-state, side or optional value inside ``obj``, with the case it forgotten."""
    leaves: list[tuple[str, Forget]] = []
    for f in dataclasses.fields(obj):
        value, here, setter = getattr(obj, f.name), f"{path}.{f.name}", _through(rebuild, obj, f.name)
        if isinstance(value, Presence | Laterality) and value.name != "UNKNOWN":
            leaves.append((here, partial(setter, type(value).UNKNOWN)))
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if dataclasses.is_dataclass(item):
                    leaves += _known_leaves(item, f"{here}[{i}]", _through(rebuild, obj, f.name, i))
        elif dataclasses.is_dataclass(value):
            leaves += _known_leaves(value, here, setter)
        if value is not None and _optional(f) and not isinstance(value, tuple):
            leaves.append((here, partial(setter, None)))
    return leaves


def known_facts(case: Case) -> list[tuple[str, Forget]]:
    """Every known staging fact of the case, each with the case that has it forgotten."""
    leaves = [leaf for name in STAGING_FIELDS for leaf in _known_leaves_of_field(case, name)]
    if case.age_days is not None:
        leaves.append(("age_days", lambda: dataclasses.replace(case, age_days=None, age_days_max=None,
                                                               birth_date=None, diagnosis_date=None)))
    return leaves


def _known_leaves_of_field(case: Case, name: str) -> list[tuple[str, Forget]]:
    value = getattr(case, name)
    if isinstance(value, Presence):
        return [] if value is U else [(name, lambda: dataclasses.replace(case, **{name: U}))]
    if isinstance(value, tuple):
        return [leaf for i, item in enumerate(value)
                for leaf in _known_leaves(item, f"{name}[{i}]", _through(_identity, case, name, i))]
    return _known_leaves(value, name, _through(_identity, case, name))


@st.composite
def forgetting(draw: st.DrawFn, case: Case, most: int = 2) -> Case:
    """The case with one to ``most`` of its known staging facts forgotten."""
    for _ in range(draw(st.integers(1, most))):
        leaves = known_facts(case)
        if leaves:
            case = draw(st.sampled_from(leaves))[1]()
    return case


near_edge_cases = textbook_cases().flatmap(forgetting)


@st.composite
def blurred(draw: st.DrawFn, value: T, may_be_none: bool = False) -> T:
    """The value with some of what it reports forgotten: tri-states and sides become unknown, optional
    values None, dates coarser, at every depth. Blurring only removes information."""
    forget = weighted(False, True, 3)
    if may_be_none and value is not None and draw(forget):
        return None  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(draw(blurred(item)) for item in value)  # type: ignore[return-value]
    if isinstance(value, PartialDate):
        finest = 1 + (value.month is not None) + (value.day is not None)
        return at_precision(value.earliest, draw(st.sampled_from(("year", "month", "day")[:finest])))  # type: ignore[return-value]
    if isinstance(value, Presence | Laterality):
        return type(value).UNKNOWN if draw(forget) else value  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: draw(blurred(getattr(value, f.name), _optional(f))) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **changes)  # type: ignore[return-value]
    return value


@st.composite
def _blurred_age(draw: st.DrawFn, case: Case) -> dict[str, Any]:
    """An age no more precise than before: the interval of possible ages can only grow.

    An age in days is kept, widened or forgotten (with the dates, whose interval need not contain
    it); dates, read only when there is no age in days, are coarsened or forgotten."""
    if case.age_days is None:
        return {name: draw(blurred(getattr(case, name), True)) for name in ("birth_date", "diagnosis_date")}
    choice = draw(st.sampled_from(("keep", "widen", "forget")))
    if choice == "forget":
        return {"age_days": None, "age_days_max": None, "birth_date": None, "diagnosis_date": None}
    low, high = case.age_days, case.age_days_max if case.age_days_max is not None else case.age_days
    if choice == "widen":
        low, high = max(low - draw(st.integers(0, 90)), 0), high + draw(st.integers(0, 90))
    return {"age_days": low, "age_days_max": high}


@st.composite
def blurred_case(draw: st.DrawFn, case: Case) -> Case:
    """The case with an arbitrary part of what it reports forgotten: the inverse of any number of
    refinements."""
    changes = {name: draw(blurred(getattr(case, name))) for name in STAGING_FIELDS}
    return dataclasses.replace(case, **changes, **draw(_blurred_age(case)))


# --- Refining: one unknown fact made known -----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Refinement:
    fact: str  # where the unknown was, e.g. "primaries[0].extensions[1].contiguous"
    original: Case
    refined: Case


Refiner = Callable[[st.DrawFn], Case]


def _known_members(enum: type) -> st.SearchStrategy[Any]:
    return st.sampled_from([m for m in enum if m.name != "UNKNOWN"])


def _slot(path: str, values: st.SearchStrategy[Any], rebuild: Rebuild) -> tuple[str, Refiner]:
    return path, lambda draw: rebuild(draw(values))


def _value_slots(obj: Any, path: str, rebuild: Rebuild) -> list[tuple[str, Refiner]]:
    """Every unknown tri-state or side of ``obj``, refined to a known value."""
    slots = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is U:
            slots.append(_slot(f"{path}.{f.name}", known_presences, _through(rebuild, obj, f.name)))
        elif value is Laterality.UNKNOWN:
            slots.append(_slot(f"{path}.{f.name}", _known_members(Laterality), _through(rebuild, obj, f.name)))
    return slots


def _spinal_slots(finding: IdrfFinding, path: str, rebuild: Rebuild) -> list[tuple[str, Refiner]]:
    spinal = finding.spinal_canal
    if spinal is None:
        return []
    with_spinal = _through(rebuild, finding, "spinal_canal")
    slots = _value_slots(spinal, f"{path}.spinal_canal", with_spinal)
    if spinal.axial_canal_fraction is None:  # a fraction on the side of 1/3 the call already gives
        fractions = {P: st.floats(0.34, 1), A: st.floats(0, 0.33)}
        slots.append(_slot(f"{path}.spinal_canal.axial_canal_fraction",
                           fractions.get(spinal.canal_over_one_third, st.floats(0, 1)),
                           _through(with_spinal, spinal, "axial_canal_fraction")))
    return slots


def _primary_slots(case: Case) -> list[tuple[str, Refiner]]:
    slots: list[tuple[str, Refiner]] = []
    for i, primary in enumerate(case.primaries):
        path = f"primaries[{i}]"
        with_primary = _through(_identity, case, "primaries", i)
        slots += _value_slots(primary, path, with_primary)
        if primary.compartment is None:
            slots.append(_slot(f"{path}.compartment", st.sampled_from(Compartment),
                               _through(with_primary, primary, "compartment")))
        for j, extension in enumerate(primary.extensions):
            slots += _value_slots(extension, f"{path}.extensions[{j}]",
                                  _through(with_primary, primary, "extensions", j))
        for j, finding in enumerate(primary.idrfs):
            with_finding = _through(with_primary, primary, "idrfs", j)
            slots += _value_slots(finding, f"{path}.idrfs[{j}]", with_finding)
            slots += _spinal_slots(finding, f"{path}.idrfs[{j}]", with_finding)
    return slots


def _marrow_slots(case: Case) -> list[tuple[str, Refiner]]:
    marrow = case.bone_marrow
    with_marrow = _through(_identity, case, "bone_marrow")
    slots = _value_slots(marrow, "bone_marrow", with_marrow)
    if marrow.tumour_cell_percent is None:
        slots.append(_slot("bone_marrow.tumour_cell_percent", marrow_percents,
                           _through(with_marrow, marrow, "tumour_cell_percent")))
    if marrow.method is MarrowMethod.UNKNOWN:
        slots.append(_slot("bone_marrow.method", _known_members(MarrowMethod),
                           _through(with_marrow, marrow, "method")))
    return slots


@st.composite
def _age_refinement(draw: st.DrawFn, case: Case) -> Case:
    """An exact age in days within the interval already known (any age when nothing is known)."""
    age = case.age
    days = draw(st.integers(age.min_days, age.max_days) if age else age_days)
    return dataclasses.replace(case, age_days=days, age_days_max=None)


@st.composite
def _date_refinement(draw: st.DrawFn, case: Case, name: str) -> Case:
    """One more level of precision (year to month, month to day) for a partial date."""
    partial: PartialDate = getattr(case, name)
    if partial.month is None:
        finer = PartialDate(partial.year, draw(st.integers(1, 12)))
    else:
        finer = PartialDate.from_date(draw(st.dates(partial.earliest, partial.latest)))
    birth = finer if name == "birth_date" else case.birth_date
    diagnosis = finer if name == "diagnosis_date" else case.diagnosis_date
    assume(birth is None or diagnosis is None or diagnosis.latest >= birth.earliest)
    return dataclasses.replace(case, **{name: finer})


def _age_slots(case: Case) -> list[tuple[str, Refiner]]:
    age = case.age
    if age is not None and age.is_exact:
        return []
    slots: list[tuple[str, Refiner]] = [("age_days", lambda draw: draw(_age_refinement(case)))]
    if case.age_days is None:  # otherwise the age in days decides and the dates are not read
        for name in ("birth_date", "diagnosis_date"):
            partial = getattr(case, name)
            if partial is not None and not partial.is_exact:
                slots.append((name, lambda draw, name=name: draw(_date_refinement(case, name))))
    return slots


_ENUM_FIELDS = ("histology", "grade", "inpc", "mycn", "resection")


def unknown_facts(case: Case) -> list[tuple[str, Refiner]]:
    """Every unknown fact of the case, each with a way to draw the case with it made known."""
    slots = _value_slots(case, "case", _identity)
    slots += [
        _slot(name, _known_members(type(getattr(case, name))), _through(_identity, case, name))
        for name in _ENUM_FIELDS if getattr(case, name).name == "UNKNOWN"
    ]
    if case.ploidy.effective_category is None:
        slots.append(_slot("ploidy", known_ploidies, _through(_identity, case, "ploidy")))
    slots += _age_slots(case) + _primary_slots(case) + _marrow_slots(case)
    for name in ("lymph_nodes", "metastases", "functional_imaging", "effusions"):
        for i, item in enumerate(getattr(case, name)):
            slots += _value_slots(item, f"{name}[{i}]", _through(_identity, case, name, i))
    return slots


@st.composite
def refinements(draw: st.DrawFn, case_strategy: st.SearchStrategy[Case] | None = None) -> Refinement:
    """A case and the same case with one unknown fact (chosen at random) made known."""
    original = draw(case_strategy if case_strategy is not None else cases())
    slots = unknown_facts(original)
    assume(slots)
    path, refine = draw(st.sampled_from(slots))
    return Refinement(path, original, refine(draw))


@st.composite
def every_refinement(draw: st.DrawFn, case_strategy: st.SearchStrategy[Case] | None = None) -> list[Refinement]:
    """A case refined at each of its unknown facts in turn, one known value each: many more
    refinements per drawn case than ``refinements()``, for the same generation cost."""
    original = draw(case_strategy if case_strategy is not None else cases())
    return [Refinement(path, original, refine(draw)) for path, refine in unknown_facts(original)]


@st.composite
def edge_refinements(draw: st.DrawFn) -> list[Refinement]:
    """For a textbook case, each known fact in turn forgotten and then refined again (to any value):
    every rule edge the case sits on is probed once."""
    textbook = draw(textbook_cases())
    before = {path for path, _ in unknown_facts(textbook)}
    pairs = []
    for _, forget in known_facts(textbook):
        vague = forget()
        for path, refine in unknown_facts(vague):
            if path not in before:
                pairs.append(Refinement(path, vague, refine(draw)))
    return pairs
