"""The IDRF and staging worksheet as a list of fields: the HTML form and the SDC Questionnaire are both made
from it, and a form post and a QuestionnaireResponse both come back as the same ``{name: value}`` answers.

A field's ``name`` is the form field's name and the Questionnaire item's ``linkId``; a choice's values are the
codes of the CodeSystem the service already publishes for that concept (structure kinds and relations of
Brisse 2011, body compartments, sides), so an answer Coding's ``code`` is the form value. Every IDRF of Monclair
2009 Table 1 is a row, by region, except IDRF 1, which the rules derive from the extension section (a contiguous
ipsilateral extension into a second compartment *is* IDRF 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.model import Code
from fhir_mappings.terminology.systems import code_system_url
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.case import MetastaticSite
from neuroblastoma.fact_descriptions import lower_first
from neuroblastoma.idrf import IDRF_CATALOGUE, IdrfCode, IdrfDefinition, StructureKind, StructureRelation

#: The worksheet's own answers (yes/no, present/absent, ...): published with the FHIR package (fhir_package).
ANSWERS = code_system_url("worksheet-answer")
S, R = StructureKind, StructureRelation


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    system: str = ANSWERS


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # "choice" | "date" | "decimal" | "boolean"
    choices: tuple[Choice, ...] = ()
    hint: str = ""
    group: str = ""  # the IDRF a field belongs to ("IDRF 15: Tumour invading one or both renal pedicles")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[Field, ...]
    hint: str = ""


def _coded(enum_values: tuple[Enum, ...], codings: Mapping[Any, Code]) -> tuple[Choice, ...]:
    return tuple(Choice(str(v.value), codings[v].display, codings[v].system) for v in enum_values)


_STRUCTURE_LABEL = {S.ARTERY: "artery", S.VEIN: "vein", S.RENAL_VESSEL: "renal pedicle vessel",
                    S.INFERIOR_MESENTERIC_ARTERY: "inferior mesenteric artery", S.AIRWAY: "airway (trachea, bronchi)",
                    S.NERVE: "nerve roots", S.ORGAN: "organ or named structure"}
_RELATION_LABEL = {R.SEPARATION: "separation (fat plane visible)", R.CONTACT: "contact (< 50 % of circumference)",
                   R.FLATTENED_LUMEN_VISIBLE: "flattened vein, lumen visible",
                   R.FLATTENED_NO_LUMEN: "flattened vein, no lumen visible",
                   R.ENCASEMENT: "encasement (> 50 % of circumference)", R.COMPRESSION: "compression (airway narrowed)",
                   R.INFILTRATION: "infiltration (ill-defined border)", R.EXTENSION: "extension into the structure"}

# The kinds of structure each IDRF concerns (Monclair 2009 Table 1 wording); the relations offered are all
# eight Brisse 2011 terms: a term that does not apply to the structure is judged "undecided" by the rules and
# the worksheet says so, rather than the form hiding it.
STRUCTURES: dict[IdrfCode, tuple[StructureKind, ...]] = {
    IdrfCode.NECK_VESSEL_ENCASEMENT: (S.ARTERY, S.VEIN),
    IdrfCode.NECK_SKULL_BASE: (S.ORGAN,),
    IdrfCode.NECK_TRACHEA_COMPRESSION: (S.AIRWAY,),
    IdrfCode.CERVICOTHORACIC_BRACHIAL_PLEXUS: (S.NERVE,),
    IdrfCode.CERVICOTHORACIC_VESSEL_ENCASEMENT: (S.ARTERY, S.VEIN),
    IdrfCode.CERVICOTHORACIC_TRACHEA_COMPRESSION: (S.AIRWAY,),
    IdrfCode.THORAX_AORTA_ENCASEMENT: (S.ARTERY,),
    IdrfCode.THORAX_AIRWAY_COMPRESSION: (S.AIRWAY,),
    IdrfCode.THORAX_COSTOVERTEBRAL_T9_T12: (S.ORGAN,),
    IdrfCode.THORACOABDOMINAL_AORTA_CAVA: (S.ARTERY, S.VEIN),
    IdrfCode.ABDOMEN_PORTA_HEPATIS: (S.ORGAN,),
    IdrfCode.ABDOMEN_SMA_BRANCHES: (S.ARTERY, S.INFERIOR_MESENTERIC_ARTERY),
    IdrfCode.ABDOMEN_COELIAC_SMA_ORIGIN: (S.ARTERY, S.INFERIOR_MESENTERIC_ARTERY),
    IdrfCode.ABDOMEN_RENAL_PEDICLE: (S.RENAL_VESSEL,),
    IdrfCode.ABDOMEN_AORTA_CAVA: (S.ARTERY, S.VEIN, S.INFERIOR_MESENTERIC_ARTERY),
    IdrfCode.ABDOMEN_ILIAC_VESSELS: (S.ARTERY, S.VEIN),
    IdrfCode.PELVIS_SCIATIC_NOTCH: (S.ORGAN,),
    IdrfCode.ADJACENT_ORGAN_INFILTRATION: (S.ORGAN,),
}
SPINAL = IdrfCode.INTRASPINAL

YES_NO = (Choice("yes", "yes"), Choice("no", "no"))
PRESENCE = (Choice("present", "present"), Choice("absent", "absent"), Choice("equivocal", "equivocal focus"))
SCAN = (Choice("positive", "uptake (positive)"), Choice("negative", "no uptake (negative)"))
NODES = (Choice("involved", "involved"), Choice("not-involved", "not involved"))


def idrf_name(code: IdrfCode, part: str) -> str:
    return f"{code.value.lower()}-{part}"


def _idrf_fields(definition: IdrfDefinition) -> tuple[Field, ...]:
    number = definition.number
    group = f"IDRF {number}: {definition.wording}"
    if definition.code is SPINAL:
        return (
            Field(idrf_name(SPINAL, "canal-percent"), f"IDRF {number}, % of the spinal canal invaded (axial)",
                  "decimal", hint="0 to 100", group=group),
            Field(idrf_name(SPINAL, "over-third"), f"IDRF {number}, more than one third of the canal", "choice",
                  YES_NO, group=group),
            Field(idrf_name(SPINAL, "leptomeninges"), f"IDRF {number}, perimedullary leptomeningeal spaces not "
                                                      "visible", "choice", YES_NO, group=group),
            Field(idrf_name(SPINAL, "cord-signal"), f"IDRF {number}, abnormal spinal cord signal", "choice", YES_NO,
                  group=group),
        )
    structures = tuple(Choice(s.value, _STRUCTURE_LABEL[s], vs.STRUCTURE_KIND_CODING[s].system)
                       for s in STRUCTURES[definition.code])
    relations = tuple(Choice(r.value, _RELATION_LABEL[r], vs.STRUCTURE_RELATION_CODING[r].system)
                      for r in StructureRelation)
    return (Field(idrf_name(definition.code, "relation"), f"IDRF {number}, relation of tumour and structure",
                  "choice", relations, group=group),
            Field(idrf_name(definition.code, "structure"), f"IDRF {number}, kind of structure", "choice", structures,
                  group=group))


def _idrf_sections() -> tuple[Section, ...]:
    sections: dict[str, list[Field]] = {}
    for definition in IDRF_CATALOGUE:
        if definition.code is IdrfCode.IPSILATERAL_TWO_COMPARTMENTS:
            continue
        sections.setdefault(definition.region.value, []).extend(_idrf_fields(definition))
    return tuple(Section(f"region-{i}", f"IDRFs: {lower_first(region)}", tuple(fields))
                 for i, (region, fields) in enumerate(sections.items(), start=1))


_COMPARTMENTS = _coded(tuple(Compartment), vs.COMPARTMENT_CODING)
_SIDES = _coded((Laterality.LEFT, Laterality.RIGHT, Laterality.MIDLINE, Laterality.BILATERAL), vs.LATERALITY_CODING)

PRIMARY = Section("primary", "Primary tumour", (
    Field("study-date", "Date of the imaging study", "date"),
    Field("compartment", "Body compartment of the primary", "choice", _COMPARTMENTS),
    Field("side", "Side of the primary", "choice", _SIDES),
))
EXTENSION = Section("extension", "Extension into another compartment", (
    Field("extension-compartment", "Compartment the tumour extends into", "choice", _COMPARTMENTS),
    Field("extension-side", "Side of the extension", "choice", _SIDES),
    Field("extension-contiguous", "Contiguous with the primary", "choice", YES_NO),
), hint="Contiguous and on the same side: IDRF 1 (locoregional). Opposite side or not contiguous: distant (M).")
CLOSING = Section("idrf-closing", "All other IDRFs", (
    Field("idrf-others-absent", "I assessed all 20 IDRFs: those not described above are absent", "boolean"),
))
NODE_SECTION = Section("nodes", "Lymph nodes", tuple(
    Field(f"node-{region.value}", vs.NODAL_REGION_CODING[region].display, "choice", NODES)
    for region in NodalRegion if region is not NodalRegion.OTHER))
SITE_SECTION = Section("metastases", "Metastatic sites on imaging", tuple(
    Field(f"site-{site.value}", vs.METASTATIC_SITE_CODING[site].display, "choice", PRESENCE)
    for site in MetastaticSite if site not in (MetastaticSite.BONE_MARROW, MetastaticSite.OTHER)),
    hint="Bone marrow is judged on aspirates and trephines, not here.")
MIBG_SECTION = Section("mibg", "123I-MIBG scintigraphy", (
    Field("mibg-avid", "The primary tumour is MIBG-avid", "choice", YES_NO),
    Field("mibg-bone", "MIBG in bone", "choice", SCAN),
    Field("mibg-marrow", "MIBG in bone marrow", "choice", SCAN),
))
SIGN_SECTION = Section("signature", "Signature", (
    Field("sign", "I sign this report: save it as final (otherwise it is saved as preliminary)", "boolean"),
))

SECTIONS: tuple[Section, ...] = (PRIMARY, EXTENSION, *_idrf_sections(), CLOSING, NODE_SECTION, SITE_SECTION,
                                 MIBG_SECTION, SIGN_SECTION)
FIELDS: dict[str, Field] = {f.name: f for section in SECTIONS for f in section.fields}
