"""Build the FHIR package (``make package``) or the documentation site (``make docs``).

    python -m fhir_package                      # dist/package.tgz
    python -m fhir_package --out PATH           # elsewhere
    python -m fhir_package site [--out site]    # the static documentation site (MkDocs), offline
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from fhir_package.contents import package_contents
from fhir_package.identity import NBCDS_PACKAGE_CANONICAL, NBCDS_PACKAGE_ID, NBCDS_PACKAGE_VERSION
from fhir_package.npm import write_package

ROOT = Path(__file__).resolve().parents[1]


def _package(out: Path) -> int:
    contents = package_contents()
    files = write_package(contents, out)
    kinds = Counter(item.resource_type for item in contents.conformance)
    listed = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
    print(f"{out}: {NBCDS_PACKAGE_ID}#{NBCDS_PACKAGE_VERSION} ({NBCDS_PACKAGE_CANONICAL}), {out.stat().st_size:,} "
          f"bytes, {len(files)} files")
    print(f"  {listed}, 1 ImplementationGuide")
    print(f"  {len(contents.examples)} example resources of {len(contents.patients)} example patients")
    return 0


def _site(out: Path) -> int:
    from mkdocs.exceptions import Abort  # MkDocs only when the site is built

    from fhir_package.site_build import build_site

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")  # MkDocs' warnings, named
    try:
        pages = build_site(out)
    except Abort as error:  # strict: a broken link or anchor (the warnings above name it)
        print(f"the site was not built: {error}", file=sys.stderr)
        return 1
    print(f"{out}: {pages} pages (open {out / 'index.html'})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fhir_package", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", choices=("package", "site"), default="package")
    parser.add_argument("--out", type=Path, help="package.tgz, or the site's folder (default dist/package.tgz, site)")
    args = parser.parse_args(argv)
    if args.what == "site":
        return _site(args.out or ROOT / "site")
    return _package(args.out or ROOT / "dist" / "package.tgz")


if __name__ == "__main__":
    sys.exit(main())
