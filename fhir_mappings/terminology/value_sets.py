"""ValueSets, one per fact the domain reads, and the O(1) lookups built from them (the results the
service writes have theirs in ``result_value_sets``).

Each ValueSet lists the codings accepted for one fact: ours, which cover every domain value, and
the standard codes that exist for it and were verified (see ``codes.VERIFIED_IN``). Each ``*_BY_CODING`` table maps
``(system, code)`` to the domain value and is built from the same list as the ValueSet, so the
published ValueSet and what the mapper accepts are one thing. Writing goes the other way through
the ``*_CODING`` tables (domain value -> ``Code``).

A coding that is in no table is simply not understood: the mapper leaves the fact unknown and
says so; it never guesses a favourable or unfavourable value (product decision 2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import Enum
from types import MappingProxyType
from typing import TypeVar

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology.local_biology import (
    HISTOLOGY,
    INPC,
    MYCN_STATUS,
    PLOIDY,
    RESECTION_EXTENT,
    SEGMENTAL_ABERRATION,
    SYMPTOMS,
)
from fhir_mappings.terminology.local_staging import (
    BODY_COMPARTMENT,
    FUNCTIONAL_IMAGING,
    IDRF,
    LATERALITY,
    MARROW,
    METASTATIC_SITE,
    NODAL_REGION,
    STRUCTURE_KIND,
    STRUCTURE_RELATION,
)
from fhir_mappings.terminology.model import Code, CodingKey, LocalCodeSystem, ValueSetDef, lookup_table
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.biology import (
    DifferentiationGrade,
    HistologicCategory,
    InpcClass,
    MycnStatus,
    PloidyCategory,
    ResectionExtent,
)
from neuroblastoma.case import EffusionKind, ImagingModality, MarrowMethod, MetastaticSite
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode, RecordedCondition, StructureKind, StructureRelation

E = TypeVar("E", bound=Enum)
V = TypeVar("V")


def ours(system: LocalCodeSystem, members: Iterable[E]) -> tuple[tuple[Code, E], ...]:
    """Our code for each enum member: the member's value is the code."""
    return tuple((system.code(str(m.value)), m) for m in members)


def _known(enum: type[E]) -> tuple[E, ...]:
    """The members of a domain enum that are facts, not the 'unknown' placeholder."""
    return tuple(m for m in enum if m.name != "UNKNOWN")


def value_set(name: str, title: str, description: str, pairs: Iterable[tuple[Code, object]]) -> ValueSetDef:
    return ValueSetDef(name, title, description, tuple(code for code, _ in pairs))


def reverse_table(pairs: Iterable[tuple[Code, V]], system: LocalCodeSystem) -> Mapping[V, Code]:
    """Domain value -> our Code, for writing (only our own system's codings)."""
    return MappingProxyType({value: code for code, value in pairs if code.system == system.url})


# ---- presence (qualitative results) -------------------------------------------------------------

_PRESENCE = (
    (std.SCT_PRESENT, Presence.PRESENT),
    (std.SCT_ABSENT, Presence.ABSENT),
    (std.SCT_UNKNOWN, Presence.UNKNOWN),
    (std.LOINC_ANSWER_PRESENT, Presence.PRESENT),
    (std.LOINC_ANSWER_ABSENT, Presence.ABSENT),
    (std.SCT_DETECTED, Presence.PRESENT),
    (std.SCT_NOT_DETECTED, Presence.ABSENT),
    (std.SCT_POSITIVE, Presence.PRESENT),
    (std.SCT_NEGATIVE, Presence.ABSENT),
)
#: Value of a present/absent finding (IDRF, metastasis, marrow, 11q, symptoms ...).
PRESENCE_BY_CODING: Mapping[CodingKey, Presence] = lookup_table(_PRESENCE)
PRESENCE_VS = value_set(
    "presence", "Finding present or absent",
    "Qualitative values of a present/absent finding. 'Unknown' is never read as absent (product decision 2).",
    _PRESENCE,
)
#: What the service writes for a present/absent finding.
PRESENCE_CODING: Mapping[Presence, Code] = MappingProxyType({
    Presence.PRESENT: std.SCT_PRESENT, Presence.ABSENT: std.SCT_ABSENT, Presence.UNKNOWN: std.SCT_UNKNOWN,
})

# ---- disease ------------------------------------------------------------------------------------

