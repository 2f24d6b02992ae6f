"""FHIR elements of the resources the example encoder writes: CodeableConcepts, values, components, and
the standard codes written before ours where they mean exactly our concept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.local_biology import SEGMENTAL_ABERRATION
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.local_staging import FUNCTIONAL_IMAGING
from fhir_mappings.terminology.model import Code
from fhir_mappings.terminology.systems import SNOMED
from neuroblastoma.anatomy import Laterality, NodalRegion
from neuroblastoma.biology import HistologicCategory, MycnStatus
from neuroblastoma.case import EffusionKind, MetastaticSite
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import SpinalCanalFinding

_obs = OBSERVATION_CODES.code

# Standard codes that mean exactly our concept, written before ours. (The reading tables accept more,
# e.g. SNOMED CT aortic lymph node for abdominal nodes; those are not equivalences and are not written.)
SITE_BODY_STRUCTURE: Mapping[MetastaticSite, Code] = {
    MetastaticSite.BONE: std.SCT_BONE_STRUCTURE,
    MetastaticSite.BONE_MARROW: std.SCT_BONE_MARROW_STRUCTURE,
    MetastaticSite.LIVER: std.SCT_LIVER_STRUCTURE,
    MetastaticSite.SKIN: std.SCT_SKIN_STRUCTURE,
    MetastaticSite.LUNG: std.SCT_LUNG_STRUCTURE,
}
NODE_BODY_STRUCTURE: Mapping[NodalRegion, Code] = {
    NodalRegion.CERVICAL: std.SCT_CERVICAL_LYMPH_NODE,
    NodalRegion.MEDIASTINAL: std.SCT_MEDIASTINAL_LYMPH_NODE,
    NodalRegion.PELVIC: std.SCT_PELVIC_LYMPH_NODE_GROUP,
    NodalRegion.INGUINAL: std.SCT_INGUINOFEMORAL_LYMPH_NODE_GROUP,
    NodalRegion.AXILLARY: std.SCT_AXILLARY_LYMPH_NODE,
}
LATERALITY_STANDARD: Mapping[Laterality, Code] = {
    Laterality.LEFT: std.SCT_LEFT,
    Laterality.RIGHT: std.SCT_RIGHT,
    Laterality.BILATERAL: std.SCT_RIGHT_AND_LEFT,
}
HISTOLOGY_STANDARD: Mapping[HistologicCategory, Code] = {HistologicCategory.NEUROBLASTOMA: std.ICDO3_NEUROBLASTOMA}
#: The value of LOINC 93796-1 "MYCN gene amplification ... by FISH": amplification present or absent.
MYCN_LOINC_ANSWER: Mapping[MycnStatus, Code] = {
    MycnStatus.AMPLIFIED: std.LOINC_ANSWER_PRESENT,
    MycnStatus.NOT_AMPLIFIED: std.LOINC_ANSWER_ABSENT,
}
EFFUSION_SLUG = {EffusionKind.PLEURAL: "pleural-effusion", EffusionKind.ASCITES: "ascites"}
SCA_CODE_BY_LABEL: Mapping[str, Code] = {code.display: code for code in SEGMENTAL_ABERRATION.codes()}


def concept(*codes: Code | None, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept of the given codes (None skipped), with ``text`` when given."""
    result: dict[str, Any] = {"coding": [code.coding() for code in codes if code is not None]}
    if text:
        result["text"] = text
    return result


def named(code: Code) -> dict[str, Any]:
    """A CodeableConcept with text: the display, without its SNOMED CT semantic tag."""
    return concept(code, text=code.display.split(" (")[0] if code.system == SNOMED else code.display)


def presence_value(presence: Presence) -> dict[str, Any]:
    """``valueCodeableConcept`` present/absent (SNOMED CT), or ``dataAbsentReason`` unknown."""
    if presence is Presence.UNKNOWN:
        return {"dataAbsentReason": concept(std.DAR_UNKNOWN)}
    return {"valueCodeableConcept": concept(vs.PRESENCE_CODING[presence])}


def quantity_value(value: float, unit: Code) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit.display, "system": unit.system, "code": unit.code}}


def laterality_concept(side: Laterality) -> dict[str, Any]:
    return concept(LATERALITY_STANDARD.get(side), vs.LATERALITY_CODING[side])


def component(code: Code, value: dict[str, Any]) -> dict[str, Any]:
    return {"code": concept(code), **value}


def side_components(side: Laterality) -> list[dict[str, Any]]:
    if side is Laterality.UNKNOWN:
        return []
    return [component(_obs("laterality"), {"valueCodeableConcept": laterality_concept(side)})]


def age_quantity(days: int) -> dict[str, Any]:
    return {"value": days, "unit": "days", "system": std.UCUM_UNITY.system, "code": "d"}


def equivocal() -> list[dict[str, Any]]:
    return [concept(FUNCTIONAL_IMAGING.code("equivocal-focus"))]


def spinal_components(spinal: SpinalCanalFinding) -> list[dict[str, Any]]:
    """The IDRF-19 criteria; each is written (unknown as dataAbsentReason) so the reader sees them all."""
    parts = []
    if spinal.axial_canal_fraction is not None:
        parts.append(component(_obs("idrf-spinal-canal-fraction"),
                               quantity_value(spinal.axial_canal_fraction, std.UCUM_UNITY)))
    for code, presence in (("idrf-spinal-canal-over-one-third", spinal.canal_over_one_third),
                           ("idrf-leptomeningeal-spaces-obliterated", spinal.leptomeningeal_spaces_obliterated),
                           ("idrf-cord-signal-abnormal", spinal.cord_signal_abnormal)):
        parts.append(component(_obs(code), presence_value(presence)))
    return parts
