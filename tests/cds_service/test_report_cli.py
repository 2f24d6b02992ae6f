"""``nbcds report`` and ``nbcds report --html FILE``: each card once, by kind, reasons; a self-contained page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cds_service.cli import main
from cds_service.protocol.feedback import parse_feedback
from cds_service.protocol.override_reasons import NON_ADHERENCE_CDS_HOOKS
from cds_service.store import AuditRecord, IssuedCard, open_store


def _seed(database: Path) -> None:
    card, suggestion = str(uuid.uuid4()), str(uuid.uuid4())
    with open_store(f"sqlite:///{database}") as store:
        store.audit.record_call(AuditRecord(hook_instance="h1", service_id="neuroblastoma-staging",
                                            hook="patient-view", received_at=datetime(2026, 9, 1, tzinfo=UTC),
                                            ruleset_version="x", http_status=200, latency_ms=1.0),
                                [IssuedCard(card, "stage-risk", (suggestion,))])
        batch = parse_feedback({"feedback": [
            {"card": card, "outcome": "accepted", "acceptedSuggestions": [{"id": suggestion}],
             "outcomeTimestamp": "2026-09-01T10:00:00Z"},
            {"card": card, "outcome": "overridden", "outcomeTimestamp": "2026-09-01T10:01:00Z",
             "overrideReason": {"reason": {"system": NON_ADHERENCE_CDS_HOOKS, "code": "expert-contradicts"},
                                "userComment": "<script>alert(1)</script> Jane Doe"}}]})
        store.feedback.save("neuroblastoma-staging", batch.entries)


def test_report_counts_the_card_once_and_writes_a_self_contained_page(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "nbcds.sqlite3"
    _seed(database)
    monkeypatch.setenv("NBCDS_DATABASE_URL", f"sqlite:///{database}")
    page = tmp_path / "report.html"
    assert main(["report", "--html", str(page)]) == 0
    text = capsys.readouterr().out
    assert "with feedback:    1 (accepted 0, overridden 1; 2 entries, 1 changed their outcome)" in text
    assert "Advice from expert contradicts the recommended action" in text  # a 3.0 code, display looked up
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 3
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html)  # no network: nothing to fetch
    assert "<script" not in html and "Jane" not in html  # comment text is never read
    assert "expert-contradicts" in html and "stage-risk" in html

