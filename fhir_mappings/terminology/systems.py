"""Code system URLs: the standard ones we read and write, and the one canonical base of our own.

Every URL here was checked against the HL7 implementation guides we follow (mCODE
``input/fsh/AL_CodeSystems.fsh``, Genomics Reporting ``input/fsh/Aliases.fsh``); see the note
on each. Our own CodeSystems and ValueSets all live under ``NBCDS_FHIR_BASE``, so a deployment
can tell at a glance which codes are ours and which belong to a standards body.
"""

from __future__ import annotations

# ---- Ours -------------------------------------------------------------------------------------

#: The single canonical base of every CodeSystem, ValueSet and profile this project publishes: a folder of the
#: project's documentation site, where the FHIR package and a page per resource are published (``make docs``), so
#: every canonical URL resolves. Changing it is this line plus the generators (``docs/fhir-package.md``).
NBCDS_FHIR_BASE = "https://neuroblastoma-cds.github.io/fhir"
NBCDS_CODE_SYSTEM_BASE = f"{NBCDS_FHIR_BASE}/CodeSystem"
NBCDS_VALUE_SET_BASE = f"{NBCDS_FHIR_BASE}/ValueSet"

#: The placeholder base used before the project had a published home, now a deprecated alias: data coded under
#: it is still read, each code as the same code under ``NBCDS_FHIR_BASE`` (the codes never changed), with a data
#: note counting the resources. Nothing is written under it. Implementation guide, section 1, "The canonical base
#: and its deprecated alias".
NBCDS_DEPRECATED_FHIR_BASE = "https://nbcds.example.org/fhir"
_DEPRECATED_PREFIX = f"{NBCDS_DEPRECATED_FHIR_BASE}/"


def code_system_url(name: str) -> str:
    """The canonical URL of our CodeSystem ``name``, e.g. ``.../CodeSystem/idrf``."""
    return f"{NBCDS_CODE_SYSTEM_BASE}/{name}"


def value_set_url(name: str) -> str:
    """The canonical URL of our ValueSet ``name``, e.g. ``.../ValueSet/metastatic-site``."""
    return f"{NBCDS_VALUE_SET_BASE}/{name}"


def canonical_system(system: str) -> str:
    """``system`` as the service reads it: under the deprecated alias, the same path under ``NBCDS_FHIR_BASE``."""
    if system.startswith(_DEPRECATED_PREFIX):
        return NBCDS_FHIR_BASE + system[len(NBCDS_DEPRECATED_FHIR_BASE):]
    return system


def is_deprecated_alias(system: object) -> bool:
    """True for a system under the deprecated placeholder base (``NBCDS_DEPRECATED_FHIR_BASE``)."""
    return isinstance(system, str) and system.startswith(_DEPRECATED_PREFIX)


def is_ours(system: str) -> bool:
    """True when ``system`` is one of our own CodeSystems (never a standards body's)."""
    return system.startswith(f"{NBCDS_CODE_SYSTEM_BASE}/")


# ---- Standard terminologies (HL7 canonical URLs) ---------------------------------------------

#: SNOMED CT (mCODE AL_CodeSystems.fsh ``SCT``).
SNOMED = "http://snomed.info/sct"
#: LOINC (mCODE ``LNC``; Genomics Reporting ``$LNC``).
LOINC = "http://loinc.org"
#: NCI Thesaurus. mCODE notes this HL7 Terminology Authority URL conflicts with terminology.hl7.org
#: but uses it (``NCI`` alias); Genomics Reporting uses the same (``$NCIT``).
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
#: ICD-10-CM (mCODE ``ICD10CM``).
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
#: ICD-O-3 morphology and topography (mCODE ``ICDO3``).
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
#: HGNC gene IDs as Genomics Reporting STU1-3 and most lab feeds code them.
HGNC = "http://www.genenames.org/geneId"
#: HGNC as mCODE (``HGNC``) and Genomics Reporting HEAD (``$HGNCID``) now spell it; read both.
HGNC_THO = "http://www.genenames.org"
#: UCUM units (mCODE ``UCUM``).
UCUM = "http://unitsofmeasure.org"
#: HL7 DataAbsentReason (terminology.hl7.org; R4 binding of ``Observation.dataAbsentReason``).
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: HL7 Observation category (mCODE ``ObsCat``).
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

STANDARD_SYSTEMS: frozenset[str] = frozenset({
    SNOMED, LOINC, NCIT, ICD10CM, ICDO3, HGNC, HGNC_THO, UCUM, DATA_ABSENT_REASON, OBSERVATION_CATEGORY,
})
