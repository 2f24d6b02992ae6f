"""The missing-data card: what is missing, why it matters, and which candidates remain."""

from __future__ import annotations

from cds_service.protocol.cards import Card
from cds_service.services.cards.card_json import card_source, fit_summary, stable_uuid
from cds_service.services.cards.markdown import escape_markdown as md
from neuroblastoma.result_wording import outcome_text, schema_of
from neuroblastoma.results import Classification

KIND = "missing-data"

FACT_NAMES = {
    "inrg-stage": "the INRG stage", "age-at-diagnosis": "age at diagnosis", "primary-tumour": "primary tumour",
    "idrf": "IDRF assessment", "distant-metastases": "confirmation of distant disease",
    "metastatic-work-up": "metastatic work-up", "bone-marrow": "bone marrow result",
    "functional-imaging": "MIBG/bone scan", "mibg-avidity": "MIBG avidity", "histologic-category": "histology",
    "differentiation-grade": "grade of differentiation", "inpc-class": "INPC class", "mycn": "MYCN status",
    "11q-aberration": "11q status", "1p-aberration": "1p status", "segmental-aberrations-1p-11q": "1p/11q status",
    "ploidy": "ploidy", "ms-symptoms": "symptom status", "resection-extent": "resection extent",
    "equivocal-focus": "confirmation of the focus by cross-sectional imaging or biopsy",
    "primary-attribution": "which primary a finding belongs to",
}


def _candidates(result: Classification) -> list[str]:
    lines = []
    if not result.stage.stage:
        lines.append("INRG stage: " + " or ".join(s.value for s in result.stage.candidates))
    for risk in result.risks:
        if not risk.outcome and not risk.out_of_scope and risk.candidates:
            group = "group " if schema_of(risk).groups else ""
            options = " or ".join(f"{group}{outcome_text(risk, c)}" for c in risk.candidates)
            lines.append(f"{schema_of(risk).title}: {options}")
    return lines


def missing_data_card(result: Classification, *, call_key: tuple[str, ...]) -> Card | None:
    missing = result.missing
    if not missing:
        return None
    names = list(dict.fromkeys(FACT_NAMES.get(m.fact.value, m.fact.value) for m in missing))
    what = "Stage" if not result.stage.stage else "Risk group"
    summary = fit_summary(f"{what} cannot be assigned yet: needs {', '.join(names)}")
    lines = ["**Cannot be assigned from the data on record.** The service does not guess; it needs:", ""]
    lines += [f"- **{md(FACT_NAMES.get(m.fact.value, m.fact.value))}**: {md(m.why)}" for m in missing]
    candidates = _candidates(result)
    if candidates:
        lines += ["", "Still possible:", *[f"- {md(c)}" for c in candidates]]
    return Card(uuid=stable_uuid(*call_key, KIND), summary=summary, indicator="warning",
                detail="\n".join(lines), source=card_source())