NEUROBLASTOMA_CONDITION_VS = ValueSetDef(
    "neuroblastoma-condition", "Neuroblastoma condition",
    "Condition.code of the primary neuroblastoma (mCODE PrimaryCancerCondition). ICD-10-CM C74.x is not "
    "accepted: it codes the adrenal site of any malignancy, and many neuroblastomas are extra-adrenal.",
    (std.SCT_NEUROBLASTOMA,),
)
NEUROBLASTOMA_CONDITION_CODINGS: frozenset[CodingKey] = NEUROBLASTOMA_CONDITION_VS.keys()

_MORPHOLOGY = (
    (std.ICDO3_NEUROBLASTOMA, frozenset({HistologicCategory.NEUROBLASTOMA})),
    (std.ICDO3_GANGLIONEUROBLASTOMA, frozenset({
        HistologicCategory.GANGLIONEUROBLASTOMA_NODULAR, HistologicCategory.GANGLIONEUROBLASTOMA_INTERMIXED})),
    (std.ICDO3_GANGLIONEUROMA, frozenset({
        HistologicCategory.GANGLIONEUROMA_MATURING, HistologicCategory.GANGLIONEUROMA_MATURE})),
)
#: ICD-O-3 morphology (mCODE HistologyMorphologyBehavior) -> the INPC categories it allows. Only
#: 9500/3 decides the category; 9490/3 and 9490/0 leave the INPC subtype to be reported.
HISTOLOGY_CANDIDATES_BY_CODING: Mapping[CodingKey, frozenset[HistologicCategory]] = lookup_table(_MORPHOLOGY)
NEUROBLASTIC_MORPHOLOGY_VS = value_set(
    "neuroblastic-tumour-morphology", "Neuroblastic tumour morphology (ICD-O-3)",
    "ICD-O-3 morphology codes of peripheral neuroblastic tumours. 9490/3 (ganglioneuroblastoma) and 9490/0 "
    "(ganglioneuroma) do not name the INPC subtype the rules need (nodular/intermixed, maturing/mature).",
    _MORPHOLOGY,
)

# ---- histology, INPC, MYCN, ploidy, SCA, symptoms, resection ------------------------------------

_HISTOLOGY = (
    *ours(HISTOLOGY, _known(HistologicCategory)),
    (std.ICDO3_NEUROBLASTOMA, HistologicCategory.NEUROBLASTOMA),
)
HISTOLOGY_BY_CODING: Mapping[CodingKey, HistologicCategory] = lookup_table(_HISTOLOGY)
HISTOLOGY_CODING: Mapping[HistologicCategory, Code] = reverse_table(_HISTOLOGY, HISTOLOGY)
HISTOLOGIC_CATEGORY_VS = value_set(
    "histologic-category", "Histologic category (INPC)",
    "INPC histologic category as the pathologist reported it; ICD-O-3 9500/3 is accepted for neuroblastoma.",
    _HISTOLOGY,
)

_GRADE = ours(HISTOLOGY, _known(DifferentiationGrade))
GRADE_BY_CODING: Mapping[CodingKey, DifferentiationGrade] = lookup_table(_GRADE)
GRADE_CODING: Mapping[DifferentiationGrade, Code] = reverse_table(_GRADE, HISTOLOGY)
DIFFERENTIATION_GRADE_VS = value_set(
    "differentiation-grade", "Grade of neuroblastic differentiation",
    "Grade of differentiation of neuroblastoma and nodular ganglioneuroblastoma (INRG 2009, L2 >= 18 months).",
    _GRADE,
)

_INPC = ours(INPC, _known(InpcClass))
INPC_BY_CODING: Mapping[CodingKey, InpcClass] = lookup_table(_INPC)
INPC_CODING: Mapping[InpcClass, Code] = reverse_table(_INPC, INPC)
INPC_VS = value_set("inpc-class", "INPC favourable/unfavourable histology",
                     "The pathologist's INPC call, used by COG 2021.", _INPC)

