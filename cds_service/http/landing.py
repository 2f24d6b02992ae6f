"""``GET /``: a small landing page (HTML for people, JSON with ``Accept: application/json``).

The page needs nothing from elsewhere: one inline style, allowed by its hash in a strict Content-Security-Policy
(no scripts, no frames, no forms). Links are absolute on ``NBCDS_PUBLIC_BASE_URL`` when it is set (behind a proxy
with a path prefix), root-relative otherwise: never built from the request's ``Host``.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from flask import Blueprint, Response, current_app, request

from cds_service.http.openapi_route import package_version
from cds_service.http.runtime import runtime
from cds_service.protocol.landing import Landing, landing
from neuroblastoma.sources import RULESET_VERSION

home = Blueprint("landing", __name__)

_STYLE = ("body{font:1rem/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
          "color:#1b1b1b;background:#fff}table{border-collapse:collapse;margin:.5rem 0}"
          "th,td{text-align:left;padding:.3rem 1rem .3rem 0;border-bottom:1px solid #bbb;vertical-align:top}"
          "caption{text-align:left;font-weight:600}a{color:#0b4fa8}code{font-size:.95em}")
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
CSP = (f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")


def _content() -> Landing:
    settings = runtime().settings
    return landing(runtime().registry, version=package_version(), ruleset=RULESET_VERSION,
                   base=settings.public_base_url or "", app="smart_app" in current_app.blueprints,
                   docs_url=settings.docs_url)


def render_html(page: Landing) -> str:
    rows = "".join(f"<tr><td><code>{escape(s.id)}</code></td><td><code>{escape(s.hook)}</code></td>"
                   f"<td>{escape(s.title)}</td></tr>" for s in page.services)
    links = "".join(f'<li><a href="{escape(link.href)}">{escape(link.title)}</a> '
                    f"<code>{escape(link.href)}</code></li>" for link in page.links)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(page.title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{escape(page.title)}</h1>\n<p>{escape(page.summary)}</p>\n"
        f"<p>Version <strong>{escape(page.version)}</strong>, rule set <strong>{escape(page.ruleset)}</strong>, "
        f"CDS Hooks {escape(page.cdsHooks)}.</p>\n"
        "<h2>Services</h2>\n<table>\n<caption>Declared in the discovery document</caption>\n"
        '<thead><tr><th scope="col">id</th><th scope="col">hook</th><th scope="col">title</th></tr></thead>\n'
        f"<tbody>{rows}</tbody>\n</table>\n"
        f"<h2>Links</h2>\n<ul>{links}</ul>\n</main>\n</body>\n</html>\n"
    )


@home.get("/")
def landing_page() -> Response:
    page = _content()
    wants = request.accept_mimetypes.best_match(["text/html", "application/json"], default="text/html")
    if wants == "application/json":
        response = Response(page.model_dump_json(), content_type="application/json")
    else:
        response = Response(render_html(page), content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Vary"] = "Accept"
    return response
