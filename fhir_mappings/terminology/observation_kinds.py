"""Which fact an Observation denotes, read from its ``code``: ``OBSERVATION_KIND_BY_CODING``.

The mapper looks each coding of ``Observation.code`` up here (O(1)), then reads the value with
the lookup for that kind (``value_sets``). Kinds marked ``decisive=False`` are recorded and shown
but never decide a result (product decision 11: no MYCN call derived from copy numbers).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.local_staging import FUNCTIONAL_IMAGING, IDRF, MARROW
from fhir_mappings.terminology.model import Code, CodingKey, ValueSetDef, lookup_table
from neuroblastoma.case import FactKey
from neuroblastoma.idrf import IdrfCode, RecordedCondition


class ObservationKind(Enum):
    """The fact an Observation.code denotes."""

    PRIMARY_TUMOUR_SITE = "primary-tumour-site"
    IDRF = "idrf"
    IDRF_SUMMARY = "idrf-summary"
    IDRF_ALL_PRIMARIES = "idrf-summary-all-primaries"
    MULTIFOCALITY = "multifocality"
    EFFUSION = "effusion"
    TUMOUR_EXTENSION = "tumour-extension"
    NODAL_INVOLVEMENT = "nodal-involvement"
    METASTATIC_SITE = "metastatic-site"
    METASTATIC_WORK_UP = "metastatic-work-up"
    MARROW_INVOLVEMENT = "marrow-involvement"
    MARROW_TUMOUR_CELL_PERCENT = "marrow-tumour-cell-percent"
    FUNCTIONAL_IMAGING = "functional-imaging"
    MIBG_AVIDITY = "mibg-avidity"
    HISTOLOGIC_CATEGORY = "histologic-category"
    DIFFERENTIATION_GRADE = "differentiation-grade"
    INPC_CLASS = "inpc-class"
    MKI_CLASS = "mki-class"
    MYCN_STATUS = "mycn-status"
    MYCN_COPY_NUMBER = "mycn-copy-number"
    GENOMIC_VARIANT = "genomic-variant"
    CHR_11Q = "11q-aberration"
    CHR_1P = "1p-aberration"
    OTHER_SCA = "other-sca"
    DNA_INDEX = "dna-index"
    PLOIDY_CATEGORY = "ploidy-category"
    MS_SYMPTOMS = "ms-symptoms"
    RESECTION_EXTENT = "resection-extent"
    MICROSCOPIC_RESIDUAL = "microscopic-residual"
    NODES_IPSILATERAL = "ipsilateral-nodes-histology"
    NODES_CONTRALATERAL = "contralateral-nodes-histology"
    MIDLINE = "midline-infiltration"
    PRIMARY_DIAMETER = "primary-longest-diameter"
    TUMOUR_SIZE_PANEL = "tumour-size"  # mCODE TumorSize (LOINC 21889-1): the longest dimension in a component
    PRIMARY_CYSTIC = "primary-cystic-fraction"
    PARASPINAL = "paraspinal-primary"
    CORD_COMPRESSION = "cord-compression-signs"
    ALK = "alk-status"
    MIBG_SCORE = "mibg-score"

    @property
    def fact(self) -> FactKey:
        """The case fact this kind of Observation feeds (for provenance and 'missing' traces)."""
        return _FACT[self]

    @property
    def decisive(self) -> bool:
        """False for kinds that are recorded but never decide a result (product decision 11)."""
        return self not in _RECORDED_ONLY


K = ObservationKind

_FACT: Mapping[ObservationKind, FactKey] = {
    K.PRIMARY_TUMOUR_SITE: FactKey.PRIMARY_TUMOUR,
    K.IDRF: FactKey.IDRF,
    K.IDRF_SUMMARY: FactKey.IDRF,
    K.IDRF_ALL_PRIMARIES: FactKey.IDRF,
    K.MULTIFOCALITY: FactKey.MULTIFOCALITY,
    K.EFFUSION: FactKey.EFFUSIONS,
    K.TUMOUR_EXTENSION: FactKey.EXTENSION,
    K.NODAL_INVOLVEMENT: FactKey.LYMPH_NODES,
    K.METASTATIC_SITE: FactKey.METASTASES,
    K.METASTATIC_WORK_UP: FactKey.METASTATIC_SURVEY,
    K.MARROW_INVOLVEMENT: FactKey.BONE_MARROW,
    K.MARROW_TUMOUR_CELL_PERCENT: FactKey.BONE_MARROW,
    K.FUNCTIONAL_IMAGING: FactKey.FUNCTIONAL_IMAGING,
    K.MIBG_AVIDITY: FactKey.MIBG_AVIDITY,
    K.HISTOLOGIC_CATEGORY: FactKey.HISTOLOGY,
    K.DIFFERENTIATION_GRADE: FactKey.GRADE,
    K.INPC_CLASS: FactKey.INPC,
    K.MKI_CLASS: FactKey.MKI,
    K.MYCN_STATUS: FactKey.MYCN,
    K.MYCN_COPY_NUMBER: FactKey.MYCN,
    K.GENOMIC_VARIANT: FactKey.MYCN,
    K.CHR_11Q: FactKey.CHR_11Q,
    K.CHR_1P: FactKey.CHR_1P,
    K.OTHER_SCA: FactKey.OTHER_SCA,
    K.DNA_INDEX: FactKey.PLOIDY,
    K.PLOIDY_CATEGORY: FactKey.PLOIDY,
    K.MS_SYMPTOMS: FactKey.SYMPTOMS,
    K.RESECTION_EXTENT: FactKey.RESECTION,
    K.MICROSCOPIC_RESIDUAL: FactKey.MICROSCOPIC_RESIDUAL,
    K.NODES_IPSILATERAL: FactKey.NODES_IPSILATERAL,
    K.NODES_CONTRALATERAL: FactKey.NODES_CONTRALATERAL,
    K.MIDLINE: FactKey.MIDLINE,
    K.PRIMARY_DIAMETER: FactKey.PRIMARY_SIZE,
    K.TUMOUR_SIZE_PANEL: FactKey.PRIMARY_SIZE,
    K.PRIMARY_CYSTIC: FactKey.PRIMARY_SIZE,
    K.PARASPINAL: FactKey.PARASPINAL,
    K.CORD_COMPRESSION: FactKey.CORD_COMPRESSION,
    K.ALK: FactKey.ALK,
    K.MIBG_SCORE: FactKey.MIBG_SCORE,
}

# Copy numbers and Genomics Reporting variants are recorded; the MYCN call comes from the lab's
# categorical result only (decision 11). A variant of MYCN is shown with the case, nothing more.
_RECORDED_ONLY = frozenset({K.MYCN_COPY_NUMBER, K.GENOMIC_VARIANT})

#: FactKeys that no Observation carries: derived by the rules, or read from Patient/Condition dates.
FACTS_NOT_FROM_OBSERVATIONS: frozenset[FactKey] = frozenset({
    FactKey.STAGE,  # the INRGSS stage is computed, never read
    FactKey.SCA,  # COG 2021 SCA status is derived from the 1p and 11q calls
    FactKey.AGE, FactKey.BIRTH_DATE, FactKey.DIAGNOSIS_DATE,  # Patient.birthDate, Condition.onset/recordedDate
    FactKey.ATTRIBUTION,  # Observation.focus or body site and side of other Observations
    FactKey.EQUIVOCAL_FOCUS,  # a metastatic-site report after an equivocal focus
})

_obs = OBSERVATION_CODES.code

_KIND_OF: tuple[tuple[Code, ObservationKind], ...] = (
    (_obs("primary-tumour-site"), K.PRIMARY_TUMOUR_SITE),
    *((IDRF.code(c.value), K.IDRF) for c in IdrfCode),
    (_obs("idrf-summary"), K.IDRF_SUMMARY),
    (_obs("idrf-summary-all-primaries"), K.IDRF_ALL_PRIMARIES),
    (IDRF.code(RecordedCondition.MULTIFOCAL_PRIMARY.value), K.MULTIFOCALITY),
    (IDRF.code(RecordedCondition.PLEURAL_EFFUSION.value), K.EFFUSION),
    (IDRF.code(RecordedCondition.ASCITES.value), K.EFFUSION),
    (_obs("tumour-extension"), K.TUMOUR_EXTENSION),
    (_obs("nodal-involvement"), K.NODAL_INVOLVEMENT),
    (_obs("metastatic-site"), K.METASTATIC_SITE),
    (_obs("metastatic-work-up"), K.METASTATIC_WORK_UP),
    (MARROW.code("involvement"), K.MARROW_INVOLVEMENT),
    (MARROW.code("tumour-cell-percent"), K.MARROW_TUMOUR_CELL_PERCENT),
    *((FUNCTIONAL_IMAGING.code(c), K.FUNCTIONAL_IMAGING) for c in (
        "mibg-bone", "mibg-bone-marrow", "mdp-bone", "mdp-bone-marrow", "fdg-pet-bone", "fdg-pet-bone-marrow")),
    (FUNCTIONAL_IMAGING.code("mibg-avidity-primary"), K.MIBG_AVIDITY),
    (_obs("histologic-category"), K.HISTOLOGIC_CATEGORY),
    (_obs("differentiation-grade"), K.DIFFERENTIATION_GRADE),
    (_obs("inpc-class"), K.INPC_CLASS),
    (_obs("mki-class"), K.MKI_CLASS),
    (_obs("mycn-status"), K.MYCN_STATUS),
    (std.LOINC_MYCN_AMPLIFICATION_FISH, K.MYCN_STATUS),
    (std.LOINC_MYCN_CHR2_RATIO_FISH, K.MYCN_COPY_NUMBER),
    (std.LOINC_MYCN_COPIES_PER_NUCLEUS_FISH, K.MYCN_COPY_NUMBER),
    (std.LOINC_CHR2_COPIES_PER_NUCLEUS_FISH, K.MYCN_COPY_NUMBER),
    (std.LOINC_GENETIC_VARIANT_ASSESSMENT, K.GENOMIC_VARIANT),
    (_obs("11q-aberration"), K.CHR_11Q),
    (_obs("1p-aberration"), K.CHR_1P),
    (std.LOINC_1P36_DELETION_FISH, K.CHR_1P),
    (_obs("other-sca"), K.OTHER_SCA),
    (_obs("dna-index"), K.DNA_INDEX),
    (_obs("ploidy-category"), K.PLOIDY_CATEGORY),
    (_obs("ms-symptoms"), K.MS_SYMPTOMS),
    (_obs("resection-extent"), K.RESECTION_EXTENT),
    (_obs("microscopic-residual"), K.MICROSCOPIC_RESIDUAL),
    (_obs("ipsilateral-nodes-histology"), K.NODES_IPSILATERAL),
    (_obs("contralateral-nodes-histology"), K.NODES_CONTRALATERAL),
    (_obs("midline-infiltration"), K.MIDLINE),
    (_obs("primary-longest-diameter"), K.PRIMARY_DIAMETER),
    (std.LOINC_TUMOR_LONGEST_DIMENSION, K.PRIMARY_DIAMETER),
    (std.LOINC_TUMOR_SIZE, K.TUMOUR_SIZE_PANEL),
    (_obs("primary-cystic-fraction"), K.PRIMARY_CYSTIC),
    (_obs("paraspinal-primary"), K.PARASPINAL),
    (_obs("cord-compression-signs"), K.CORD_COMPRESSION),
    (_obs("alk-status"), K.ALK),
    (_obs("mibg-curie-score"), K.MIBG_SCORE),
    (_obs("mibg-siopen-score"), K.MIBG_SCORE),
)

#: ``(system, code) of Observation.code -> ObservationKind``.
OBSERVATION_KIND_BY_CODING: Mapping[CodingKey, ObservationKind] = lookup_table(_KIND_OF)

OBSERVATION_CODE_VS = ValueSetDef(
    name="observation-code",
    title="Observation codes the neuroblastoma rules read",
    description=(
        "Every Observation.code the service reads, standard (LOINC) and ours. MYCN copy numbers (LOINC "
        "93797-9, 93798-7, 93799-5) and Genomics Reporting variants (69548-6) are recorded, never used to "
        "derive the MYCN call (product decision 11)."
    ),
    members=tuple(code for code, _ in _KIND_OF),
)

#: The compact ``observations`` prefetch (``code:in``): every code the rules read, and the codes of the
#: results this service writes (so that its earlier results come back and need no new action).
PREFETCH_OBSERVATION_CODE_VS = ValueSetDef(
    name="prefetch-observation-code",
    title="Observation codes of the neuroblastoma services' prefetch",
    description=(
        "The Observation codes the neuroblastoma-staging services ask for: every code the rules read "
        "(observation-code) and the codes of the stage and risk results the service writes. The compact "
        "prefetch declaration searches Observation?code:in= this ValueSet."
    ),
    members=(*OBSERVATION_CODE_VS.members, std.NCIT_INRGSS, std.SCT_INSS_STAGE, _obs("inrg-2009-risk-group"),
             _obs("cog-2021-risk-group"), _obs("risk-group")),
)