_MYCN = (
    *ours(MYCN_STATUS, _known(MycnStatus)),
    (std.NCIT_MYCN_AMPLIFICATION, MycnStatus.AMPLIFIED),
    # The value of LOINC 93796-1 "MYCN gene amplification ... by FISH" is qualitative.
    (std.SCT_PRESENT, MycnStatus.AMPLIFIED),
    (std.SCT_DETECTED, MycnStatus.AMPLIFIED),
    (std.SCT_POSITIVE, MycnStatus.AMPLIFIED),
    (std.LOINC_ANSWER_PRESENT, MycnStatus.AMPLIFIED),
    (std.SCT_ABSENT, MycnStatus.NOT_AMPLIFIED),
    (std.SCT_NOT_DETECTED, MycnStatus.NOT_AMPLIFIED),
    (std.SCT_NEGATIVE, MycnStatus.NOT_AMPLIFIED),
    (std.LOINC_ANSWER_ABSENT, MycnStatus.NOT_AMPLIFIED),
)
#: Value of a MYCN-status Observation (ours, or LOINC 93796-1 whose value is amplification present/absent).
MYCN_STATUS_BY_CODING: Mapping[CodingKey, MycnStatus] = lookup_table(_MYCN)
MYCN_STATUS_CODING: Mapping[MycnStatus, Code] = reverse_table(_MYCN, MYCN_STATUS)
MYCN_STATUS_VS = value_set(
    "mycn-status", "MYCN status",
    "The laboratory's MYCN call: ours (amplified, gain, not amplified), NCIt C36673, or an amplification "
    "present/absent result of LOINC 93796-1. Never derived from copy numbers (product decision 11).",
    _MYCN,
)
MYCN_GENE_VS = ValueSetDef(
    "mycn-gene", "MYCN gene",
    "The MYCN gene in a Genomics Reporting 'gene studied' component (LOINC 48018-6), under either HGNC system URL.",
    (std.HGNC_MYCN, std.HGNC_THO_MYCN),
)
MYCN_GENE_CODINGS: frozenset[CodingKey] = MYCN_GENE_VS.keys()

_PLOIDY = ours(PLOIDY, PloidyCategory)
PLOIDY_BY_CODING: Mapping[CodingKey, PloidyCategory] = lookup_table(_PLOIDY)
PLOIDY_CODING: Mapping[PloidyCategory, Code] = reverse_table(_PLOIDY, PLOIDY)
PLOIDY_VS = value_set("ploidy-category", "Ploidy category",
                       "The laboratory's ploidy category when no DNA index is given (product decision 5).", _PLOIDY)

_SCA = tuple((code, code.display) for code in SEGMENTAL_ABERRATION.codes())
#: Value of an other-SCA Observation -> the label the case records (``Case.other_scas``).
SCA_LABEL_BY_CODING: Mapping[CodingKey, str] = lookup_table(_SCA)
SEGMENTAL_ABERRATION_VS = value_set(
    "segmental-aberration", "Segmental chromosome aberration",
    "Segmental aberrations recorded with the case; only 1p and 11q decide anything (product decision 6).", _SCA,
)

_SYMPTOMS = tuple((code, code.display) for code in SYMPTOMS.codes())
#: Any of these recorded as present makes an MS infant symptomatic (COG 2021; product decision 7).
SYMPTOM_LABEL_BY_CODING: Mapping[CodingKey, str] = lookup_table(_SYMPTOMS)
SYMPTOMATIC_CODINGS: frozenset[CodingKey] = frozenset(SYMPTOM_LABEL_BY_CODING)
SYMPTOMS_VS = value_set("ms-symptom", "Life-threatening symptoms in MS infants",
                         "Symptoms that make an MS infant symptomatic (legacy COG 4S list).", _SYMPTOMS)

_RESECTION = ours(RESECTION_EXTENT, _known(ResectionExtent))
RESECTION_BY_CODING: Mapping[CodingKey, ResectionExtent] = lookup_table(_RESECTION)
RESECTION_CODING: Mapping[ResectionExtent, Code] = reverse_table(_RESECTION, RESECTION_EXTENT)
RESECTION_VS = value_set("resection-extent", "Extent of resection",
                          "Extent of resection of the primary (COG 2021 L1 MYCN-amplified).", _RESECTION)

# ---- IDRFs and recorded conditions --------------------------------------------------------------

_IDRF = ours(IDRF, IdrfCode)
IDRF_BY_CODING: Mapping[CodingKey, IdrfCode] = lookup_table(_IDRF)
IDRF_CODING: Mapping[IdrfCode, Code] = reverse_table(_IDRF, IDRF)
IDRF_VS = value_set("idrf", "Image-defined risk factors",
                     "The 20 IDRFs of Monclair 2009 Table 1, as Observation.code.", _IDRF)

