"""Bone marrow involvement and functional imaging of bone and marrow (INRGSS M versus MS).

Marrow involvement is read as the pathologist reports it, with its tumour-cell percentage by
morphology (Monclair 2009: MS allows < 10 %); bone and marrow are clear on imaging when the scan the
tumour's avidity calls for (MIBG if avid, 99mTc-MDP or FDG-PET if not; Brisse 2011) shows no uptake.
"""

from __future__ import annotations

from dataclasses import replace

from neuroblastoma.assessments import ABSENT, PRESENT, UNKNOWN, Assessment, cited
from neuroblastoma.case import Case, FactKey, FunctionalImaging, ImagingModality, MarrowMethod, MetastaticSite
from neuroblastoma.facts import Presence, all_present
from neuroblastoma.results import MissingInput, RuleWarning

# The tissues a functional scan reports on: FunctionalImaging's attribute and the distant site it stands for.
TISSUES = (("bone", MetastaticSite.BONE), ("bone_marrow", MetastaticSite.BONE_MARROW))

MARROW_CONFLICT = ("Bone marrow reports disagree (or a tumour-cell percentage above 0 is reported "
                   "'not involved'); involvement is used.")
NON_MORPHOLOGICAL = ("INRGSS counts tumour cells on smears or biopsy (morphology); confirm how to stage it "
                     "(clinical-rules §1.2).")

def focus_resolutions(case: Case) -> dict[MetastaticSite, tuple[Presence, str | None]]:
    """Equivocal foci resolved by a later report for their site from cross-sectional imaging or biopsy (a
    metastatic-site report, or a marrow biopsy), or by an explicit "focus ruled out/confirmed" value:
    Brisse 2011 ("a solitary, equivocal focus ... must be confirmed with additional imaging or biopsy").
    The reader decides "later" from the reports' dates (docs/clinical-rules.md, "Equivocal foci")."""
    found: dict[MetastaticSite, tuple[Presence, str | None]] = {}
    for finding in case.metastases:
        if finding.resolves_focus and finding.status.known and not finding.equivocal:
            found.setdefault(finding.site, (finding.status, finding.source))
    marrow = case.bone_marrow
    if marrow.resolves_focus:
        percent = marrow.tumour_cell_percent
        call = PRESENT if percent is not None and percent > 0 else marrow.involvement
        if call.known:
            found.setdefault(MetastaticSite.BONE_MARROW, (call, marrow.source))
    return found


def resolved_scans(case: Case) -> tuple[FunctionalImaging, ...]:
    """The functional imaging with each equivocal scan whose foci are all resolved read as resolved: the
    tissue takes the resolving report's value, and the scan is no longer equivocal."""
    resolutions = focus_resolutions(case)
    if not resolutions:
        return case.functional_imaging
    scans = []
    for scan in case.functional_imaging:
        open_foci = [(attribute, site) for attribute, site in TISSUES if getattr(scan, attribute) is not ABSENT]
        if scan.equivocal and open_foci and all(site in resolutions for _, site in open_foci):
            values = {attribute: resolutions[site][0] for attribute, site in open_foci}
            scan = replace(scan, equivocal=False, bone=values.get("bone", scan.bone),
                           bone_marrow=values.get("bone_marrow", scan.bone_marrow))
        scans.append(scan)
    return tuple(scans)


def marrow_involvement(case: Case) -> Assessment:
    """Marrow involvement from the aspirate/biopsy call and any reported marrow metastases.

    A tumour-cell percentage above 0 implies involvement; 0 % without a call decides nothing
    (product decision 11: the reported call is consumed, not re-derived). Involvement found only by
    immunocytology or RT-PCR is flagged: no source says how INRGSS treats it (clinical-rules §1.2 ⚠).
    """
    marrow = case.bone_marrow
    percent = marrow.tumour_cell_percent
    call = PRESENT if percent is not None and percent > 0 else marrow.involvement
    reports = {call, *(f.status for f in case.metastases
                       if f.site is MetastaticSite.BONE_MARROW and not f.equivocal)} - {UNKNOWN}
    presence = PRESENT if PRESENT in reports else ABSENT if reports else UNKNOWN
    warnings = []
    if len(reports) > 1 or (marrow.involvement is ABSENT and call is PRESENT):
        warnings.append(RuleWarning("conflict-marrow", MARROW_CONFLICT))
    method = marrow.method.value
    if presence is PRESENT and marrow.method in (MarrowMethod.IMMUNOCYTOLOGY, MarrowMethod.RT_PCR):
        warnings.append(RuleWarning("marrow-non-morphological", f"Marrow involvement detected by {method}: "
                                                                f"{NON_MORPHOLOGICAL}"))
    percent_text = f", {percent:g} % tumour cells" if percent is not None else ""
    step = cited(f"Bone marrow involvement: {presence.value}{percent_text} (method {method})", marrow.source)
    decided = (FactKey.BONE_MARROW,) if presence.known else ()
    return Assessment(presence, (step,), decided, (), tuple(warnings))


