"""Conditions: which one is the neuroblastoma, its diagnosis date or age at onset, and metastases.

Guide sections 5 and 7. Everything here reads a Condition of any shape without raising.
"""

from __future__ import annotations

from typing import Any

from fhir_mappings.reading.findings import Finding, FindingKey, FindingKind, SiteStatus, UnreadableValueError
from fhir_mappings.reading.values import any_coding_in, codings, lookup, parse_fhir_datetime, well_formed_codings
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.model import CodingKey
from neuroblastoma.ages import PartialDate
from neuroblastoma.anatomy import Laterality, NodalRegion
from neuroblastoma.case import MetastaticSite, NodalFinding
from neuroblastoma.facts import Presence

Resource = dict[str, Any]
MCODE_HISTOLOGY_EXTENSION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
# Codes the rules read: a Condition with none of them is reported unrecognised, unvalidated.
READ_CONDITION_CODINGS: frozenset[CodingKey] = (
    vs.NEUROBLASTOMA_CONDITION_CODINGS | frozenset(vs.HISTOLOGY_CANDIDATES_BY_CODING) | vs.SECONDARY_NEOPLASM_CODINGS)


def _histology_concepts(extensions: Any) -> list[Any]:
    """The mCODE histology-morphology extensions' CodeableConcepts."""
    return [extension.get("valueCodeableConcept") for extension in (extensions if isinstance(extensions, list) else [])
            if isinstance(extension, dict) and extension.get("url") == MCODE_HISTOLOGY_EXTENSION]


def is_unread_condition(condition: Resource) -> bool:
    """True when, from the unvalidated resource, no code or histology extension names anything the rules
    read; False when one does or when their shape is too broken to tell (validation then reports it)."""
    extensions = condition.get("extension")
    if extensions is not None and not isinstance(extensions, list):
        return False
    keys: list[CodingKey] = []
    for concept in (condition.get("code"), *_histology_concepts(extensions)):
        found = well_formed_codings(concept)
        if found is None:
            return False
        keys += found
    return not any(key in READ_CONDITION_CODINGS for key in keys)


def is_neuroblastoma(condition: Resource) -> bool:
    concepts = [condition.get("code"), *_histology_concepts(condition.get("extension"))]
    return any(key in vs.NEUROBLASTOMA_CONDITION_CODINGS or key in vs.HISTOLOGY_CANDIDATES_BY_CODING
               for concept in concepts for key in codings(concept))


def is_secondary_neoplasm(condition: Resource) -> bool:
    return any_coding_in(vs.SECONDARY_NEOPLASM_CODINGS, condition.get("code"))


def is_histology_only(condition: Resource) -> bool:
    """The Condition names a neuroblastic histology (ICD-O-3) but no neuroblastoma diagnosis code, and its
    morphology code does not tell which INPC category it is."""
    keys = codings(condition.get("code"))
    return not any(key in vs.NEUROBLASTOMA_CONDITION_CODINGS for key in keys) and any(
        len(vs.HISTOLOGY_CANDIDATES_BY_CODING.get(key, frozenset())) > 1 for key in keys)


def verification_status(condition: Resource) -> str:
    keys = codings(condition.get("verificationStatus"))
    return keys[0][1] if keys else "confirmed"


def partial_date(text: Any) -> PartialDate | None:
    if not isinstance(text, str):
        return None
    try:
        return PartialDate.parse(text)
    except ValueError:
        return None


def onset_date(condition: Resource) -> PartialDate | None:
    """The onset as a date: ``onsetDateTime`` or ``onsetPeriod.start``."""
    onset = condition.get("onsetDateTime")
    period = condition.get("onsetPeriod")
    if onset is None and isinstance(period, dict):
        onset = period.get("start")
    return partial_date(onset)


def diagnosis_date(condition: Resource) -> PartialDate | None:
    """Onset (dateTime or Period start), else recordedDate (product decision 1)."""
    return onset_date(condition) or partial_date(condition.get("recordedDate"))


def onset_age_days(condition: Resource) -> tuple[int, int] | None:
    """Condition.onsetAge as an interval of days: "14 mo" is any day of the 15th month of life.

    Condition.onsetRange (an age range) is read as every day from its low age to its high age; an
    open-ended range leaves the age unknown.
    """
    onset_range = condition.get("onsetRange")
    if "onsetAge" not in condition and isinstance(onset_range, dict):
        low, high = _age_days(onset_range.get("low")), _age_days(onset_range.get("high"))
        return (low[0], high[1]) if low and high and low[0] <= high[1] else None
    return _age_days(condition.get("onsetAge"))


_DAYS_PER_UNIT = {"d": 1.0, "wk": 7.0, "mo": 365.25 / 12, "a": 365.25}


def _age_days(age: Any) -> tuple[int, int] | None:
    """One Age quantity (d, wk, mo, a) as the interval of days it covers; None if it is not one."""
    if not isinstance(age, dict) or not isinstance(age.get("value"), int | float):
        return None
    unit = age.get("code") or age.get("unit")
    if not isinstance(unit, str) or unit not in _DAYS_PER_UNIT:
        return None
    try:
        value = float(age["value"])
        if unit == "d":
            return int(value), int(value)
        days = _DAYS_PER_UNIT[unit]
        return int(value * days), int((int(value) + 1) * days) - 1
    except (OverflowError, ValueError):  # a number too large for a float, infinite or NaN: no age
        return None


_CONDITION_PRESENCE = {"confirmed": Presence.PRESENT, "refuted": Presence.ABSENT}


def metastasis_finding(condition: Resource, source: str, position: int) -> Finding:
    """A secondary-neoplasm Condition: the site from its code or bodySite, presence from verification."""
    status = verification_status(condition)
    presence = _CONDITION_PRESENCE.get(status, Presence.UNKNOWN)  # provisional/differential/unconfirmed
    at = parse_fhir_datetime(condition.get("recordedDate") or condition.get("onsetDateTime"))
    code, body_site = condition.get("code"), condition.get("bodySite")
    if any_coding_in(vs.LYMPH_NODE_CODINGS, code) or any_coding_in(vs.LYMPH_NODE_CODINGS, body_site):
        region = lookup(vs.NODAL_REGION_BY_CODING, code) or lookup(vs.NODAL_REGION_BY_CODING, body_site)
        if region is None or region is NodalRegion.OTHER:
            node_status = Presence.UNKNOWN if presence is Presence.PRESENT else presence
            return Finding(FindingKey(FindingKind.SITE, MetastaticSite.DISTANT_LYMPH_NODE),
                           SiteStatus(node_status, False), source, at, False, position)
        node = NodalFinding(region, presence, lookup(vs.LATERALITY_BY_CODING, body_site) or Laterality.UNKNOWN)
        return Finding(FindingKey(FindingKind.NODE, (region, node.side)), node, source, at, False, position)
    site = lookup(vs.METASTATIC_SITE_BY_CODING, body_site) or lookup(vs.METASTATIC_SITE_BY_CODING, code)
    if site is None:
        raise UnreadableValueError("metastatic site not recognised")
    equivocal = status in ("provisional", "differential", "unconfirmed")
    return Finding(FindingKey(FindingKind.SITE, site), SiteStatus(presence, equivocal), source, at, False, position)
