"""The FHIR NPM package itself (FHIR specification, "NPM Package Specification"): a gzipped tarball with one
folder ``package/`` holding ``package.json``, one JSON file per resource and an ``.index.json``, and the examples
in ``package/example/`` with their own ``.index.json``.

The tarball is reproducible: entries sorted, every timestamp and owner fixed, so the same tables give the same
bytes (a diff of two builds is a diff of their content).
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fhir_package.contents import PackageContents, PackageResource
from fhir_package.identity import (
    NBCDS_PACKAGE_AUTHOR,
    NBCDS_PACKAGE_CANONICAL,
    NBCDS_PACKAGE_DEPENDENCIES,
    NBCDS_PACKAGE_DESCRIPTION,
    NBCDS_PACKAGE_FHIR_VERSION,
    NBCDS_PACKAGE_HOME,
    NBCDS_PACKAGE_ID,
    NBCDS_PACKAGE_LICENSE,
    NBCDS_PACKAGE_TITLE,
    NBCDS_PACKAGE_VERSION,
)
from fhir_package.implementation_guide import implementation_guide

Json = dict[str, Any]
#: The members of a resource that ``.index.json`` copies, when the resource has them (index-version 2).
INDEX_MEMBERS = ("id", "url", "version", "kind", "type", "supplements", "content")
#: Every file's modification time in the tarball (2025-01-01T00:00:00Z): fixed, for reproducible builds.
FIXED_MTIME = 1735689600


def package_json() -> Json:
    """``package/package.json``."""
    return {
        "name": NBCDS_PACKAGE_ID,
        "version": NBCDS_PACKAGE_VERSION,
        "canonical": NBCDS_PACKAGE_CANONICAL,
        "url": NBCDS_PACKAGE_HOME,
        "title": NBCDS_PACKAGE_TITLE,
        "description": NBCDS_PACKAGE_DESCRIPTION,
        "fhirVersions": [NBCDS_PACKAGE_FHIR_VERSION],
        "dependencies": dict(NBCDS_PACKAGE_DEPENDENCIES),
        "author": NBCDS_PACKAGE_AUTHOR,
        "license": NBCDS_PACKAGE_LICENSE,
        "type": "fhir.ig",
        "keywords": ["neuroblastoma", "INRG", "INRGSS", "COG", "risk group", "staging", "CDS Hooks", "mCODE"],
    }


def index_entry(filename: str, resource: Json) -> Json:
    entry: Json = {"filename": filename, "resourceType": resource["resourceType"]}
    entry.update({member: resource[member] for member in INDEX_MEMBERS if isinstance(resource.get(member), str)})
    return entry


def index(items: Iterable[tuple[str, Json]]) -> Json:
    """An ``.index.json`` for ``(filename, resource)`` pairs, by file name."""
    return {"index-version": 2, "files": [index_entry(name, resource) for name, resource in sorted(items)]}


def _dumps(document: Json) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def package_files(contents: PackageContents) -> dict[str, bytes]:
    """Path inside the tarball -> bytes, for every file of the package."""
    guide = PackageResource(implementation_guide(contents))
    definitions = (*contents.conformance, guide)
    files = {item.path: _dumps(item.resource) for item in (*definitions, *contents.examples)}
    if len(files) != len(definitions) + len(contents.examples):
        raise ValueError("two resources of the package have the same type and id")
    files["package/package.json"] = _dumps(package_json())
    files["package/.index.json"] = _dumps(index((item.filename, item.resource) for item in definitions))
    files["package/example/.index.json"] = _dumps(index((item.filename, item.resource) for item in contents.examples))
    return files


def tarball(files: dict[str, bytes]) -> bytes:
    """The gzipped tarball of ``files``: sorted, fixed times and owners."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), FIXED_MTIME, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(files[name]))
    return gzip.compress(raw.getvalue(), mtime=0)


def write_package(contents: PackageContents, out: Path) -> dict[str, bytes]:
    """Write ``out`` (package.tgz); returns the files it holds."""
    files = package_files(contents)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(tarball(files))
    return files


def read_package(path: Path) -> dict[str, bytes]:
    """The files of a package.tgz (for the tests and ``--check``)."""
    with tarfile.open(path, mode="r:gz") as archive:
        return {member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
                for member in archive.getmembers() if member.isfile()}