_RECORDED = ours(IDRF, RecordedCondition)
RECORDED_CONDITION_BY_CODING: Mapping[CodingKey, RecordedCondition] = lookup_table(_RECORDED)
RECORDED_CONDITION_CODING: Mapping[RecordedCondition, Code] = reverse_table(_RECORDED, IDRF)
RECORDED_CONDITION_VS = value_set(
    "recorded-condition", "Conditions recorded, not IDRFs",
    "Multifocal primaries, pleural effusion and ascites: recorded but not IDRFs (Monclair 2009).", _RECORDED,
)
_EFFUSION = (
    (IDRF.code(RecordedCondition.PLEURAL_EFFUSION.value), EffusionKind.PLEURAL),
    (IDRF.code(RecordedCondition.ASCITES.value), EffusionKind.ASCITES),
)
EFFUSION_KIND_BY_CODING: Mapping[CodingKey, EffusionKind] = lookup_table(_EFFUSION)
EFFUSION_KIND_CODING: Mapping[EffusionKind, Code] = MappingProxyType({k: c for c, k in _EFFUSION})

_RELATION = ours(STRUCTURE_RELATION, StructureRelation)
STRUCTURE_RELATION_BY_CODING: Mapping[CodingKey, StructureRelation] = lookup_table(_RELATION)
STRUCTURE_RELATION_CODING: Mapping[StructureRelation, Code] = reverse_table(_RELATION, STRUCTURE_RELATION)
STRUCTURE_RELATION_VS = value_set("structure-relation", "Tumour-structure relation",
                                   "Brisse 2011 relation terms.", _RELATION)

_KIND = ours(STRUCTURE_KIND, StructureKind)
STRUCTURE_KIND_BY_CODING: Mapping[CodingKey, StructureKind] = lookup_table(_KIND)
STRUCTURE_KIND_CODING: Mapping[StructureKind, Code] = reverse_table(_KIND, STRUCTURE_KIND)
STRUCTURE_KIND_VS = value_set("structure-kind", "Kind of structure",
                               "Kind of structure an IDRF relation concerns.", _KIND)

# ---- geography ----------------------------------------------------------------------------------

_COMPARTMENT = (
    *ours(BODY_COMPARTMENT, Compartment),
    (std.SCT_ADRENAL_STRUCTURE, Compartment.ABDOMEN),
    (std.SCT_MEDIASTINAL_STRUCTURE, Compartment.CHEST),
)
COMPARTMENT_BY_CODING: Mapping[CodingKey, Compartment] = lookup_table(_COMPARTMENT)
COMPARTMENT_CODING: Mapping[Compartment, Code] = reverse_table(_COMPARTMENT, BODY_COMPARTMENT)
COMPARTMENT_VS = value_set(
    "body-compartment", "INRGSS body compartment",
    "Body compartment of a primary or extension; SNOMED CT adrenal and mediastinal structures map to theirs.",
    _COMPARTMENT,
)

_LATERALITY = (
    *ours(LATERALITY, _known(Laterality)),
    (std.SCT_LEFT, Laterality.LEFT),
    (std.SCT_RIGHT, Laterality.RIGHT),
    (std.SCT_RIGHT_AND_LEFT, Laterality.BILATERAL),
)
LATERALITY_BY_CODING: Mapping[CodingKey, Laterality] = lookup_table(_LATERALITY)
LATERALITY_CODING: Mapping[Laterality, Code] = reverse_table(_LATERALITY, LATERALITY)
LATERALITY_VS = value_set("laterality", "Side", "Side of a primary, extension or node.", _LATERALITY)

_NODAL_REGION = (
    *ours(NODAL_REGION, NodalRegion),
    (std.SCT_CERVICAL_LYMPH_NODE, NodalRegion.CERVICAL),
    (std.SCT_MEDIASTINAL_LYMPH_NODE, NodalRegion.MEDIASTINAL),
    (std.SCT_AORTIC_LYMPH_NODE, NodalRegion.ABDOMINAL),
    (std.SCT_PELVIC_LYMPH_NODE_GROUP, NodalRegion.PELVIC),
    (std.SCT_INGUINOFEMORAL_LYMPH_NODE_GROUP, NodalRegion.INGUINAL),
    (std.SCT_AXILLARY_LYMPH_NODE, NodalRegion.AXILLARY),
    (std.ICD_C77_0, NodalRegion.CERVICAL),
    (std.ICD_C77_1, NodalRegion.MEDIASTINAL),
    (std.ICD_C77_2, NodalRegion.ABDOMINAL),
    (std.ICD_C77_3, NodalRegion.AXILLARY),
    (std.ICD_C77_4, NodalRegion.INGUINAL),
    (std.ICD_C77_5, NodalRegion.PELVIC),
)
#: Body site or secondary-neoplasm code of a lymph node -> its region. Regional vs distant is computed.
NODAL_REGION_BY_CODING: Mapping[CodingKey, NodalRegion] = lookup_table(_NODAL_REGION)
NODAL_REGION_CODING: Mapping[NodalRegion, Code] = reverse_table(_NODAL_REGION, NODAL_REGION)
NODAL_REGION_VS = value_set(
    "nodal-region", "Lymph node region",
    "Region of an involved lymph node group: ours, SNOMED CT node structures and ICD-10-CM C77.0-C77.5.",
    _NODAL_REGION,
)
LYMPH_NODE_SITE_VS = ValueSetDef(
    "lymph-node-site", "Any lymph node site",
    "Every coding that places a finding in a lymph node, including those without a region (SNOMED CT 59441001, "
    "ICD-10-CM C77.8, C77.9): such a node's region, and so regional vs distant, stays unknown.",
    (*(code for code, _ in _NODAL_REGION), std.SCT_LYMPH_NODE_STRUCTURE, std.ICD_C77_8, std.ICD_C77_9),
)
LYMPH_NODE_CODINGS: frozenset[CodingKey] = LYMPH_NODE_SITE_VS.keys()

