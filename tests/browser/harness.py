"""What the browser journeys run against: Debian's Chromium driven by Playwright for Python (never a downloaded
browser), the service in a thread, the test FHIR engine, the SMART EHR stand-in, and axe-core from npm."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from cds_service.http.app import create_app
from cds_service.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# The closed network refuses many connections: without these flags Chromium keeps trying (integrator's notes).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def missing_tools() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `make system-packages` installs Debian's chromium"
    if not AXE.exists():
        return f"{AXE} is missing: `make test` runs npm ci in tests/browser"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium with the flags above. Playwright's ``launch`` gives it a fresh ``--user-data-dir`` of its
    own (a temporary profile, removed on close), so no state survives between runs (the sandbox keeps
    settings in localStorage)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class RunningService:
    base_url: str
    settings: Settings
    _server: Any

    def stop(self) -> None:
        self._server.shutdown()


def start_service(tmp: Path, open_servers: list[str]) -> RunningService:
    settings = Settings(profile="development", require_jwt=False, database_url=f"sqlite:///{tmp / 'nbcds.sqlite3'}",
                        allow_tokenless_fhir_servers=open_servers, app_key_file=str(tmp / "app-key"),
                        log_level="WARNING")
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return RunningService(f"http://127.0.0.1:{server.server_port}", settings, server)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now (serious or worse, and every colour check)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async tags => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
                           AXE_TAGS)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(violations, indent=1)
