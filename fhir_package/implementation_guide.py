"""The ImplementationGuide resource of the package: who it is, what it depends on, and every resource it holds
(an example names the profile it illustrates), as FHIR tools expect to find it beside ``package.json``."""

from __future__ import annotations

from typing import Any

from fhir_package.contents import PackageContents, PackageResource
from fhir_package.examples import profile_of
from fhir_package.identity import (
    NBCDS_PACKAGE_AUTHOR,
    NBCDS_PACKAGE_CANONICAL,
    NBCDS_PACKAGE_DEPENDENCIES,
    NBCDS_PACKAGE_DEPENDENCY_CANONICALS,
    NBCDS_PACKAGE_DESCRIPTION,
    NBCDS_PACKAGE_FHIR_VERSION,
    NBCDS_PACKAGE_ID,
    NBCDS_PACKAGE_IG_URL,
    NBCDS_PACKAGE_LICENSE,
    NBCDS_PACKAGE_NAME,
    NBCDS_PACKAGE_TITLE,
    NBCDS_PACKAGE_VERSION,
)

Json = dict[str, Any]


def _entry(item: PackageResource, contents: PackageContents) -> Json:
    entry: Json = {"reference": {"reference": item.key}, "name": item.title}
    description = item.resource.get("description")
    if isinstance(description, str) and description:
        entry["description"] = description
    if item.example:
        profile = profile_of(item.resource, contents.profiles)
        if profile is not None:
            entry["exampleCanonical"] = profile.url
        else:
            entry["exampleBoolean"] = True
    return entry


def implementation_guide(contents: PackageContents) -> Json:
    """The ImplementationGuide (R4) of the package."""
    depends_on = [{"id": package_id.replace(".", "_"), "uri": f"{NBCDS_PACKAGE_DEPENDENCY_CANONICALS[package_id]}"
                   f"/ImplementationGuide/{package_id}", "packageId": package_id, "version": version}
                  for package_id, version in NBCDS_PACKAGE_DEPENDENCIES.items()
                  if package_id in NBCDS_PACKAGE_DEPENDENCY_CANONICALS]
    return {
        "resourceType": "ImplementationGuide",
        "id": NBCDS_PACKAGE_ID,
        "url": NBCDS_PACKAGE_IG_URL,
        "version": NBCDS_PACKAGE_VERSION,
        "name": NBCDS_PACKAGE_NAME,
        "title": NBCDS_PACKAGE_TITLE,
        "status": "active",
        "experimental": False,
        "publisher": NBCDS_PACKAGE_AUTHOR,
        "description": NBCDS_PACKAGE_DESCRIPTION,
        "packageId": NBCDS_PACKAGE_ID,
        "license": NBCDS_PACKAGE_LICENSE,
        "fhirVersion": [NBCDS_PACKAGE_FHIR_VERSION],
        "dependsOn": depends_on,
        "definition": {
            "resource": [_entry(item, contents) for item in contents.resources],
            "page": {"nameUrl": f"{NBCDS_PACKAGE_CANONICAL}/index.html", "title": NBCDS_PACKAGE_TITLE,
                     "generation": "markdown"},
        },
    }
