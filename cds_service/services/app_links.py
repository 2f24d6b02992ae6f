"""Links from the cards to the SMART app (``cds_service.app``), served under ``APP_PATH`` by the same service.

A ``smart`` link's URL is the app's launch URL (CDS Hooks 2.0 §Link): the EHR adds ``iss`` and ``launch`` and
launches it. The view to open travels in the URL's own ``view`` parameter, which every EHR keeps; no
``appContext`` is sent (Oracle Health has none, and the view needs nothing else).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from cds_service.protocol.cards import Link

APP_PATH = "/app"
LAUNCH_PATH = f"{APP_PATH}/launch"
View = Literal["decision-path", "worksheet", "family"]
VIEW_LABELS: dict[View, str] = {"decision-path": "Decision path (app)", "worksheet": "IDRF and staging worksheet (app)",
                                "family": "Explanation for the family (app)"}


def launch_url(base_url: str, view: View) -> str:
    return f"{base_url.rstrip('/')}{LAUNCH_PATH}?{urlencode({'view': view})}"


def app_link(base_url: str | None, view: View) -> Link | None:
    """The ``smart`` link that launches the app on ``view``; None when the base URL is unknown (the CLI)."""
    if not base_url:
        return None
    return Link(label=VIEW_LABELS[view], url=launch_url(base_url, view), type="smart")
