"""What an Observation of each kind carries, as the readers accept it (``SHAPES``): the value's types and
ValueSets, its components, the ValueSets of its body site and method, and a note on what else is read.

One row per ``ObservationKind``, written next to the readers (``reading/observation_readers.py``) and the
implementation guide's section 6. The FHIR package (``fhir_package``) turns each row into the kind's
StructureDefinition, so an integrator's validator and the service's reader accept the same shape. A kind
without a row still gets a profile (its codes only) and a failing test saying the row is missing.

Bindings: a value or component ValueSet is ``required`` (a code outside it is not understood, guide 3.4); a body
site or method ValueSet is ``extensible`` (other codes may stand beside ours and are not read).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology import value_sets_pathology as vs_pathology
from fhir_mappings.terminology import value_sets_workup as vs_workup
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.model import Code, ValueSetDef
from fhir_mappings.terminology.observation_kinds import ObservationKind as K


@dataclass(frozen=True)
class ValueShape:
    """The FHIR types a value may take (``CodeableConcept``, ``boolean``, ``Quantity``), the ValueSets its codes
    come from (several are united), and the UCUM unit a quantity is written in (only its number is read)."""

    types: tuple[str, ...]
    value_sets: tuple[ValueSetDef, ...] = ()
    unit: Code | None = None


@dataclass(frozen=True)
class Part:
    """A component, identified by its ``component.code``."""

    code: Code
    value: ValueShape


@dataclass(frozen=True)
class ObservationShape:
    """One kind of input Observation. ``value`` None: the value is recorded, never read (decision 11)."""

    title: str
    value: ValueShape | None
    parts: tuple[Part, ...] = ()
    body_site: ValueSetDef | None = None
    method: ValueSetDef | None = None
    interpretation: ValueSetDef | None = None
    note: str = ""


def coded(*value_sets: ValueSetDef) -> ValueShape:
    return ValueShape(("CodeableConcept",), value_sets)


def quantity(unit: Code) -> ValueShape:
    return ValueShape(("Quantity",), unit=unit)


#: A length in UCUM cm or mm (the unit's code is read: mCODE TumorSizeUnitsVS).
CENTIMETRES = ValueShape(("Quantity",), (vs_workup.SIZE_UNIT_VS,))

#: Present, absent or unknown (guide 3.1): a coded value, ``valueBoolean``, an interpretation or dataAbsentReason.
PRESENCE = ValueShape(("CodeableConcept", "boolean"), (vs.PRESENCE_VS,))
_PRESENCE_NOTE = ("Present or absent as a coded value, valueBoolean or interpretation (POS/NEG); dataAbsentReason "
                  "means unknown, never absent.")

_c = OBSERVATION_CODES.code
SIDE = Part(_c("laterality"), coded(vs.LATERALITY_VS))


def presence(title: str, note: str = "", *parts: Part) -> ObservationShape:
    return ObservationShape(title, PRESENCE, parts, note=" ".join(filter(None, (_PRESENCE_NOTE, note))))


SHAPES: Mapping[K, ObservationShape] = MappingProxyType({
    K.PRIMARY_TUMOUR_SITE: ObservationShape(
        "Primary tumour: body compartment and side", coded(vs.COMPARTMENT_VS), (SIDE,), body_site=vs.COMPARTMENT_VS,
        note="The compartment in the value, else in bodySite; the side in the laterality component (guide 6.1)."),
    K.IDRF: presence(
        "Image-defined risk factor (one of the 20)",
        "The radiologist's call in the value, or the structure and relation the service judges the IDRF from; "
        "IDRF 19 (intraspinal extension) with its spinal-canal criteria (guide 6.3).",
        Part(_c("idrf-structure-kind"), coded(vs.STRUCTURE_KIND_VS)),
        Part(_c("idrf-structure-relation"), coded(vs.STRUCTURE_RELATION_VS)),
        Part(_c("idrf-spinal-canal-fraction"), quantity(std.UCUM_UNITY)),
        Part(_c("idrf-spinal-canal-over-one-third"), PRESENCE),
        Part(_c("idrf-leptomeningeal-spaces-obliterated"), PRESENCE),
        Part(_c("idrf-cord-signal-abnormal"), PRESENCE)),
    K.IDRF_SUMMARY: presence("Image-defined risk factors: overall call for one primary", "Guide 6.2."),
    K.IDRF_ALL_PRIMARIES: presence("Image-defined risk factors: overall call for every primary", "Guide 6.6."),
    K.MULTIFOCALITY: presence("Multifocal (synchronous) primary tumours", "Guide 6.6."),
    K.EFFUSION: presence("Pleural effusion or ascites", "Guide 6.7.",
                         Part(_c("effusion-malignant-cells"), PRESENCE)),
    K.TUMOUR_EXTENSION: ObservationShape(
        "Extension of the primary into another compartment", PRESENCE,
        (Part(_c("compartment"), coded(vs.COMPARTMENT_VS)), SIDE, Part(_c("contiguous"), PRESENCE)),
        body_site=vs.COMPARTMENT_VS,
        note=f"{_PRESENCE_NOTE} The compartment in its component, else in bodySite (guide 6.4)."),
    K.NODAL_INVOLVEMENT: ObservationShape(
        "Lymph node involvement", PRESENCE, (Part(_c("nodal-region"), coded(vs.NODAL_REGION_VS)), SIDE),
        body_site=vs.LYMPH_NODE_SITE_VS,
        note=f"{_PRESENCE_NOTE} The region in its component, else in bodySite; a node without a region leaves "
             "regional versus distant unknown (guide 6.5)."),
    K.METASTATIC_SITE: ObservationShape(
        "Distant metastasis at a site", ValueShape(("CodeableConcept", "boolean"),
                                                   (vs.PRESENCE_VS, vs.FOCUS_RESOLUTION_VS)),
        (Part(_c("metastatic-site-code"), coded(vs.METASTATIC_SITE_VS)),), body_site=vs.METASTATIC_SITE_VS,
        interpretation=vs.EQUIVOCAL_VS,
        note=f"{_PRESENCE_NOTE} The site in bodySite or its component; 'focus ruled out' or 'focus confirmed' "
             "resolves an equivocal focus (guide 6.8)."),
    K.METASTATIC_WORK_UP: presence("Metastatic work-up conclusion", "Guide 6.10."),
    K.MARROW_INVOLVEMENT: ObservationShape(
        "Bone marrow involvement", PRESENCE, method=vs.MARROW_METHOD_VS,
        note=f"{_PRESENCE_NOTE} The method (aspirate, trephine, ...) is read (guide 6.9)."),
    K.MARROW_TUMOUR_CELL_PERCENT: ObservationShape(
        "Bone marrow tumour-cell percentage", quantity(std.UCUM_PERCENT), method=vs.MARROW_METHOD_VS,
        note="valueQuantity from 0 to 100; only the number is read (guide 6.9)."),
    K.FUNCTIONAL_IMAGING: ObservationShape(
        "Functional imaging of bone or bone marrow (MIBG, MDP, FDG-PET)", PRESENCE, method=vs.IMAGING_MODALITY_VS,
        interpretation=vs.EQUIVOCAL_VS,
        note=f"{_PRESENCE_NOTE} The code names the scan and the tissue; the method is informative (guide 6.11)."),
    K.MIBG_AVIDITY: presence("MIBG avidity of the primary tumour", "Guide 6.12."),
    K.HISTOLOGIC_CATEGORY: ObservationShape("Histologic category (INPC)", coded(vs.HISTOLOGIC_CATEGORY_VS),
                                            note="Guide 6.13."),
    K.DIFFERENTIATION_GRADE: ObservationShape("Grade of differentiation", coded(vs.DIFFERENTIATION_GRADE_VS),
                                              note="Guide 6.14."),
    K.INPC_CLASS: ObservationShape("INPC favourable or unfavourable histology", coded(vs.INPC_VS),
                                   note="Guide 6.15."),
    K.MKI_CLASS: ObservationShape("Mitosis-karyorrhexis index class (INPC)", coded(vs_pathology.MKI_VS),
                                  note="Low, intermediate or high, as the pathologist classes it; a count is not "
                                       "classed by the service (guide 6.28)."),
    K.MYCN_STATUS: ObservationShape(
        "MYCN status", ValueShape(("CodeableConcept", "boolean"), (vs.MYCN_STATUS_VS,)),
        note="The laboratory's call; for LOINC 93796-1 amplification present or absent (guide 6.16)."),
    K.MYCN_COPY_NUMBER: ObservationShape(
        "MYCN copy number (recorded, never decides)", quantity(std.UCUM_UNITY),
        note="Recorded and shown; never used to derive the MYCN call (product decision 11, guide 6.16)."),
    K.GENOMIC_VARIANT: ObservationShape(
        "Genomic variant (recorded, never decides)", None,
        note="A Genomics Reporting variant: recorded and shown, never read (product decision 11, guide 6.16)."),
    K.CHR_11Q: presence("11q aberration", "Guide 6.17."),
    K.CHR_1P: presence("1p aberration", "Guide 6.18."),
    K.OTHER_SCA: ObservationShape("Other segmental chromosome aberration", coded(vs.SEGMENTAL_ABERRATION_VS),
                                  note="Recorded and shown; decides nothing (guide 6.19)."),
    K.DNA_INDEX: ObservationShape("Tumour DNA index", quantity(std.UCUM_UNITY),
                                  note="valueQuantity above 0 and below 10; only the number is read (guide 6.20)."),
    K.PLOIDY_CATEGORY: ObservationShape("Tumour ploidy category", coded(vs.PLOIDY_VS), note="Guide 6.20."),
    K.MS_SYMPTOMS: ObservationShape(
        "Life-threatening symptoms (MS infants)", ValueShape(("CodeableConcept", "boolean"),
                                                             (vs.PRESENCE_VS, vs.SYMPTOMS_VS)),
        note=f"{_PRESENCE_NOTE} A symptom code as the value means symptomatic (guide 6.21)."),
    K.RESECTION_EXTENT: ObservationShape("Extent of resection of the primary", coded(vs.RESECTION_VS),
                                         note="Guide 6.22."),
    K.MICROSCOPIC_RESIDUAL: presence("Microscopic residual after complete gross excision (INSS)", "Guide 6.23."),
    K.NODES_IPSILATERAL: presence("Ipsilateral non-adherent lymph nodes positive on histology (INSS)",
                                  "Guide 6.23."),
    K.NODES_CONTRALATERAL: presence("Contralateral regional lymph nodes positive on histology (INSS)",
                                    "Guide 6.23."),
    K.MIDLINE: presence("Tumour infiltrating across the midline (INSS)", "The vertebral column is the midline "
                        "(Brodeur 1993; guide 6.23)."),
    K.PRIMARY_DIAMETER: ObservationShape(
        "Longest diameter of the primary tumour", CENTIMETRES,
        note="valueQuantity in UCUM cm or mm; a size of 0 or of 100 cm or more is not read (guide 6.24)."),
    K.TUMOUR_SIZE_PANEL: ObservationShape(
        "Tumour size (mCODE TumorSize)", None,
        (Part(std.LOINC_TUMOR_LONGEST_DIMENSION, CENTIMETRES),),
        note="Only the longest-dimension component is read, in UCUM cm or mm (guide 6.24)."),
    K.PRIMARY_CYSTIC: ObservationShape("Cystic fraction of the primary tumour", quantity(std.UCUM_PERCENT),
                                       note="valueQuantity from 0 to 100 % (guide 6.24)."),
    K.PARASPINAL: presence("Paraspinal primary tumour", "Guide 6.25."),
    K.CORD_COMPRESSION: presence("Signs of spinal cord or nerve-root compression", "Guide 6.25."),
    K.ALK: ObservationShape("ALK alteration in the tumour (work-up only)", coded(vs_workup.ALK_VS),
                            note="Shown and asked for in the work-up; never a risk input (guide 6.26)."),
    K.MIBG_SCORE: ObservationShape(
        "Semi-quantitative MIBG score (Curie or SIOPEN)", quantity(std.UCUM_UNITY),
        note="The code names the method; Curie 0-30, SIOPEN 0-72, a value outside its method's range is not read. "
             "Recorded and shown, never a staging or risk input (guide 6.27)."),
})
