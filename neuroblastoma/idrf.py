"""The 20 image-defined risk factors (IDRFs) and how a reported tumour–structure relation counts.

Catalogue: Monclair et al., JCO 2009;27:298–303, Table 1, as reproduced verbatim in Pediatr Blood
Cancer 2021;68 Suppl 2:e28473 (PMC8785544, Table 1), Egypt J Radiol Nucl Med 2020 (Table 3) and
Cancer Imaging 2015;15:5 (Table 3). The numbering 1–20 follows the table's order.
Relation rules: Brisse et al., Radiology 2011;261:243–257 ("Guidelines for imaging and staging of
neuroblastic tumors: consensus report from the INRG Project"), as summarised in clinical-rules.md §2.2–2.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from neuroblastoma.facts import Presence


class IdrfRegion(Enum):
    MULTIPLE_COMPARTMENTS = "multiple body compartments"
    NECK = "neck"
    CERVICO_THORACIC = "cervico-thoracic junction"
    THORAX = "thorax"
    THORACO_ABDOMINAL = "thoraco-abdominal"
    ABDOMEN_PELVIS = "abdomen/pelvis"
    INTRASPINAL = "intraspinal extension"
    ADJACENT_ORGANS = "infiltration of adjacent organs/structures"


class IdrfCode(Enum):
    """Our code for each IDRF (CodeSystem ``idrf`` in fhir_mappings); the value is the code."""

    IPSILATERAL_TWO_COMPARTMENTS = "IDRF-01"
    NECK_VESSEL_ENCASEMENT = "IDRF-02"
    NECK_SKULL_BASE = "IDRF-03"
    NECK_TRACHEA_COMPRESSION = "IDRF-04"
    CERVICOTHORACIC_BRACHIAL_PLEXUS = "IDRF-05"
    CERVICOTHORACIC_VESSEL_ENCASEMENT = "IDRF-06"
    CERVICOTHORACIC_TRACHEA_COMPRESSION = "IDRF-07"
    THORAX_AORTA_ENCASEMENT = "IDRF-08"
    THORAX_AIRWAY_COMPRESSION = "IDRF-09"
    THORAX_COSTOVERTEBRAL_T9_T12 = "IDRF-10"
    THORACOABDOMINAL_AORTA_CAVA = "IDRF-11"
    ABDOMEN_PORTA_HEPATIS = "IDRF-12"
    ABDOMEN_SMA_BRANCHES = "IDRF-13"
    ABDOMEN_COELIAC_SMA_ORIGIN = "IDRF-14"
    ABDOMEN_RENAL_PEDICLE = "IDRF-15"
    ABDOMEN_AORTA_CAVA = "IDRF-16"
    ABDOMEN_ILIAC_VESSELS = "IDRF-17"
    PELVIS_SCIATIC_NOTCH = "IDRF-18"
    INTRASPINAL = "IDRF-19"
    ADJACENT_ORGAN_INFILTRATION = "IDRF-20"


@dataclass(frozen=True)
class IdrfDefinition:
    code: IdrfCode
    number: int
    region: IdrfRegion
    wording: str


def _row(number: int, code: IdrfCode, region: IdrfRegion, wording: str) -> IdrfDefinition:
    return IdrfDefinition(code, number, region, wording)


_R = IdrfRegion
_C = IdrfCode

# Monclair 2009, Table 1, row for row.
IDRF_CATALOGUE: tuple[IdrfDefinition, ...] = (
    _row(1, _C.IPSILATERAL_TWO_COMPARTMENTS, _R.MULTIPLE_COMPARTMENTS,
         "Ipsilateral tumour extension within two body compartments "
         "(neck–chest, chest–abdomen, abdomen–pelvis)"),
    _row(2, _C.NECK_VESSEL_ENCASEMENT, _R.NECK,
         "Tumour encasing the carotid and/or vertebral artery and/or internal jugular vein"),
    _row(3, _C.NECK_SKULL_BASE, _R.NECK, "Tumour extending to the base of the skull"),
    _row(4, _C.NECK_TRACHEA_COMPRESSION, _R.NECK, "Tumour compressing the trachea"),
    _row(5, _C.CERVICOTHORACIC_BRACHIAL_PLEXUS, _R.CERVICO_THORACIC, "Tumour encasing brachial plexus roots"),
    _row(6, _C.CERVICOTHORACIC_VESSEL_ENCASEMENT, _R.CERVICO_THORACIC,
         "Tumour encasing subclavian vessels and/or vertebral and/or carotid artery"),
    _row(7, _C.CERVICOTHORACIC_TRACHEA_COMPRESSION, _R.CERVICO_THORACIC, "Tumour compressing the trachea"),
    _row(8, _C.THORAX_AORTA_ENCASEMENT, _R.THORAX, "Tumour encasing the aorta and/or major branches"),
    _row(9, _C.THORAX_AIRWAY_COMPRESSION, _R.THORAX,
         "Tumour compressing the trachea and/or principal bronchi"),
    _row(10, _C.THORAX_COSTOVERTEBRAL_T9_T12, _R.THORAX,
         "Lower mediastinal tumour infiltrating the costo-vertebral junction between T9 and T12"),
    _row(11, _C.THORACOABDOMINAL_AORTA_CAVA, _R.THORACO_ABDOMINAL,
         "Tumour encasing the aorta and/or vena cava"),
    _row(12, _C.ABDOMEN_PORTA_HEPATIS, _R.ABDOMEN_PELVIS,
         "Tumour infiltrating the porta hepatis and/or hepatoduodenal ligament"),
    _row(13, _C.ABDOMEN_SMA_BRANCHES, _R.ABDOMEN_PELVIS,
         "Tumour encasing branches of the superior mesenteric artery at the mesenteric root"),
    _row(14, _C.ABDOMEN_COELIAC_SMA_ORIGIN, _R.ABDOMEN_PELVIS,
         "Tumour encasing the origin of the coeliac axis and/or of the superior mesenteric artery"),
    _row(15, _C.ABDOMEN_RENAL_PEDICLE, _R.ABDOMEN_PELVIS, "Tumour invading one or both renal pedicles"),
    _row(16, _C.ABDOMEN_AORTA_CAVA, _R.ABDOMEN_PELVIS, "Tumour encasing the aorta and/or vena cava"),
    _row(17, _C.ABDOMEN_ILIAC_VESSELS, _R.ABDOMEN_PELVIS, "Tumour encasing the iliac vessels"),
    _row(18, _C.PELVIS_SCIATIC_NOTCH, _R.ABDOMEN_PELVIS, "Pelvic tumour crossing the sciatic notch"),
    _row(19, _C.INTRASPINAL, _R.INTRASPINAL,
         "Intraspinal tumour extension whatever the location provided that more than one third of the "
         "spinal canal in the axial plane is invaded and/or the perimedullary leptomeningeal spaces are "
         "not visible and/or the spinal cord signal is abnormal"),
    _row(20, _C.ADJACENT_ORGAN_INFILTRATION, _R.ADJACENT_ORGANS,
         "Infiltration of adjacent organs/structures: pericardium, diaphragm, kidney, liver, "
         "duodeno-pancreatic block, and mesentery"),
)

IDRF_BY_CODE: dict[IdrfCode, IdrfDefinition] = {d.code: d for d in IDRF_CATALOGUE}


class RecordedCondition(Enum):
    """Monclair 2009, Table 1 footnote: conditions to be recorded, but not considered IDRFs."""

    MULTIFOCAL_PRIMARY = "REC-MULTIFOCAL"
    PLEURAL_EFFUSION = "REC-PLEURAL-EFFUSION"
    ASCITES = "REC-ASCITES"


RECORDED_CONDITION_WORDING: dict[RecordedCondition, str] = {
    RecordedCondition.MULTIFOCAL_PRIMARY: "Multifocal primary tumours",
    RecordedCondition.PLEURAL_EFFUSION: "Pleural effusion, with or without malignant cells",
    RecordedCondition.ASCITES: "Ascites, with or without malignant cells",
}


class StructureKind(Enum):
    """The kind of structure a reported relation concerns; the relation rules depend on it."""

    ARTERY = "artery"
    VEIN = "vein"
    RENAL_VESSEL = "renal-vessel"
    INFERIOR_MESENTERIC_ARTERY = "inferior-mesenteric-artery"
    AIRWAY = "airway"
    NERVE = "nerve"
    ORGAN = "organ"


class StructureRelation(Enum):
    """Brisse 2011 terms for how the tumour relates to a structure."""

    SEPARATION = "separation"
    CONTACT = "contact"
    FLATTENED_LUMEN_VISIBLE = "flattened-lumen-visible"
    FLATTENED_NO_LUMEN = "flattened-no-lumen"
    ENCASEMENT = "encasement"
    COMPRESSION = "compression"
    INFILTRATION = "infiltration"
    EXTENSION = "extension"


@dataclass(frozen=True)
class SpinalCanalFinding:
    """The three IDRF-19 criteria; any one present makes intraspinal extension an IDRF."""

    axial_canal_fraction: float | None = None
    canal_over_one_third: Presence = Presence.UNKNOWN
    leptomeningeal_spaces_obliterated: Presence = Presence.UNKNOWN
    cord_signal_abnormal: Presence = Presence.UNKNOWN

    def __post_init__(self) -> None:
        if self.axial_canal_fraction is not None and not 0 <= self.axial_canal_fraction <= 1:
            raise ValueError("axial_canal_fraction is a fraction of the canal, 0 to 1")


@dataclass(frozen=True)
class IdrfFinding:
    """One IDRF as the radiologist reported it: the call, and/or the relation it rests on."""

    code: IdrfCode
    status: Presence = Presence.UNKNOWN
    structure: StructureKind | None = None
    relation: StructureRelation | None = None
    spinal_canal: SpinalCanalFinding | None = None
    source: str | None = None  # e.g. "Observation/123", for provenance


@dataclass(frozen=True)
class IdrfAssessment:
    code: IdrfCode
    presence: Presence
    reason: str
    conflict: bool = False
    source: str | None = None


def relation_counts(structure: StructureKind, relation: StructureRelation) -> tuple[Presence, str]:
    """Whether a tumour–structure relation is an IDRF, per Brisse 2011 (clinical-rules.md §2.2–2.3).

    Unknown is returned where the term does not apply to that kind of structure: the radiologist
    must re-report in the terms that do, rather than the service guessing either way.
    """
    s, r = structure, relation
    if s is StructureKind.INFERIOR_MESENTERIC_ARTERY:
        return Presence.ABSENT, "the inferior mesenteric artery is not a vital structure (Brisse 2011)"
    if r is StructureRelation.SEPARATION:
        return Presence.ABSENT, "a visible separating layer is not an IDRF (Brisse 2011)"
    if r is StructureRelation.CONTACT:
        if s is StructureKind.RENAL_VESSEL:
            return Presence.PRESENT, "contact with the renal vessels counts as an IDRF (Brisse 2011)"
        return Presence.ABSENT, "contact (< 50 % of the circumference) is not an IDRF (Brisse 2011)"
    flattened = r in (StructureRelation.FLATTENED_LUMEN_VISIBLE, StructureRelation.FLATTENED_NO_LUMEN)
    if flattened and s is StructureKind.RENAL_VESSEL:
        return Presence.PRESENT, "a flattened renal vein is in contact: renal contact counts (Brisse 2011)"
    if r is StructureRelation.FLATTENED_LUMEN_VISIBLE:
        if s is StructureKind.VEIN:
            return Presence.ABSENT, "a flattened vein with a visible lumen is not an IDRF (Brisse 2011)"
        return Presence.UNKNOWN, "'flattened' describes veins only; report contact or encasement"
    if r is StructureRelation.FLATTENED_NO_LUMEN:
        if s is StructureKind.VEIN:
            return Presence.PRESENT, "a flattened vein without visible lumen counts as encased (Brisse 2011)"
        return Presence.UNKNOWN, "'flattened' describes veins only; report contact or encasement"
    if r is StructureRelation.ENCASEMENT:
        if s is StructureKind.AIRWAY:
            return Presence.UNKNOWN, "for airways only compression is defined; report compression"
        return Presence.PRESENT, "encasement (> 50 % of the circumference) is an IDRF (Brisse 2011)"
    if r is StructureRelation.COMPRESSION:
        if s is StructureKind.AIRWAY:
            return Presence.PRESENT, "airway compression (reduced short axis) is an IDRF (Brisse 2011)"
        return (Presence.UNKNOWN,
                "compression applies to airways only; report contact, flattening or encasement")
    if r is StructureRelation.INFILTRATION:
        # Brisse 2011: infiltration is the term for structures other than vessels (ill-defined or absent
        # margins); the renal pedicle counts even on contact. Vessel-wall infiltration cannot be judged.
        if s in (StructureKind.ORGAN, StructureKind.RENAL_VESSEL, StructureKind.NERVE, StructureKind.AIRWAY):
            return Presence.PRESENT, "infiltration of a non-vascular vital structure (or the renal pedicle) is an IDRF"
        return Presence.UNKNOWN, "vessel wall infiltration cannot be judged on imaging (Brisse 2011)"
    # EXTENSION: skull base, sciatic notch, another compartment — structures, not vessels.
    if s is StructureKind.ORGAN:
        return Presence.PRESENT, "extension into the structure named by this IDRF"
    return Presence.UNKNOWN, "'extension' applies to structures such as the skull base or sciatic notch"


def spinal_canal_counts(finding: SpinalCanalFinding) -> tuple[Presence, str]:
    """IDRF-19: > 1/3 of the canal in the axial plane, or obliterated leptomeningeal spaces, or
    abnormal cord signal (Monclair 2009, Table 1). Intraspinal extension meeting none is not an IDRF."""
    over_third = finding.canal_over_one_third
    if finding.axial_canal_fraction is not None:
        # A measured fraction that contradicts the reported "> 1/3" call decides nothing.
        over_third = Presence.UNKNOWN if canal_fraction_contradicts_call(finding) else \
            Presence.of(finding.axial_canal_fraction > 1 / 3)
    criteria = (over_third, finding.leptomeningeal_spaces_obliterated, finding.cord_signal_abnormal)
    if Presence.PRESENT in criteria:
        return Presence.PRESENT, "intraspinal extension meets an IDRF-19 criterion (Monclair 2009)"
    if all(c is Presence.ABSENT for c in criteria):
        return Presence.ABSENT, "intraspinal extension meets no IDRF-19 criterion: not an IDRF"
    if canal_fraction_contradicts_call(finding):
        return Presence.UNKNOWN, "the measured canal fraction contradicts the reported '> 1/3' call"
    return Presence.UNKNOWN, "the IDRF-19 criteria (canal > 1/3, leptomeninges, cord signal) are incomplete"


def canal_fraction_contradicts_call(finding: SpinalCanalFinding) -> bool:
    """A measured canal fraction on the other side of 1/3 from the reported "> 1/3" call."""
    if finding.axial_canal_fraction is None or not finding.canal_over_one_third.known:
        return False
    return Presence.of(finding.axial_canal_fraction > 1 / 3) is not finding.canal_over_one_third


def assess_idrf(finding: IdrfFinding) -> IdrfAssessment:
    """The IDRF's presence from the reported call and the relation it rests on.

    When a relation (or the spinal criteria) is reported it decides; a reported call that
    contradicts it makes the IDRF unknown and flags the conflict, since guessing either way
    could under- or over-stage the tumour.
    """
    derived: tuple[Presence, str] | None = None
    if finding.spinal_canal is not None:
        derived = spinal_canal_counts(finding.spinal_canal)
    elif finding.structure is not None and finding.relation is not None:
        derived = relation_counts(finding.structure, finding.relation)

    if derived is None:
        reason = "reported by the radiologist" if finding.status.known else "not assessed"
        return IdrfAssessment(finding.code, finding.status, reason, source=finding.source)
    presence, reason = derived
    spinal = finding.spinal_canal
    if spinal is not None and presence is Presence.UNKNOWN and canal_fraction_contradicts_call(spinal):
        return IdrfAssessment(finding.code, Presence.UNKNOWN, reason, conflict=True, source=finding.source)
    if finding.status.known and presence.known and finding.status is not presence:
        return IdrfAssessment(
            finding.code,
            Presence.UNKNOWN,
            f"the reported call ({finding.status.value}) contradicts the reported relation: {reason}",
            conflict=True,
            source=finding.source,
        )
    if not presence.known and finding.status.known:
        note = f"reported call; note: {reason}"
        return IdrfAssessment(finding.code, finding.status, note, source=finding.source)
    return IdrfAssessment(finding.code, presence, reason, source=finding.source)
