"""The static documentation site, built offline with MkDocs (``make docs``): the implementation guide and the
other docs of ``docs/``, the FHIR package's home, a page per resource (``site_pages``), each definition's JSON
and ``package.tgz`` itself, so that every canonical URL under ``NBCDS_FHIR_BASE`` resolves once the site is
published at ``NBCDS_PACKAGE_SITE_URL`` (docs/fhir-package.md, "Publishing").

The pages are staged in a temporary folder (``docs/`` is copied, the generated pages written beside it) and
built with MkDocs' own theme, strict: a link to a missing page or anchor fails the build. No plugin, no theme
from elsewhere, no asset from the network (the theme's highlight.js CDN is off).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.commands.build import build
from mkdocs.config import load_config

from fhir_package.contents import PackageContents, package_contents
from fhir_package.identity import NBCDS_PACKAGE_SITE_URL, NBCDS_PACKAGE_TITLE
from fhir_package.npm import package_files, tarball
from fhir_package.site_pages import FHIR_FOLDER, fhir_pages

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SITE_NAME = "neuroblastoma-cds"
#: Borders for the tables (the theme draws none) and room for long code.
STYLE = "nbcds.css"
_CSS = """table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.5em; vertical-align: top; }
td code { white-space: normal; word-break: break-word; }
"""
#: The docs in the navigation, in this order; any other page of docs/ follows, by name.
FIRST_DOCS = ("implementation-guide.md", "fhir-package.md", "ehr-integration.md", "architecture.md")


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].split(":")[0].strip()
    return path.stem.replace("-", " ").capitalize()


def _home(docs: list[Path]) -> str:
    """The site's home page: what the project is, and where everything is."""
    listed = "\n".join(f"- [{_title(path)}]({path.name})" for path in docs)
    return f"""# {SITE_NAME}

A CDS Hooks 2.0 service that assigns the INRG stage (INRGSS) and the pretreatment risk group (INRG 2009, COG 2021)
of a neuroblastoma from a child's FHIR R4 record, and answers with cards that carry the results as coded FHIR
Observations. This site is its documentation and the home of its FHIR artefacts.

- **[{NBCDS_PACKAGE_TITLE}]({FHIR_FOLDER}/index.md)**: the CodeSystems, ValueSets, profiles, the worksheet
  Questionnaire and the example patients, a page each, and `package.tgz`.
- **Documentation**:

{chr(10).join('  ' + line for line in listed.splitlines())}
"""


def site_docs() -> list[Path]:
    """The Markdown pages of docs/, in navigation order."""
    pages = sorted(DOCS.glob("*.md"))
    first = [DOCS / name for name in FIRST_DOCS if (DOCS / name).is_file()]
    return [*first, *(page for page in pages if page not in first)]


def stage(contents: PackageContents, staging: Path) -> list[Path]:
    """Write every page and file of the site's sources into ``staging``; returns the docs pages copied."""
    shutil.copytree(DOCS, staging, dirs_exist_ok=True)
    docs = site_docs()
    (staging / "index.md").write_text(_home(docs), encoding="utf-8")
    (staging / STYLE).write_text(_CSS, encoding="utf-8")
    for relative, text in fhir_pages(contents).items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for item in contents.conformance:  # each definition's JSON beside its page, as the canonical URL + .json
        path = staging / FHIR_FOLDER / item.resource_type / f"{item.id}.json"
        path.write_text(json.dumps(item.resource, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (staging / FHIR_FOLDER / "package.tgz").write_bytes(tarball(package_files(contents)))
    return docs


def mkdocs_config(staging: Path, out: Path, docs: list[Path]) -> dict[str, Any]:
    return {
        "site_name": SITE_NAME,
        "site_url": NBCDS_PACKAGE_SITE_URL,
        "docs_dir": str(staging),
        "site_dir": str(out.resolve()),
        "use_directory_urls": False,  # <base>/CodeSystem/idrf is the page fhir/CodeSystem/idrf.html
        "strict": True,
        "theme": {"name": "mkdocs", "highlightjs": False, "navigation_depth": 2},
        "nav": [{"Home": "index.md"}, {"Implementation guide": "implementation-guide.md"},
                {"FHIR package": f"{FHIR_FOLDER}/index.md"},
                {"Documentation": [{_title(path): path.name} for path in docs]}],
        "extra_css": [STYLE],
        "markdown_extensions": ["toc", "tables", "fenced_code"],
        "validation": {"links": {"not_found": "warn", "anchors": "warn", "absolute_links": "info",
                                 "unrecognized_links": "warn"},
                       "omitted_files": "info", "nav": {"omitted_files": "info"}},
        "plugins": [],
    }


def build_site(out: Path, contents: PackageContents | None = None) -> int:
    """Build the site into ``out`` (replaced); returns the number of HTML pages."""
    contents = contents or package_contents()
    with tempfile.TemporaryDirectory(prefix="nbcds-site-") as temporary:
        staging = Path(temporary) / "docs"
        docs = stage(contents, staging)
        config_file = Path(temporary) / "mkdocs.yml"
        config_file.write_text("site_name: placeholder\n", encoding="utf-8")
        config = load_config(str(config_file), **mkdocs_config(staging, out, docs))
        build(config)
    return sum(1 for _ in out.rglob("*.html"))
