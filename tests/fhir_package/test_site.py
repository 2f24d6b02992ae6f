"""`make docs`: the static documentation site, built offline with MkDocs, has the docs, the package's home, a
page per definition (its JSON beside it), a section per example resource, and no link or anchor that leads
nowhere (docs/fhir-package.md, "The documentation site")."""

from __future__ import annotations

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from fhir_package.contents import PackageContents, package_contents
from fhir_package.npm import package_files, tarball
from fhir_package.site_build import build_site
from fhir_package.site_pages import FHIR_FOLDER, anchor

ROOT = Path(__file__).resolve().parents[2]


class _Page(HTMLParser):
    """The ids a page defines and the links and assets it names."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("id", "name"):
            if found.get(name) and (name == "id" or tag == "a"):
                self.ids.add(str(found[name]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        if tag in ("script", "img") and found.get("src"):
            self.assets.append(str(found["src"]))
        if tag == "link" and found.get("href") and found.get("rel") != "canonical":  # the page's own address
            self.assets.append(str(found["href"]))


@pytest.fixture(scope="module")
def contents() -> PackageContents:
    return package_contents()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, contents: PackageContents) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    assert build_site(out, contents) > 100
    return out


@pytest.fixture(scope="module")
def pages(site: Path) -> dict[Path, _Page]:
    parsed = {}
    for path in site.rglob("*.html"):
        page = _Page()
        page.feed(path.read_text(encoding="utf-8"))
        parsed[path] = page
    return parsed


def test_every_definition_has_its_page_and_its_json(site: Path, contents: PackageContents) -> None:
    for item in contents.conformance:
        folder = site / FHIR_FOLDER / item.resource_type
        assert (folder / f"{item.id}.html").is_file(), item.key
        assert json.loads((folder / f"{item.id}.json").read_text(encoding="utf-8")) == item.resource


def test_every_example_resource_has_its_section_on_its_patients_page(pages: dict[Path, _Page], site: Path,
                                                                      contents: PackageContents) -> None:
    for item in contents.examples:
        page = pages[site / FHIR_FOLDER / "example" / f"{item.patient}.html"]
        assert anchor(item) in page.ids, item.key


def test_the_docs_the_home_pages_and_the_package_are_there(site: Path, contents: PackageContents) -> None:
    for doc in (ROOT / "docs").glob("*.md"):
        assert (site / f"{doc.stem}.html").is_file(), doc.name
    assert (site / "index.html").is_file() and (site / FHIR_FOLDER / "index.html").is_file()
    assert (site / FHIR_FOLDER / "package.tgz").read_bytes() == tarball(package_files(contents))
    assert "neuroblastoma-cds.github.io" in (site / "sitemap.xml").read_text(encoding="utf-8")


def test_every_internal_link_and_anchor_resolves(site: Path, pages: dict[Path, _Page]) -> None:
    broken = []
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            base = site if parts.path.startswith("/") else path.parent  # 404.html links from the site's root
            target = (base / unquote(parts.path.lstrip("/"))).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)} -> {link}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in pages[target].ids:
                broken.append(f"{path.relative_to(site)} -> {link} (no such anchor)")
    assert not broken, broken[:20]
    assert sum(len(page.links) for page in pages.values()) > 1000


def test_the_site_loads_nothing_from_the_network(pages: dict[Path, _Page]) -> None:
    remote = {asset for page in pages.values() for asset in page.assets if urlsplit(asset).scheme}
    assert not remote


def test_the_built_site_and_package_are_never_committed() -> None:
    ignored = subprocess.run(["git", "check-ignore", "site/index.html", "dist/package.tgz", "package.tgz"],
                             cwd=ROOT, capture_output=True, text=True, check=False)
    assert ignored.stdout.split() == ["site/index.html", "dist/package.tgz", "package.tgz"]
