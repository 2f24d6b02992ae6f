"""Screenshots for the docs and the README, taken the way the browser tests run (Debian Chromium, the test FHIR
engine, the service in a thread):

    python -m tests.browser.screenshots docs/images

- the stage and risk card of example patients, rendered as a CDS client's card panel would (markdown, GFM
  tables) at 360 px (Oracle Health's narrow panel) and 720 px;
- the app's decision path, worksheet (filled in, after the live preview) and family page, desktop and phone;
- the governance report (``nbcds report --html``) on generated feedback.
"""

from __future__ import annotations

import html
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests
from markdown_it import MarkdownIt

from fhir_mappings.writing.case_to_fhir import case_to_bundle
from neuroblastoma.case_json import case_from_json
from tests.browser.harness import chromium, start_service
from tests.examples import EXAMPLES, case_document
from tests.support.fhir_engine import FhirEngine

CARD_PATIENTS = ("nb-l2-infant", "nb-ms-infant", "nb-indeterminate-age", "nb-l2-differentiating-mki", "nb-ms-unstable")
_PANEL_CSS = """body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1a1a1a;background:#f0f0f0}
.card{background:#fff;margin:8px;border:1px solid #bbb;border-left:6px solid #2a6ebb;border-radius:4px;padding:8px 10px}
.card.warning{border-left-color:#c77700}.summary{font-weight:700;margin:0 0 6px}.source{color:#555;font-size:12px}
table{border-collapse:collapse;font-size:12.5px;width:100%}th,td{border:1px solid #ccc;padding:2px 4px;text-align:left}
ul{padding-left:18px;margin:4px 0}p{margin:6px 0}button{font:inherit;margin:4px 4px 0 0}a{color:#0a58a8}"""


def _card_page(cards: list[dict[str, Any]]) -> str:
    markdown = MarkdownIt("commonmark").enable("table")
    parts = []
    for card in cards:
        links = "".join(f"<li><a href='#'>{html.escape(link['label'])}</a></li>" for link in card.get("links", ()))
        buttons = "".join(f"<button>{html.escape(s['label'])}</button>" for s in card.get("suggestions", ()))
        parts.append(f"<div class='card {card['indicator']}'><p class='summary'>{html.escape(card['summary'])}</p>"
                     f"<p class='source'>{html.escape(card['source']['label'])}</p>"
                     f"{markdown.render(card.get('detail', ''))}{buttons}<ul>{links}</ul></div>")
    return f"<!doctype html><meta charset='utf-8'><style>{_PANEL_CSS}</style>{''.join(parts)}"


def _fill_worksheet(page: Any) -> None:
    page.get_by_label("Date of the imaging study").fill("2025-06-01")
    page.get_by_label("Body compartment of the primary").select_option("abdomen")
    page.get_by_label("Side of the primary").select_option("left")
    page.get_by_label("IDRF 15, relation of tumour and structure").select_option("contact")
    page.get_by_label("IDRF 13, kind of structure").select_option("inferior-mesenteric-artery")
    page.get_by_label("IDRF 13, relation of tumour and structure").select_option("encasement")
    page.get_by_label("I assessed all 20 IDRFs").check()
    page.wait_for_function("document.getElementById('live-stage').textContent === 'INRG stage L2'")


