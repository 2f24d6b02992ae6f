"""Who the package is and where it lives: every value is set here once, from ``NBCDS_FHIR_BASE``.

The FHIR NPM package's ``package.json``, the ImplementationGuide resource, every StructureDefinition and the
documentation site's configuration read these constants; none of them writes a URL of its own. Switching the
canonical base is a change to ``NBCDS_FHIR_BASE`` (``fhir_mappings/terminology/systems.py``) and nothing here.

The documentation site is published so that every canonical URL resolves: the FHIR base is a folder of the site
(``<site>/<folder>``, e.g. ``https://neuroblastoma-cds.github.io/`` and ``fhir``), so ``<base>/CodeSystem/idrf``
is the page ``<folder>/CodeSystem/idrf.html`` of the site (docs/fhir-package.md, "Publishing").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fhir_mappings.terminology.model import PUBLISHER, TERMINOLOGY_VERSION
from fhir_mappings.terminology.systems import NBCDS_FHIR_BASE

#: The package's canonical name (FHIR NPM package specification: two or more lowercase namespaces).
NBCDS_PACKAGE_ID = "nbcds.fhir.neuroblastoma"
#: The package version: the project's version, as every CodeSystem and ValueSet already carries it.
NBCDS_PACKAGE_VERSION = TERMINOLOGY_VERSION
#: The canonical base of every artefact in the package.
NBCDS_PACKAGE_CANONICAL = NBCDS_FHIR_BASE
NBCDS_PACKAGE_TITLE = "Neuroblastoma staging and risk (nbcds) FHIR package"
NBCDS_PACKAGE_NAME = "NeuroblastomaCds"  # computable name of the ImplementationGuide
NBCDS_PACKAGE_DESCRIPTION = (
    "CodeSystems, ValueSets and profiles of the neuroblastoma CDS service (nbcds): the Observations it reads "
    "to assign the INRG stage and the INRG 2009 and COG 2021 risk groups, the stage and risk Observations it "
    "writes (the stage on mCODE CancerStage), the IDRF worksheet Questionnaire, and example patients."
)
NBCDS_PACKAGE_AUTHOR = PUBLISHER
#: The project's licence (pyproject.toml ``license``), an SPDX identifier as package.json and the IG want it.
NBCDS_PACKAGE_LICENSE = "Apache-2.0"
NBCDS_PACKAGE_FHIR_VERSION = "4.0.1"
#: ``package.json`` dependencies: FHIR R4 itself, mCODE STU4 (the stage profile's base) and SDC (the worksheet
#: Questionnaire's declared profile).
NBCDS_PACKAGE_DEPENDENCIES: dict[str, str] = {
    "hl7.fhir.r4.core": "4.0.1",
    "hl7.fhir.us.mcode": "4.0.0",
    "hl7.fhir.uv.sdc": "3.0.0",
}
#: The canonical URL of each dependency's ImplementationGuide (``{canonical}/ImplementationGuide/{package id}``).
NBCDS_PACKAGE_DEPENDENCY_CANONICALS: dict[str, str] = {
    "hl7.fhir.us.mcode": "http://hl7.org/fhir/us/mcode",
    "hl7.fhir.uv.sdc": "http://hl7.org/fhir/uv/sdc",
}

_PARENT, _, NBCDS_PACKAGE_SITE_FOLDER = NBCDS_FHIR_BASE.rstrip("/").rpartition("/")
#: The documentation site's root URL: the canonical base's parent (MkDocs ``site_url``).
NBCDS_PACKAGE_SITE_URL = f"{_PARENT}/"
#: The ImplementationGuide's own page, where ``package.json``'s ``url`` points: the canonical base itself.
NBCDS_PACKAGE_HOME = NBCDS_FHIR_BASE
NBCDS_PACKAGE_IG_URL = f"{NBCDS_FHIR_BASE}/ImplementationGuide/{NBCDS_PACKAGE_ID}"

if not urlsplit(NBCDS_PACKAGE_SITE_URL).netloc or not NBCDS_PACKAGE_SITE_FOLDER:  # pragma: no cover - a bad edit
    raise ValueError(f"NBCDS_FHIR_BASE must be <site>/<folder>, e.g. https://host/fhir; got {NBCDS_FHIR_BASE!r}")


def canonical(resource_type: str, resource_id: str) -> str:
    """The canonical URL of one of the package's artefacts, e.g. ``<base>/StructureDefinition/inrgss-stage``."""
    return f"{NBCDS_FHIR_BASE}/{resource_type}/{resource_id}"
