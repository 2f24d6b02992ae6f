"""The case model: everything the staging and risk rules read about one patient, as immutable values.

Every fact can be unknown, and none defaults to a favourable or unfavourable value. ``evidence``
records which source (a FHIR ``Type/id``) gave each fact, so results can cite it; the rules use
the fact keys in ``FactKey`` when they report which inputs decided them or are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from functools import cached_property

from neuroblastoma.ages import AgeAtDiagnosis, PartialDate
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
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
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfFinding


class FactKey(StrEnum):
    """Names of the case's facts, used in traces ('decided by', 'missing') and in provenance."""

    STAGE = "inrg-stage"
    AGE = "age-at-diagnosis"
    BIRTH_DATE = "birth-date"
    DIAGNOSIS_DATE = "diagnosis-date"
    PRIMARY_TUMOUR = "primary-tumour"
    IDRF = "idrf"
    EXTENSION = "tumour-extension"
    LYMPH_NODES = "lymph-nodes"
    METASTASES = "distant-metastases"
    METASTATIC_SURVEY = "metastatic-work-up"
    BONE_MARROW = "bone-marrow"
    FUNCTIONAL_IMAGING = "functional-imaging"
    MIBG_AVIDITY = "mibg-avidity"
    EFFUSIONS = "effusions"
    MULTIFOCALITY = "multifocality"
    HISTOLOGY = "histologic-category"
    GRADE = "differentiation-grade"
    MKI = "mki-class"
    INPC = "inpc-class"
    MYCN = "mycn"
    CHR_11Q = "11q-aberration"
    CHR_1P = "1p-aberration"
    SCA = "segmental-aberrations-1p-11q"
    OTHER_SCA = "other-sca"
    PLOIDY = "ploidy"
    SYMPTOMS = "ms-symptoms"
    RESECTION = "resection-extent"
    # Which of several primaries a finding belongs to (Observation.focus, or body site and side): needed
    # only when a finding no record ties to one primary would change the answer (docs/clinical-rules.md).
    ATTRIBUTION = "primary-attribution"
    # Confirmation or exclusion of an equivocal focus by cross-sectional imaging or biopsy (Brisse 2011).
    EQUIVOCAL_FOCUS = "equivocal-focus"
    # INSS (Brodeur 1993): the operative and pathology facts, known after surgery.
    MICROSCOPIC_RESIDUAL = "microscopic-residual"
    NODES_IPSILATERAL = "ipsilateral-nodes-histology"
    NODES_CONTRALATERAL = "contralateral-nodes-histology"
    MIDLINE = "midline-infiltration"
    # The pretreatment work-up (COG requirements as PDQ states them; workup.py).
    PRIMARY_SIZE = "primary-tumour-size"
    PARASPINAL = "paraspinal-primary"
    CORD_COMPRESSION = "cord-compression"
    ALK = "alk-status"
    MIBG_SCORE = "mibg-score"


# Facts the rules name that stand for several recorded facts (for provenance lookups).
FACT_COMPONENTS: dict[FactKey, tuple[FactKey, ...]] = {
    FactKey.AGE: (FactKey.BIRTH_DATE, FactKey.DIAGNOSIS_DATE, FactKey.AGE),
    FactKey.SCA: (FactKey.CHR_1P, FactKey.CHR_11Q),
}


def recorded_facts(facts: tuple[FactKey, ...]) -> frozenset[FactKey]:
    """The recorded facts behind the facts the rules name (``FACT_COMPONENTS``)."""
    return frozenset(part for fact in facts for part in FACT_COMPONENTS.get(fact, (fact,)))


@dataclass(frozen=True)
class TumourExtension:
    """Extension of a primary tumour into another compartment."""

    compartment: Compartment
    side: Laterality = Laterality.UNKNOWN
    contiguous: Presence = Presence.UNKNOWN
    source: str | None = None


@dataclass(frozen=True)
class IdrfCall:
    """A radiologist's overall IDRF call: present when at least one IDRF is, absent for "no IDRF"."""

    presence: Presence = Presence.UNKNOWN
    source: str | None = None


@dataclass(frozen=True)
class Unattributed:
    """Findings about a primary that no record ties to one of several synchronous primaries (neither
    ``Observation.focus`` nor body site and side). The rules consider every primary they could belong to,
    and name the attribution when the choice would change the answer (Monclair 2009: the greatest extent)."""

    idrfs: tuple[IdrfFinding, ...] = ()
    extensions: tuple[TumourExtension, ...] = ()
    idrf_calls: tuple[IdrfCall, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.idrfs or self.extensions or self.idrf_calls)


@dataclass(frozen=True)
class PrimaryTumour:
    """One primary tumour. Synchronous multifocal primaries are listed separately (decision 9)."""

    compartment: Compartment | None
    side: Laterality = Laterality.UNKNOWN
    extensions: tuple[TumourExtension, ...] = ()
    idrfs: tuple[IdrfFinding, ...] = ()
    idrf_summary: Presence = Presence.UNKNOWN  # the report's overall call: "IDRFs: none" is ABSENT
    label: str = "primary"
    source: str | None = None
    idrf_summary_source: str | None = None
    # An adrenal primary (SNOMED CT 23451007 on the primary-site report): COG observation without biopsy of a
    # small adrenal mass in an infant under 6 months (workup.py). Unknown unless the report says adrenal.
    adrenal: Presence = Presence.UNKNOWN


