"""``GET /`` (issue 17): a small landing page instead of a 404 — HTML for people, JSON when asked.

It names the service, its version and rule set, lists the declared services and links to discovery, the OpenAPI
document, the SMART app and the docs (when configured). No external assets (a strict CSP), no JWT needed, nothing
about patients or the configuration, links never built from the request's ``Host``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cds_service.http.openapi_route import package_version
from cds_service.services import REGISTRY
from neuroblastoma.sources import RULESET_VERSION
from tests.cds_service.client_simulator import Reply, Service, running_service

DOCS = "https://docs.example.net/nbcds/"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path, docs_url=DOCS) as running:
        yield running


def get(service: Service, accept: str | None = None, host: str | None = None) -> Reply:
    headers = {k: v for k, v in (("Accept", accept), ("Host", host)) if v is not None}
    return service.client().transport.send("GET", "/", headers, None)


class _Page(HTMLParser):
    """The parts an accessibility and safety review looks at."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(body: bytes) -> _Page:
    page = _Page()
    page.feed(body.decode("utf-8"))
    return page


def test_a_browser_gets_an_accessible_page_without_external_assets(service: Service) -> None:
    reply = get(service, "text/html,application/xhtml+xml,*/*;q=0.8")
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    page = parsed(reply.body)
    tags = [tag for tag, _ in page.tags]
    assert ("html", {"lang": "en"}) in page.tags
    assert tags.count("h1") == 1 and "main" in tags and "title" in tags
    assert all(attrs.get("scope") == "col" for tag, attrs in page.tags if tag == "th")
    assert not {"script", "img", "link", "iframe", "form"} & set(tags)  # nothing loaded from anywhere
    text = " ".join(page.text)
    assert package_version() in text and RULESET_VERSION in text
    for declared in REGISTRY:
        assert declared.id in text
    hrefs = [attrs["href"] for tag, attrs in page.tags if tag == "a"]
    assert hrefs == ["https://localhost/cds-services", "https://localhost/openapi.json",
                     "https://localhost/app/launch", DOCS]  # on NBCDS_PUBLIC_BASE_URL
    csp = reply.header("Content-Security-Policy") or ""
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp)  # the one inline style, by its hash
    assert reply.header("Vary") == "Accept"


def test_json_when_asked(service: Service) -> None:
    reply = get(service, "application/json")
    assert reply.status == 200 and reply.header("Content-Type") == "application/json"
    body = reply.json
    assert body["name"] == "neuroblastoma-cds" and body["version"] == package_version()
    assert body["ruleset"] == RULESET_VERSION and body["cdsHooks"] == "2.0"
    assert [s["id"] for s in body["services"]] == [s.id for s in REGISTRY]
    assert {link["rel"]: link["href"] for link in body["links"]} == {
        "discovery": "https://localhost/cds-services", "openapi": "https://localhost/openapi.json",
        "app": "https://localhost/app/launch", "docs": DOCS}
    assert set(body["services"][0]) == {"id", "hook", "title"}  # no prefetch templates, nothing configured


def test_no_jwt_is_needed_and_the_host_header_changes_no_link(service: Service) -> None:
    reply = get(service, "application/json", host="evil.example.net")  # the test client sends no JWT here
    assert reply.status == 200
    assert "evil.example.net" not in reply.body.decode()


def test_links_are_root_relative_without_a_public_base_url(tmp_path: Path) -> None:
    with running_service(tmp_path, public_base_url=None, profile="development", require_jwt=False) as service:
        body = get(service, "application/json").json
    hrefs = {link["rel"]: link["href"] for link in body["links"]}
    assert hrefs == {"discovery": "/cds-services", "openapi": "/openapi.json", "app": "/app/launch"}
