"""Reading values in every form an EHR sends them, from resource dicts of any shape.

Forms: valueCodeableConcept, valueBoolean, valueQuantity, components, interpretation,
dataAbsentReason. A valueString alone is never interpreted (no free-text guessing); it is counted
as unrecognised.

Every function here is total over arbitrary JSON: the resources are read before they are validated
(validation.py says why), so an element of the wrong shape reads as absent, never as an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Set
from datetime import UTC, datetime
from typing import Any, TypeVar

from fhir_mappings.terminology.model import CodingKey
from fhir_mappings.terminology.systems import canonical_system, is_deprecated_alias
from fhir_mappings.terminology.value_sets import PRESENCE_BY_CODING
from neuroblastoma.facts import Presence

V = TypeVar("V")
Resource = dict[str, Any]

# HL7 v3 ObservationInterpretation: positive/detected vs negative/not detected.
_V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
_INTERPRETATION_PRESENCE = {
    (_V3_INTERPRETATION, "POS"): Presence.PRESENT,
    (_V3_INTERPRETATION, "DET"): Presence.PRESENT,
    (_V3_INTERPRETATION, "NEG"): Presence.ABSENT,
    (_V3_INTERPRETATION, "ND"): Presence.ABSENT,
    (_V3_INTERPRETATION, "IND"): Presence.UNKNOWN,
}


def codings(concept: Any) -> list[CodingKey]:
    """``(system, code)`` of every coding in a CodeableConcept (or a list of them), in order; a system under the
    deprecated base is read as the same system under the canonical one (``canonical_system``)."""
    found = []
    for item in concept if isinstance(concept, list) else [concept]:
        coding_list = item.get("coding") if isinstance(item, dict) else None
        for coding in coding_list if isinstance(coding_list, list) else []:
            if isinstance(coding, dict):
                system, code = coding.get("system"), coding.get("code")
                if system and code:
                    found.append((canonical_system(str(system)), str(code)))
    return found


def lookup(table: Mapping[CodingKey, V], concept: Any) -> V | None:
    """The value of the first coding of ``concept`` that ``table`` knows."""
    for key in codings(concept):
        value = table.get(key)
        if value is not None:
            return value
    return None


def any_coding_in(keys: Set[CodingKey], concept: Any) -> bool:
    return any(key in keys for key in codings(concept))


def well_formed_codings(concept: Any) -> list[CodingKey] | None:
    """``codings`` of a CodeableConcept read before validation: None when its shape is too broken to tell.

    Absent is no codings; a CodeableConcept must be an object whose ``coding`` is a list of objects with
    string ``system`` and ``code`` (each may be absent). Anything else is left to validation to report. The
    deprecated base is read as the canonical one, as in ``codings``.
    """
    if concept is None:
        return []
    if not isinstance(concept, dict):
        return None
    coding_list = concept.get("coding")
    if coding_list is None:
        return []
    if not isinstance(coding_list, list):
        return None
    keys = []
    for coding in coding_list:
        if not isinstance(coding, dict):
            return None
        system, code = coding.get("system"), coding.get("code")
        if not (system is None or isinstance(system, str)) or not (code is None or isinstance(code, str)):
            return None
        if system and code:
            keys.append((canonical_system(system), code))
    return keys


def uses_deprecated_base(concept: Any) -> bool:
    """True when a coding of the CodeableConcept is under the deprecated base (said in the data notes)."""
    coding_list = concept.get("coding") if isinstance(concept, dict) else None
    return isinstance(coding_list, list) and any(
        isinstance(coding, dict) and is_deprecated_alias(coding.get("system")) for coding in coding_list)


def presence_value(element: Resource) -> Presence | None:
    """present/absent/unknown from a resource or component; None when it carries no readable value."""
    if "dataAbsentReason" in element:
        return Presence.UNKNOWN
    boolean = element.get("valueBoolean")
    if isinstance(boolean, bool):
        return Presence.PRESENT if boolean else Presence.ABSENT
    coded = lookup(PRESENCE_BY_CODING, element.get("valueCodeableConcept"))
    if coded is not None:
        return coded
    return lookup(_INTERPRETATION_PRESENCE, element.get("interpretation"))


def quantity_value(element: Resource) -> float | None:
    """``valueQuantity.value`` as a float; None when there is no number."""
    quantity = element.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond the float range: outside every range a reader accepts
        return math.inf if value > 0 else -math.inf


def components(resource: Resource) -> dict[CodingKey, Resource]:
    """Components by each of their codings (the first component with a coding wins)."""
    found: dict[CodingKey, Resource] = {}
    component_list = resource.get("component")
    for component in component_list if isinstance(component_list, list) else []:
        if isinstance(component, dict):
            for key in codings(component.get("code")):
                found.setdefault(key, component)
    return found


def parse_fhir_datetime(text: Any) -> datetime | None:
    """A FHIR date or dateTime as an aware UTC datetime (partial dates at their start)."""
    if not isinstance(text, str) or len(text) < 4:
        return None
    try:
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=UTC)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def observed_at(resource: Resource) -> datetime | None:
    """When the finding applies: effective[x], else issued (for conflict resolution)."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if key in resource:
            return parse_fhir_datetime(resource[key])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict):
        return parse_fhir_datetime(period.get("start") or period.get("end"))
    return parse_fhir_datetime(resource.get("issued"))


def reference_target(reference: Any) -> str | None:
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        return reference["reference"]
    return None