# ---- metastases ---------------------------------------------------------------------------------

_SITE_BODY_STRUCTURES = (
    # mCODE RadiotherapyTreatmentLocationVS, plus 272673000 (see codes.VERIFIED_IN)
    (std.SCT_BONE_STRUCTURE, MetastaticSite.BONE),
    (std.SCT_BONE_PART, MetastaticSite.BONE),
    (std.SCT_BONE_MARROW_STRUCTURE, MetastaticSite.BONE_MARROW),
    (std.SCT_LIVER_STRUCTURE, MetastaticSite.LIVER),
    (std.SCT_SKIN_STRUCTURE, MetastaticSite.SKIN),
    (std.SCT_LUNG_STRUCTURE, MetastaticSite.LUNG),
    (std.SCT_BRAIN_STRUCTURE, MetastaticSite.CNS),
)
_SITE_DISORDERS = (
    # site-specific secondary neoplasm disorders (SNOMED CT)
    (std.SCT_SECONDARY_BONE, MetastaticSite.BONE),
    (std.SCT_SECONDARY_LIVER, MetastaticSite.LIVER),
    (std.SCT_SECONDARY_LUNG, MetastaticSite.LUNG),
    (std.SCT_SECONDARY_BRAIN, MetastaticSite.CNS),
    # ICD-10-CM secondary neoplasms (mCODE SecondaryCancerDisorderVS)
    (std.ICD_C79_51, MetastaticSite.BONE),
    (std.ICD_C79_52, MetastaticSite.BONE_MARROW),
    (std.ICD_C78_7, MetastaticSite.LIVER),
    (std.ICD_C79_2, MetastaticSite.SKIN),
    (std.ICD_C78_00, MetastaticSite.LUNG),
    (std.ICD_C78_01, MetastaticSite.LUNG),
    (std.ICD_C78_02, MetastaticSite.LUNG),
    (std.ICD_C79_31, MetastaticSite.CNS),
    (std.ICD_C79_32, MetastaticSite.CNS),
    (std.ICD_C78_2, MetastaticSite.PLEURA),
    (std.ICD_C79_89, MetastaticSite.OTHER),
)
_NODAL_DISORDERS = (std.ICD_C77_0, std.ICD_C77_1, std.ICD_C77_2, std.ICD_C77_3, std.ICD_C77_4, std.ICD_C77_5,
                    std.ICD_C77_8, std.ICD_C77_9)
_SITE = (*ours(METASTATIC_SITE, MetastaticSite), *_SITE_BODY_STRUCTURES, *_SITE_DISORDERS)
#: Body site or secondary-neoplasm code of a distant metastasis -> site. Lymph nodes are not here:
#: see ``NODAL_REGION_BY_CODING`` (distance is computed from the region).
METASTATIC_SITE_BY_CODING: Mapping[CodingKey, MetastaticSite] = lookup_table(_SITE)
METASTATIC_SITE_CODING: Mapping[MetastaticSite, Code] = reverse_table(_SITE, METASTATIC_SITE)
METASTATIC_SITE_VS = value_set(
    "metastatic-site", "Distant metastatic site",
    "Site of a distant metastasis: ours, SNOMED CT body structures and secondary-neoplasm disorders, and "
    "ICD-10-CM C78-C79 secondary neoplasms (as in mCODE SecondaryCancerDisorderVS).",
    _SITE,
)
SECONDARY_NEOPLASM_VS = ValueSetDef(
    "secondary-neoplasm", "Secondary (metastatic) neoplasm condition",
    "Condition.code values that mean metastatic disease (mCODE SecondaryCancerCondition): SNOMED CT 128462008 "
    "with the site in bodySite, or a site-specific SNOMED CT or ICD-10-CM C77-C79 code.",
    (std.SCT_SECONDARY_MALIGNANT_NEOPLASM, *(code for code, _ in _SITE_DISORDERS), *_NODAL_DISORDERS),
)
SECONDARY_NEOPLASM_CODINGS: frozenset[CodingKey] = SECONDARY_NEOPLASM_VS.keys()