class MetastaticSite(Enum):
    BONE = "bone"
    BONE_MARROW = "bone-marrow"
    LIVER = "liver"
    SKIN = "skin"
    DISTANT_LYMPH_NODE = "distant-lymph-node"
    LUNG = "lung"
    CNS = "cns"
    PLEURA = "pleura"
    OTHER = "other"


# INRGSS MS: "metastatic disease confined to skin, liver and/or bone marrow" (Monclair 2009).
MS_PERMITTED_SITES = frozenset({MetastaticSite.SKIN, MetastaticSite.LIVER, MetastaticSite.BONE_MARROW})


@dataclass(frozen=True)
class MetastasisFinding:
    """A distant site: present, absent or unknown; ``equivocal`` marks an unconfirmed focus."""

    site: MetastaticSite
    status: Presence
    equivocal: bool = False
    source: str | None = None
    # A report for this site from cross-sectional imaging or biopsy made after an equivocal focus there:
    # it confirms (present) or rules out (absent) the focus (Brisse 2011; docs/clinical-rules.md).
    resolves_focus: bool = False


@dataclass(frozen=True)
class NodalFinding:
    """An involved (or explicitly uninvolved) lymph node group; regional vs distant is computed."""

    region: NodalRegion
    status: Presence = Presence.PRESENT
    side: Laterality = Laterality.UNKNOWN
    source: str | None = None


class MarrowMethod(Enum):
    MORPHOLOGY = "morphology"
    IMMUNOCYTOLOGY = "immunocytology"
    RT_PCR = "rt-pcr"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class MarrowAssessment:
    """Bone marrow aspirates/trephines; tumour-cell % of nucleated cells by morphology (PDQ)."""

    involvement: Presence = Presence.UNKNOWN
    tumour_cell_percent: float | None = None
    method: MarrowMethod = MarrowMethod.UNKNOWN
    source: str | None = None
    # A marrow biopsy made after an equivocal focus in the marrow: it confirms or rules it out (Brisse 2011).
    resolves_focus: bool = False

    def __post_init__(self) -> None:
        if self.tumour_cell_percent is not None and not 0 <= self.tumour_cell_percent <= 100:
            raise ValueError(f"tumour-cell percentage {self.tumour_cell_percent} outside 0–100")


class ImagingModality(Enum):
    MIBG = "mibg"
    MDP_BONE_SCAN = "mdp-bone-scan"
    FDG_PET = "fdg-pet"


@dataclass(frozen=True)
class FunctionalImaging:
    """A whole-body functional scan's result for bone and bone marrow (uptake = disease)."""

    modality: ImagingModality
    bone: Presence = Presence.UNKNOWN
    bone_marrow: Presence = Presence.UNKNOWN
    equivocal: bool = False
    source: str | None = None


class EffusionKind(Enum):
    PLEURAL = "pleural"
    ASCITES = "ascites"


@dataclass(frozen=True)
class Effusion:
    """Recorded, not an IDRF; metastatic only when remote from the primary (Brisse 2011)."""

    kind: EffusionKind
    malignant_cells: Presence = Presence.UNKNOWN
    source: str | None = None


class MibgScoreMethod(Enum):
    """Semi-quantitative MIBG scores (Brisse 2011: recommended; PDQ): Curie, 9 skeletal segments and one
    soft-tissue segment scored 0-3 (0-30); SIOPEN, 12 skeletal segments scored 0-6 (0-72)."""

    CURIE = "curie"
    SIOPEN = "siopen"

    @property
    def maximum(self) -> float:
        return 30.0 if self is MibgScoreMethod.CURIE else 72.0


@dataclass(frozen=True)
class MibgScore:
    """A semi-quantitative MIBG score at diagnosis: recorded and shown, never a staging or risk input."""

    method: MibgScoreMethod
    value: float
    source: str | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.value <= self.method.maximum:
            raise ValueError(f"{self.method.value} score {self.value} outside 0-{self.method.maximum:g}")


@dataclass(frozen=True)
class Evidence:
    """Which sources (FHIR ``Type/id`` or a case-file pointer) gave a fact."""

    fact: FactKey
    sources: tuple[str, ...]


@dataclass(frozen=True)
class SetAsideAge:
    """The age at diagnosis another record of the diagnosis would give, set aside by the rule for several
    records (e.g. a Condition with only a later ``recordedDate`` beside one with an onset date). The
    classification warns when using it instead would change a result (``classification.classify``)."""

    source: str
    basis: str  # e.g. "recorded 2025-07-01, no onset"
    min_days: int
    max_days: int


