"""Which required pretreatment assessments are absent from the record.

Sources: Brisse 2011 (INRG imaging guidelines: MIBG scintigraphy for all; 99mTc-MDP bone scan —
or FDG-PET per PDQ 2025 — when the tumour is not MIBG-avid); PDQ Neuroblastoma Treatment (bilateral
bone marrow aspirates and trephine biopsies); Cohn 2009 and Irwin 2021 (MYCN, ploidy, 11q/1p and
histology are the biological factors of the risk schemas).
"""

from __future__ import annotations

from dataclasses import dataclass

from neuroblastoma.biology import DifferentiationGrade, HistologicCategory, InpcClass, MycnStatus
from neuroblastoma.case import Case, FactKey, ImagingModality
from neuroblastoma.facts import Presence


@dataclass(frozen=True)
class Assessment:
    fact: FactKey
    name: str
    why: str
    source: str


def _has_scan(case: Case, *modalities: ImagingModality) -> bool:
    return any(scan.modality in modalities for scan in case.functional_imaging)


def missing_pretreatment_assessments(case: Case) -> tuple[Assessment, ...]:
    missing: list[Assessment] = []
    if not _has_scan(case, ImagingModality.MIBG):
        missing.append(Assessment(
            FactKey.FUNCTIONAL_IMAGING, "MIBG scintigraphy",
            "needed to find metastases and must precede resection", "Brisse 2011"))
    if case.primary_mibg_avid is Presence.ABSENT and not _has_scan(
            case, ImagingModality.MDP_BONE_SCAN, ImagingModality.FDG_PET):
        missing.append(Assessment(
            FactKey.FUNCTIONAL_IMAGING, "99mTc-MDP bone scan or FDG-PET",
            "the tumour is not MIBG-avid, so bone and marrow disease must be sought another way",
            "Brisse 2011; PDQ"))
    if not case.bone_marrow.involvement.known:
        missing.append(Assessment(
            FactKey.BONE_MARROW, "bone marrow aspirates and trephine biopsies (bilateral)",
            "marrow involvement and its percentage decide M versus MS", "PDQ"))
    if case.mycn is MycnStatus.UNKNOWN:
        missing.append(Assessment(FactKey.MYCN, "MYCN status", "decides high risk in every stage",
                                  "Cohn 2009; Irwin 2021"))
    if case.ploidy.effective_category is None:
        missing.append(Assessment(FactKey.PLOIDY, "tumour ploidy (DNA index)",
                                  "decides risk in metastatic infants", "Cohn 2009; Irwin 2021"))
    if not (case.chr11q_aberration.known and case.chr1p_aberration.known):
        missing.append(Assessment(FactKey.SCA, "11q and 1p status (segmental chromosome aberrations)",
                                  "decide risk for L2, MS and metastatic toddlers", "Cohn 2009; Irwin 2021"))
    if (case.histology is HistologicCategory.UNKNOWN or case.inpc is InpcClass.UNKNOWN
            or (case.histology in (HistologicCategory.NEUROBLASTOMA, HistologicCategory.GANGLIONEUROBLASTOMA_NODULAR)
                and case.grade is DifferentiationGrade.UNKNOWN)):
        missing.append(Assessment(FactKey.HISTOLOGY, "histology (INPC category, grade, favourable/unfavourable)",
                                  "decides risk for localized tumours", "Cohn 2009; Irwin 2021"))
    return tuple(missing)