def _report_page(tmp: Path) -> str:
    """The governance report over 160 invented chart opens and their feedback (no patient data)."""
    import random
    import uuid
    from datetime import UTC, datetime, timedelta

    from cds_service.cli.report_html import render_html
    from cds_service.protocol.feedback import parse_feedback
    from cds_service.protocol.override_reasons import NON_ADHERENCE
    from cds_service.store import AuditRecord, IssuedCard, open_store, override_report

    chance = random.Random(15)
    feedback: list[dict[str, Any]] = []
    with open_store(f"sqlite:///{tmp / 'report.sqlite3'}") as store:
        for i in range(160):
            kind = chance.choice(["stage-risk", "stage-risk", "missing-data", "work-up"])
            card, suggestion = str(uuid.uuid4()), str(uuid.uuid4())
            when = datetime(2026, 9, 1, tzinfo=UTC) + timedelta(hours=13 * i)
            store.audit.record_call(AuditRecord(service_id="neuroblastoma-staging", received_at=when,
                                                ruleset_version="2026.11.0", http_status=200, latency_ms=20.0,
                                                hook_instance=f"hook-{i}", hook="patient-view"),
                                    [IssuedCard(card, kind, (suggestion,))])
            stamp, roll = when.strftime("%Y-%m-%dT%H:%M:%SZ"), chance.random() + (0.1 if i > 80 else 0)
            if roll < 0.55:
                feedback.append({"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
                                 "outcomeTimestamp": stamp})
            elif roll < 0.85:
                code = chance.choice(["need-more-info", "expert-contradicts", "policy-contradicts", "need-more-info"])
                feedback.append({"card": card, "outcome": "overridden", "outcomeTimestamp": stamp,
                                 "overrideReason": {"reason": {"system": NON_ADHERENCE, "code": code}}})
        store.feedback.save("neuroblastoma-staging", parse_feedback({"feedback": feedback}).entries)
        return render_html(override_report(store))


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp())
    with FhirEngine(cors=True) as engine, chromium() as browser:
        document = json.loads(json.dumps(case_document("nb-l2-infant")))
        document["patient"] = "nb-worksheet"
        del document["primaries"]
        engine.seed(case_to_bundle(case_from_json(document)))
        for name in CARD_PATIENTS:
            engine.seed(case_to_bundle(case_from_json(case_document(name))))
        messy = json.loads((EXAMPLES / "fhir" / "messy" / "nb-messy-preliminary.json").read_text())
        messy["entry"] = [{**e, "request": {"method": "PUT", "url": f"{e['resource']['resourceType']}/"
                                                                   f"{e['resource']['id']}"}}
                          for e in messy["entry"] if e["resource"]["resourceType"] != "OperationOutcome"]
        engine.seed({**messy, "type": "transaction"})
        service = start_service(tmp, [engine.root_url])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # wait_for_function
        for patient in (*CARD_PATIENTS, "nb-messy-preliminary"):
            body = {"hook": "patient-view", "hookInstance": "8d1f4a8e-7a0e-4b7e-9a5e-2f3c4d5e6f70",
                    "fhirServer": engine.base_url, "context": {"userId": "Practitioner/1", "patientId": patient}}
            cards = requests.post(f"{service.base_url}/cds-services/neuroblastoma-staging", json=body,
                                  timeout=20).json()["cards"]
            page.set_content(_card_page(cards))
            for width in (360, 720):
                page.set_viewport_size({"width": width, "height": 800})
                page.screenshot(path=str(out / f"card-{patient}-{width}.png"), full_page=True)
        for patient, view in (("nb-messy-preliminary", "decision-path"), ("nb-l2-infant", "family"),
                              ("nb-worksheet", "worksheet")):
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto(f"{service.base_url}/app/launch?iss={engine.base_url}&patient={patient}&view={view}")
            if view == "worksheet":
                _fill_worksheet(page)
                page.evaluate("window.scrollTo(0, document.getElementById('title-IDRF-12').offsetTop - 10)")
            page.screenshot(path=str(out / f"app-{view}-1280.png"), full_page=view != "worksheet")
            page.set_viewport_size({"width": 360, "height": 780})
            page.screenshot(path=str(out / f"app-{view}-360.png"), full_page=view == "family")
        service.stop()
        report = tmp / "report.html"
        report.write_text(_report_page(tmp), encoding="utf-8")
        page.set_viewport_size({"width": 1000, "height": 900})
        page.goto(report.as_uri())
        page.screenshot(path=str(out / "report.png"), full_page=True)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images"))
