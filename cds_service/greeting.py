"""The development greeting: once the service answers ``/healthz``, say where it is and how to try it.

``nbcds serve`` (development profile) starts this as a small process of its own once gunicorn has bound its socket
(``python -m cds_service.greeting``): it asks the service itself — ``/healthz``, then the landing page's JSON — so
what it prints is what is being served. It gives up quietly after ``--timeout`` seconds, or as soon as the server
that started it is gone. Standard library only: it must start in a blink, without the service's imports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

#: The README's "Try it" request, relative to the repository root.
EXAMPLE_REQUEST = Path("examples") / "requests" / "patient-view-nb-l2-infant.json"


def _get(url: str, accept: str, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 - our own loopback URL
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        return json.loads(response.read().decode("utf-8"))


def wait_for_service(probe: str, timeout: float, parent: int | None) -> dict[str, Any] | None:
    """The landing page's JSON once ``/healthz`` answers; None if the service never did (or its server left)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if parent is not None and os.getppid() != parent:
            return None  # the server that started us is gone
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cds_service.greeting", description=__doc__)
    parser.add_argument("--probe", required=True, help="where to reach the service, e.g. http://127.0.0.1:8080")
    parser.add_argument("--base", required=True, help="the URL to show (NBCDS_PUBLIC_BASE_URL, or the probe)")
    parser.add_argument("--parent", type=int, help="give up when this process is no longer our parent")
    parser.add_argument("--timeout", type=float, default=120.0)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    landing = wait_for_service(args.probe.rstrip("/"), args.timeout, args.parent)
    if landing is None:
        return 1
    example = EXAMPLE_REQUEST if EXAMPLE_REQUEST.is_file() else None
    out.write("\n" + greeting(landing, args.base.rstrip("/"), example) + "\n")
    out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