# --- Functional imaging of bone and marrow --------------------------------------------------------------

_FOR_AVID = frozenset({ImagingModality.MIBG})
_FOR_NON_AVID = frozenset({ImagingModality.MDP_BONE_SCAN, ImagingModality.FDG_PET})
_AVIDITY_DECIDES = ("whether the primary is MIBG-avid decides which scan must be negative for bone and "
                    "marrow (MIBG if avid, else MDP bone scan or FDG-PET; Brisse 2011)")


def _shows_free(case: Case, modalities: frozenset[ImagingModality]) -> Presence:
    """PRESENT when unequivocal scans of these modalities show bone and bone marrow free."""
    scans = [s for s in resolved_scans(case) if s.modality in modalities and not s.equivocal]
    bone_free = PRESENT if any(s.bone is ABSENT for s in scans) else UNKNOWN
    marrow_free = PRESENT if any(s.bone_marrow is ABSENT for s in scans) else UNKNOWN
    return all_present((bone_free, marrow_free))


def functional_imaging_clear(case: Case) -> Assessment:
    """Bone and bone marrow free on the functional imaging that suits the primary (Brisse 2011): MIBG
    if the primary is MIBG-avid; otherwise a 99mTc-MDP bone scan or FDG-PET (PDQ 2025: FDG-PET has
    replaced bone scans; clinical-rules §1.2 ⚠). With avidity unknown, both must be free. Uptake on any
    unequivocal scan, whatever the modality, is never clear."""
    positives = [(s, site) for s in resolved_scans(case) if not s.equivocal
                 for attribute, site in TISSUES if getattr(s, attribute) is PRESENT]
    if positives:
        steps = tuple(cited(f"{s.modality.value} shows uptake in {site.value}: not clear", s.source)
                      for s, site in positives)
        return Assessment(ABSENT, steps, (FactKey.FUNCTIONAL_IMAGING,))
    mibg, other = _shows_free(case, _FOR_AVID), _shows_free(case, _FOR_NON_AVID)
    avid = case.primary_mibg_avid
    if avid is PRESENT:
        return _imaging_verdict(mibg, "MIBG (primary MIBG-avid)", "an MIBG scan negative for bone and "
                                                                  "bone marrow (the primary is MIBG-avid)")
    if avid is ABSENT:
        return _imaging_verdict(other, "MDP bone scan or FDG-PET (primary not MIBG-avid)",
                                "an MDP bone scan or FDG-PET negative for bone and bone marrow "
                                "(the primary is not MIBG-avid)")
    clear = all_present((mibg, other))
    verdict = _imaging_verdict(clear, "MIBG and MDP bone scan or FDG-PET (MIBG avidity unknown)",
                               "scans negative for bone and bone marrow", avidity_known=False)
    if clear is PRESENT:
        return verdict
    missing = [MissingInput(FactKey.MIBG_AVIDITY, _AVIDITY_DECIDES)]
    scans = ((mibg, "an MIBG scan"), (other, "an MDP bone scan or FDG-PET"))
    missing += [MissingInput(FactKey.FUNCTIONAL_IMAGING, f"{scan} negative for bone and bone marrow")
                for free, scan in scans if free is UNKNOWN]
    return Assessment(UNKNOWN, verdict.steps, (), tuple(missing))


def _imaging_verdict(clear: Presence, modality: str, needed: str, avidity_known: bool = True) -> Assessment:
    avidity = (FactKey.MIBG_AVIDITY,) if avidity_known else ()
    if clear is PRESENT:
        step = f"Functional imaging clear of bone and marrow disease; modality used: {modality} (Brisse 2011)"
        return Assessment(PRESENT, (step,), (FactKey.FUNCTIONAL_IMAGING, *avidity))
    step = f"Functional imaging of bone and bone marrow not decisive; needed: {needed} (Brisse 2011)"
    return Assessment(UNKNOWN, (step,), avidity, (MissingInput(FactKey.FUNCTIONAL_IMAGING, needed),))
