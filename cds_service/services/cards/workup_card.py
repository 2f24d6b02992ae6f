"""The work-up card: required pretreatment assessments absent from the record."""

from __future__ import annotations

from cds_service.protocol.cards import Card
from cds_service.services.cards.card_json import card_source, fit_summary, stable_uuid
from cds_service.services.cards.markdown import escape_markdown as md
from neuroblastoma.workup import Assessment

KIND = "work-up"


def workup_card(missing: tuple[Assessment, ...], *, call_key: tuple[str, ...]) -> Card | None:
    if not missing:
        return None
    names = ", ".join(a.name.split(" (")[0] for a in missing)
    lines = ["Required pretreatment assessments not found in the record:", ""]
    lines += [f"- **{md(a.name)}**: {md(a.why)} ({md(a.source)})" for a in missing]
    return Card(uuid=stable_uuid(*call_key, KIND), summary=fit_summary(f"Neuroblastoma work-up incomplete: {names}"),
                indicator="warning", detail="\n".join(lines), source=card_source())