@dataclass(frozen=True)
class Case:
    """One patient's pretreatment neuroblastoma data."""

    patient: str
    birth_date: PartialDate | None = None
    diagnosis_date: PartialDate | None = None
    age_days: int | None = None
    age_days_max: int | None = None  # with age_days: an age known only as an interval (e.g. "14 months")
    # Why the age is unknown or an interval although dates are on record: an implausible date (a diagnosis
    # before birth or in the future, an absurd age) or onsets that disagree. Named in the missing inputs.
    age_problem: str | None = None
    age_conflict: str | None = None
    set_aside_ages: tuple[SetAsideAge, ...] = ()
    primaries: tuple[PrimaryTumour, ...] = ()
    multifocal: Presence = Presence.UNKNOWN
    # The overall call over every primary: ABSENT is "no IDRF on any primary" (stands for each primary's
    # own call where it has none); PRESENT is "an IDRF on at least one primary".
    idrf_all_primaries: IdrfCall = field(default_factory=IdrfCall)
    unattributed: Unattributed = field(default_factory=Unattributed)
    lymph_nodes: tuple[NodalFinding, ...] = ()
    metastases: tuple[MetastasisFinding, ...] = ()
    metastatic_survey: Presence = Presence.UNKNOWN
    bone_marrow: MarrowAssessment = field(default_factory=MarrowAssessment)
    functional_imaging: tuple[FunctionalImaging, ...] = ()
    primary_mibg_avid: Presence = Presence.UNKNOWN
    effusions: tuple[Effusion, ...] = ()
    histology: HistologicCategory = HistologicCategory.UNKNOWN
    grade: DifferentiationGrade = DifferentiationGrade.UNKNOWN
    mki: MkiClass = MkiClass.UNKNOWN  # with category, grade and age it decides an unreported INPC class (inpc.py)
    inpc: InpcClass = InpcClass.UNKNOWN
    mycn: MycnStatus = MycnStatus.UNKNOWN
    chr11q_aberration: Presence = Presence.UNKNOWN
    chr1p_aberration: Presence = Presence.UNKNOWN
    other_scas: tuple[str, ...] = ()
    ploidy: Ploidy = field(default_factory=Ploidy)
    ms_symptoms: Presence = Presence.UNKNOWN
    resection: ResectionExtent = ResectionExtent.UNKNOWN
    # INSS (Brodeur 1993), after surgery: ``resection`` is the extent of gross excision; microscopic residual
    # after a complete gross excision is still stage 1; the nodes are as the pathologist reports them
    # (ipsilateral non-adherent nodes; contralateral regional nodes); midline infiltration is infiltration to
    # or beyond the opposite side of the vertebral column (or, for a midline tumour, bilateral extension).
    microscopic_residual: Presence = Presence.UNKNOWN
    nodes_ipsilateral: Presence = Presence.UNKNOWN
    nodes_contralateral: Presence = Presence.UNKNOWN
    midline_infiltration: Presence = Presence.UNKNOWN
    # The pretreatment work-up (workup.py): the primary's longest diameter and cystic fraction, a paraspinal
    # primary and signs of cord or nerve-root compression, ALK, the semi-quantitative MIBG score.
    primary_diameter_cm: float | None = None
    primary_cystic_percent: float | None = None
    paraspinal: Presence = Presence.UNKNOWN
    cord_compression: Presence = Presence.UNKNOWN
    alk: AlkStatus = AlkStatus.UNKNOWN
    mibg_scores: tuple[MibgScore, ...] = ()
    evidence: tuple[Evidence, ...] = ()

    def __post_init__(self) -> None:
        if self.age_days is not None and self.age_days < 0:
            raise ValueError("age_days must not be negative")
        if self.age_days_max is not None and (self.age_days is None or self.age_days_max < self.age_days):
            raise ValueError("age_days_max needs age_days and must not be below it")
        if self.primary_diameter_cm is not None and not 0 < self.primary_diameter_cm < 100:
            raise ValueError(f"primary tumour diameter {self.primary_diameter_cm} cm outside 0-100")
        if self.primary_cystic_percent is not None and not 0 <= self.primary_cystic_percent <= 100:
            raise ValueError(f"cystic fraction {self.primary_cystic_percent} % outside 0-100")
        if self.age_days is None and self.birth_date and self.diagnosis_date:
            AgeAtDiagnosis.between(self.birth_date, self.diagnosis_date)  # raises on impossible dates

    @cached_property
    def age(self) -> AgeAtDiagnosis | None:
        """Age at diagnosis: exact when given in days, else the interval the two dates allow. Computed once
        per case (staging and every risk schema read it: 10 % of the rules' time, benchmark row 1)."""
        if self.age_days is not None:
            return AgeAtDiagnosis(self.age_days, self.age_days_max or self.age_days)
        if self.birth_date is None or self.diagnosis_date is None:
            return None
        return AgeAtDiagnosis.between(self.birth_date, self.diagnosis_date)

    def sources_of(self, *facts: FactKey) -> tuple[str, ...]:
        """The sources behind the given facts, in order, without repeats."""
        wanted = recorded_facts(facts)
        seen: dict[str, None] = {}
        for item in self.evidence:
            if item.fact in wanted:
                for source in item.sources:
                    seen[source] = None
        return tuple(seen)
