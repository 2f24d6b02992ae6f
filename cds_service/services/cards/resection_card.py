"""The resection check: before a primary-tumour resection is signed, MIBG imaging and IDRFs matter.

MIBG scintigraphy belongs to the staging work-up done before surgery (Brisse 2011, INRG imaging
guidelines); IDRFs were defined as imaging surrogates of surgical risk, and tumours with IDRFs
(L2) are candidates for neoadjuvant therapy per protocol (Monclair 2009).
"""

from __future__ import annotations

from cds_service.protocol.cards import Card
from cds_service.services.cards.card_json import card_source, fit_summary, override_reasons, stable_uuid
from cds_service.services.cards.markdown import escape_inline as md
from neuroblastoma.case import Case, ImagingModality
from neuroblastoma.fact_descriptions import idrf_words
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import assess_idrf
from neuroblastoma.results import Classification, Stage

KIND = "resection-check"


def _idrfs_present(case: Case, result: Classification) -> list[str]:
    present = []
    for finding in (f for p in case.primaries for f in p.idrfs):
        assessment = assess_idrf(finding)
        if assessment.presence is Presence.PRESENT:
            present.append(idrf_words(assessment, finding.structure, finding.relation))
    if not present and result.stage.stage is Stage.L2:
        present = ["IDRF reported (stage L2)"]
    return present


def resection_card(case: Case, result: Classification, order_names: list[str], *,
                   call_key: tuple[str, ...]) -> Card | None:
    mibg_done = any(scan.modality is ImagingModality.MIBG for scan in case.functional_imaging)
    idrfs = _idrfs_present(case, result)
    if mibg_done and not idrfs:
        return None
    problems = []
    if not mibg_done:
        problems.append("no MIBG scintigraphy on record")
    if idrfs:
        problems.append("image-defined risk factors present")
    lines = [f"Draft order: {md('; '.join(dict.fromkeys(order_names)))}.", ""]
    if not mibg_done:
        lines.append("- **MIBG scintigraphy** is part of the staging work-up and must precede resection "
                     "(Brisse 2011, INRG imaging guidelines).")
    if idrfs:
        lines.append(f"- **Image-defined risk factors present** ({md(', '.join(idrfs))}): IDRFs are imaging surrogates "
                     "of surgical risk "
                     "(Monclair 2009). Consider neoadjuvant therapy per protocol before resection.")
    return Card(uuid=stable_uuid(*call_key, KIND),
                summary=fit_summary("Before resecting the neuroblastoma: " + "; ".join(problems)),
                indicator="warning", detail="\n".join(lines), source=card_source(),
                override_reasons=override_reasons())