# ---- bone marrow and functional imaging ---------------------------------------------------------

_MARROW_METHOD = ours(MARROW, _known(MarrowMethod))
MARROW_METHOD_BY_CODING: Mapping[CodingKey, MarrowMethod] = lookup_table(_MARROW_METHOD)
MARROW_METHOD_CODING: Mapping[MarrowMethod, Code] = reverse_table(_MARROW_METHOD, MARROW)
MARROW_METHOD_VS = value_set("marrow-method", "Bone marrow assessment method",
                              "Observation.method of a marrow assessment.", _MARROW_METHOD)


class ImagingTarget(Enum):
    """What a functional-imaging result Observation reports on (INRGSS MS needs both)."""

    BONE = "bone"
    BONE_MARROW = "bone-marrow"


_MODALITY = (
    (FUNCTIONAL_IMAGING.code("mibg-scan"), ImagingModality.MIBG),
    (FUNCTIONAL_IMAGING.code("mdp-bone-scan"), ImagingModality.MDP_BONE_SCAN),
    (FUNCTIONAL_IMAGING.code("fdg-pet"), ImagingModality.FDG_PET),
)
IMAGING_MODALITY_BY_CODING: Mapping[CodingKey, ImagingModality] = lookup_table(_MODALITY)
IMAGING_MODALITY_CODING: Mapping[ImagingModality, Code] = MappingProxyType({m: c for c, m in _MODALITY})
IMAGING_MODALITY_VS = value_set("imaging-modality", "Functional imaging modality",
                                 "Observation.method of a functional-imaging result.", _MODALITY)

_FINDING = tuple(
    (FUNCTIONAL_IMAGING.code(f"{prefix}-{target.value}"), (modality, target))
    for prefix, modality in (("mibg", ImagingModality.MIBG), ("mdp", ImagingModality.MDP_BONE_SCAN),
                             ("fdg-pet", ImagingModality.FDG_PET))
    for target in ImagingTarget
)
#: Observation.code of a functional-imaging result -> (modality, bone or bone marrow).
FUNCTIONAL_IMAGING_BY_CODING: Mapping[CodingKey, tuple[ImagingModality, ImagingTarget]] = lookup_table(_FINDING)
FUNCTIONAL_IMAGING_CODING: Mapping[tuple[ImagingModality, ImagingTarget], Code] = MappingProxyType(
    {finding: code for code, finding in _FINDING}
)
FUNCTIONAL_IMAGING_VS = value_set(
    "functional-imaging-finding", "Functional imaging result for bone and bone marrow",
    "MIBG, 99mTc-MDP and FDG-PET results for bone and for bone marrow (INRGSS MS).", _FINDING,
)
FOCUS_RESOLUTION_VS = ValueSetDef("focus-resolution", "Resolution of an equivocal focus",
                                  "Values of a metastatic-site Observation that resolve an equivocal focus at its "
                                  "site: ruled out (absent) or confirmed (present) (Brisse 2011).",
                                  (FUNCTIONAL_IMAGING.code("focus-ruled-out"),
                                   FUNCTIONAL_IMAGING.code("focus-confirmed")))
FOCUS_RESOLUTION_BY_CODING = {FUNCTIONAL_IMAGING.code("focus-ruled-out").key: Presence.ABSENT,
                              FUNCTIONAL_IMAGING.code("focus-confirmed").key: Presence.PRESENT}
EQUIVOCAL_VS = ValueSetDef("equivocal", "Equivocal focus",
                           "Observation.interpretation marking an equivocal, unconfirmed focus (Brisse 2011).",
                           (FUNCTIONAL_IMAGING.code("equivocal-focus"),))
EQUIVOCAL_CODINGS: frozenset[CodingKey] = EQUIVOCAL_VS.keys()
