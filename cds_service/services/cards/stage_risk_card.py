"""The stage and risk card, read in ten seconds: the results and the one thing to check in the summary; in the
detail (at most ``DETAIL_LIMIT`` characters of markdown), what to check first, why, the deciding inputs with
their dates, and the app for the whole decision path.

FHIR ids stay out of the body: they are in the suggested Observations' ``derivedFrom`` and in the app.
The card stands on its own without the app (Oracle Health shows no app links in a narrow panel).
"""

from __future__ import annotations

from cds_service.protocol.cards import Action, Card, Link, Suggestion
from cds_service.services.cards.attention import Attention, attention_items, indicator_of
from cds_service.services.cards.card_json import (
    card_source,
    fit_summary,
    override_reasons,
    reference_links,
    stable_uuid,
)
from cds_service.services.cards.explanation import inputs_table, why_sentences
from cds_service.services.evidence import CaseEvidence
from fhir_mappings.reading.case_reader import CaseReading
from neuroblastoma.result_wording import risk_summary_part, risks_in_order, schema_of, stage_title
from neuroblastoma.results import Classification

KIND = "stage-risk"
DETAIL_LIMIT = 1500
SHOWN_ITEMS = 3  # attention items shown in the card; the app shows all


# Warnings a clinician must see before opening the card: they qualify the result itself (the diagnosis
# date it rests on). Shown in the summary, right after the stage.
SUMMARY_WARNINGS = {"diagnosis-dates-disagree": "⚠ diagnosis dates disagree",
                    "implausible-date": "⚠ implausible date on record"}


def stage_risk_summary(result: Classification, primary_schema: str, first: Attention | None = None) -> str:
    """``INRG stage L2 · COG intermediate risk · INRG group D (low) · schemas disagree``."""
    flags = dict.fromkeys(SUMMARY_WARNINGS[w.code] for w in result.all_warnings if w.code in SUMMARY_WARNINGS)
    stage_part = " · ".join([stage_title(result.stage), *flags])
    if all(risk.out_of_scope for risk in result.risks):
        schemas = " and ".join(schema_of(risk).short_title for risk in result.risks)
        parts = [stage_part, f"ganglioneuroma (mature): benign, outside {schemas} risk schemas"]
    else:
        parts = [stage_part, *(risk_summary_part(risk) for risk in risks_in_order(result, primary_schema))]
    if first is not None and first.indicator == "warning":
        parts.append(first.headline)
    return fit_summary(" · ".join(parts))


def _attention_lines(items: list[Attention], shown: int) -> list[str]:
    if not items:
        return []
    lines = ["**Check first**", *(f"- {item.text}" for item in items[:shown])]
    if len(items) > shown:
        lines.append(f"- {len(items) - shown} more in the app (Decision path).")
    return [*lines, ""]


def _footer(recorded: bool, ruleset: str, with_app: bool) -> list[str]:
    where = " Full decision path with every source: *Decision path* link." if with_app else ""
    done = " Already recorded in the chart (preliminary)." if recorded else ""
    return [f"Decision support, not a diagnosis: a clinician confirms.{done}{where} Rule set {ruleset}."]


def stage_risk_detail(result: Classification, reading: CaseReading, evidence: CaseEvidence, primary_schema: str,
                      items: list[Attention], *, recorded: bool = False, with_app: bool = False) -> str:
    """Check first (``items``, from ``attention_items``), why, the deciding inputs, the footer; shortened (fewer
    check items, then fewer input rows, each pointing to the app) until it fits ``DETAIL_LIMIT``."""
    why = [f"- {sentence}" for sentence in why_sentences(result, reading.case, risks_in_order(result, primary_schema))]
    table = inputs_table(result, evidence)
    footer = _footer(recorded, result.ruleset, with_app)
    detail = ""
    for shown, rows in ((SHOWN_ITEMS, len(table)), (2, len(table)), (1, len(table)), (1, 8), (1, 5), (1, 2)):
        more = "| … | more inputs in the app |" + (" |" if table[0].count("|") > 3 else "")
        cut = [*table[:rows], more] if rows < len(table) else table
        detail = "\n".join([*_attention_lines(items, shown), "**Why**", *why, "", *cut, "", *footer])
        if len(detail) <= DETAIL_LIMIT:
            return detail
    return detail[: DETAIL_LIMIT - 1] + "…"


def stage_risk_card(
    result: Classification, reading: CaseReading, evidence: CaseEvidence, *, primary_schema: str,
    call_key: tuple[str, ...], actions: list[Action], recorded: bool = False, app_links: tuple[Link, ...] = (),
) -> Card:
    """The card; ``call_key`` (service, hook instance, patient) makes its uuids stable. Its one suggestion
    records the determinate results (``actions``), when there is something to record."""
    items = attention_items(result, reading, evidence)
    suggestions = None
    if actions:
        suggestions = [Suggestion(label="Record the stage and risk groups in the chart (preliminary)",
                                  uuid=stable_uuid(*call_key, KIND, "record"), is_recommended=False, actions=actions)]
    return Card(
        uuid=stable_uuid(*call_key, KIND),
        summary=stage_risk_summary(result, primary_schema, items[0] if items else None),
        indicator=indicator_of(items),
        detail=stage_risk_detail(result, reading, evidence, primary_schema, items, recorded=recorded,
                                 with_app=bool(app_links)),
        source=card_source(),
        suggestions=suggestions,
        selection_behavior="at-most-one" if suggestions else None,
        override_reasons=override_reasons(),
        links=[*app_links, *reference_links()],
    )
