"""The development greeting: once the service answers ``/healthz``, say where it is and how to try it.

In the development profile the first worker ``nbcds serve`` starts runs ``greet_when_ready`` on a thread of its
own once it is about to serve: it asks the service itself — ``/healthz``, then the landing page's JSON — so what it
prints is what is being served, then the thread ends. It gives up quietly after ``timeout`` seconds. Standard
library only, and nothing here changes an answer.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, TextIO

#: The README's "Try it" request, relative to the repository root.
EXAMPLE_REQUEST = Path("examples") / "requests" / "patient-view-nb-l2-infant.json"


def _get(url: str, accept: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 - our own loopback URL
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read().decode("utf-8"))


def wait_for_service(probe: str, timeout: float) -> dict[str, Any] | None:
    """The landing page's JSON once ``/healthz`` answers; None if it never did within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if _get(f"{probe}/healthz", "application/json", 2.0).get("status") == "ok":
                landing: dict[str, Any] = _get(f"{probe}/", "application/json", 2.0)
                return landing
        except (OSError, ValueError, urllib.error.URLError):
            pass
        time.sleep(0.25)
    return None


def _absolute(href: str, base: str) -> str:
    return href if "://" in href else f"{base}{href}"


def greeting(landing: dict[str, Any], base: str, example: Path | None) -> str:
    """What to print: the URLs, the README's curl (when the example request is at hand) and the app link."""
    links = {link["rel"]: _absolute(link["href"], base) for link in landing.get("links", [])}
    lines = [f"nbcds {landing.get('version', '?')} is ready (rule set {landing.get('ruleset', '?')}, "
             "development profile).", "",
             f"  Landing page   {base}/",
             f"  Discovery      {links.get('discovery', base + '/cds-services')}"]
    if "app" in links:
        lines.append(f"  SMART app      {links['app']}")
    if "docs" in links:
        lines.append(f"  Docs           {links['docs']}")
    if example is not None:
        lines += ["", "Try it (from the repository root):", "",
                  f"  curl -s -X POST {base}/cds-services/neuroblastoma-staging \\",
                  "       -H 'Content-Type: application/json' \\",
                  f"       --data @{example.as_posix()}"]
    lines += ["", "Stop with Ctrl-C."]
    return "\n".join(lines) + "\n"


def greet_when_ready(probe: str, base: str, timeout: float = 60.0, out: TextIO | None = None) -> bool:
    """Wait for the service at ``probe``, then print the greeting for ``base`` (True once printed)."""
    landing = wait_for_service(probe.rstrip("/"), timeout)
    if landing is None:
        return False
    example = EXAMPLE_REQUEST if EXAMPLE_REQUEST.is_file() else None
    stream = out or sys.stdout
    stream.write("\n" + greeting(landing, base.rstrip("/"), example) + "\n")
    stream.flush()
    return True
