"""One ``Finding`` per fact a resource reports, with its source: the unit of provenance and conflict.

Each reader (``READER_BY_CODING``, by Observation.code) turns one Observation into the one fact it
reports, keyed by what it is about (``mycn``, ``idrf:IDRF-15``, ``site:liver`` ...); the case reader adds
its source and time to make the ``Finding``. Readers run before validation (the case reader validates
an Observation when the conflict rule needs it), so they must not trust shapes: a shape error makes the
case reader validate at once. A secondary-neoplasm Condition gives its finding the same way. Two
findings with the same key compete; ``conflicts.py`` decides which wins. A reader raises
``UnreadableValueError`` when the value is not in a form or code we accept — the resource is then
counted, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from fhir_mappings.reading.values import (
    any_coding_in,
    codings,
    components,
    lookup,
    presence_value,
    quantity_value,
)
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.model import CodingKey
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING
from fhir_mappings.terminology.observation_kinds import ObservationKind as K
from fhir_mappings.terminology.value_sets import ImagingTarget
from neuroblastoma.anatomy import Compartment, Laterality, NodalRegion
from neuroblastoma.biology import MycnStatus
from neuroblastoma.case import (
    Effusion,
    FactKey,
    MarrowMethod,
    MetastaticSite,
    NodalFinding,
    TumourExtension,
)
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode, IdrfFinding, SpinalCanalFinding

Resource = dict[str, Any]
FINAL_STATUSES = frozenset({"final", "amended", "corrected"})
PRELIMINARY_STATUSES = frozenset({"preliminary", "unknown"})


class UnreadableValueError(Exception):
    """The resource's value is in no form or code this service accepts."""


class Finding(NamedTuple):
    """One fact one resource reports (immutable; a named tuple: a chart gives dozens per call)."""

    key: str
    fact: FactKey
    value: Any
    source: str
    at: datetime | None
    preliminary: bool = False


# The values of findings are immutable records. PrimarySite, SiteStatus and MarrowReading are named
# tuples rather than frozen dataclasses: a chart gives dozens per call, and competing findings compare
# their values (conflicts.py), both several times cheaper for a tuple. Findings of one key always hold
# values of one type, so tuple equality is the equality wanted.


class PrimarySite(NamedTuple):
    compartment: Compartment | None
    side: Laterality


class SiteStatus(NamedTuple):
    presence: Presence
    equivocal: bool


class MarrowReading(NamedTuple):
    presence: Presence | None
    percent: float | None
    method: MarrowMethod


def _obs_key(code: str) -> tuple[str, str]:
    return OBSERVATION_CODES.code(code).key


# The component codes the readers look for, resolved once.
_LATERALITY = _obs_key("laterality")
_STRUCTURE_KIND = _obs_key("idrf-structure-kind")
_STRUCTURE_RELATION = _obs_key("idrf-structure-relation")
_SPINAL_CANAL_FRACTION = _obs_key("idrf-spinal-canal-fraction")
_SPINAL_CANAL_OVER_ONE_THIRD = _obs_key("idrf-spinal-canal-over-one-third")
_LEPTOMENINGEAL_SPACES_OBLITERATED = _obs_key("idrf-leptomeningeal-spaces-obliterated")
_CORD_SIGNAL_ABNORMAL = _obs_key("idrf-cord-signal-abnormal")
_SPINAL_PARTS = (_SPINAL_CANAL_FRACTION, _SPINAL_CANAL_OVER_ONE_THIRD, _LEPTOMENINGEAL_SPACES_OBLITERATED,
                 _CORD_SIGNAL_ABNORMAL)
_COMPARTMENT = _obs_key("compartment")
_CONTIGUOUS = _obs_key("contiguous")
_NODAL_REGION = _obs_key("nodal-region")
_METASTATIC_SITE_CODE = _obs_key("metastatic-site-code")
_EFFUSION_MALIGNANT_CELLS = _obs_key("effusion-malignant-cells")


def _side(resource: Resource, parts: dict[CodingKey, Resource] | None = None) -> Laterality:
    """Laterality from the laterality component, else bodySite (``parts``: the components, if at hand)."""
    component = (components(resource) if parts is None else parts).get(_LATERALITY)
    side = lookup(vs.LATERALITY_BY_CODING, component.get("valueCodeableConcept")) if component else None
    if side is None:
        side = lookup(vs.LATERALITY_BY_CODING, resource.get("bodySite"))
    return side or Laterality.UNKNOWN


def _presence(resource: Resource) -> Presence:
    value = presence_value(resource)
    if value is None:
        raise UnreadableValueError("no present/absent value")
    return value


def _coded(table: Any, resource: Resource) -> Any:
    value = lookup(table, resource.get("valueCodeableConcept"))
    if value is None:
        raise UnreadableValueError("value code not recognised")
    return value


def _part_presence(part: Resource | None) -> Presence:
    return (presence_value(part) or Presence.UNKNOWN) if part else Presence.UNKNOWN


def _equivocal(resource: Resource) -> bool:
    interpretation = resource.get("interpretation")
    return bool(interpretation) and any_coding_in(vs.EQUIVOCAL_CODINGS, interpretation)


def _presence_or_equivocal(resource: Resource, equivocal: bool) -> Presence:
    """The reported value, kept with the equivocal flag: the rules decide what an equivocal focus means
    (metastatic_spread: unknown unless absent; an equivocal scan negative in bone and marrow points
    elsewhere). An equivocal focus needs no value."""
    if equivocal:
        return presence_value(resource) or Presence.UNKNOWN
    return _presence(resource)


Fact = tuple[str, FactKey, Any]  # (finding key, the case fact it feeds, value)
# A reader gives the one fact an Observation reports, or None when it reports nothing to use.
Reader = Callable[[Resource], Fact | None]


def _primary_site(resource: Resource) -> Fact | None:
    compartment = lookup(vs.COMPARTMENT_BY_CODING, resource.get("valueCodeableConcept"))
    if compartment is None:
        compartment = lookup(vs.COMPARTMENT_BY_CODING, resource.get("bodySite"))
    if compartment is None:
        raise UnreadableValueError("primary tumour compartment not recognised")
    site = PrimarySite(compartment, _side(resource))
    return (f"primary:{compartment.value}:{site.side.value}", FactKey.PRIMARY_TUMOUR, site)


def _spinal(parts: dict[CodingKey, Resource]) -> SpinalCanalFinding | None:
    """The spinal canal measurements of an IDRF Observation's components, None when it has none."""
    if not any(key in parts for key in _SPINAL_PARTS):
        return None
    fraction_part = parts.get(_SPINAL_CANAL_FRACTION)
    fraction = quantity_value(fraction_part) if fraction_part else None
    if fraction is not None and not 0 <= fraction <= 1:
        raise UnreadableValueError("spinal canal fraction must be between 0 and 1")
    return SpinalCanalFinding(fraction, _part_presence(parts.get(_SPINAL_CANAL_OVER_ONE_THIRD)),
                              _part_presence(parts.get(_LEPTOMENINGEAL_SPACES_OBLITERATED)),
                              _part_presence(parts.get(_CORD_SIGNAL_ABNORMAL)))


def _idrf(resource: Resource) -> Fact | None:
    code = lookup(vs.IDRF_BY_CODING, resource.get("code"))
    assert isinstance(code, IdrfCode)  # noqa: S101 - the kind lookup guarantees an IDRF code
    parts = components(resource)
    kind_part = parts.get(_STRUCTURE_KIND)
    relation_part = parts.get(_STRUCTURE_RELATION)
    structure = lookup(vs.STRUCTURE_KIND_BY_CODING, kind_part.get("valueCodeableConcept")) if kind_part else None
    relation = (lookup(vs.STRUCTURE_RELATION_BY_CODING, relation_part.get("valueCodeableConcept"))
                if relation_part else None)
    status = presence_value(resource)
    spinal = _spinal(parts)
    if status is None and relation is None and spinal is None:
        raise UnreadableValueError("IDRF without a call or a relation")
    finding = IdrfFinding(code, status or Presence.UNKNOWN, structure, relation, spinal)
    return (f"idrf:{code.value}", FactKey.IDRF, finding)


def _extension(resource: Resource) -> Fact | None:
    parts = components(resource)
    part = parts.get(_COMPARTMENT)
    compartment = lookup(vs.COMPARTMENT_BY_CODING, part.get("valueCodeableConcept")) if part else None
    if compartment is None:
        compartment = lookup(vs.COMPARTMENT_BY_CODING, resource.get("bodySite"))
    if compartment is None:
        raise UnreadableValueError("extension compartment not recognised")
    contiguous = _part_presence(parts.get(_CONTIGUOUS))
    if presence_value(resource) is Presence.ABSENT:
        return None  # "no extension into X" is the default
    extension = TumourExtension(compartment, _side(resource, parts), contiguous)
    return (f"extension:{compartment.value}:{extension.side.value}", FactKey.EXTENSION, extension)


def _node(resource: Resource) -> Fact | None:
    parts = components(resource)
    part = parts.get(_NODAL_REGION)
    region = lookup(vs.NODAL_REGION_BY_CODING, part.get("valueCodeableConcept")) if part else None
    region = region or lookup(vs.NODAL_REGION_BY_CODING, resource.get("bodySite"))
    presence = _presence(resource)
    if region is None:
        # Region unknown: regional versus distant cannot be told, so distant spread stays unknown.
        status = Presence.UNKNOWN if presence is Presence.PRESENT else presence
        return ("site:distant-lymph-node", FactKey.METASTASES, SiteStatus(status, False))
    node = NodalFinding(region, presence, _side(resource, parts))
    return (f"node:{region.value}:{node.side.value}", FactKey.LYMPH_NODES, node)


def _site(resource: Resource) -> Fact | None:
    part = components(resource).get(_METASTATIC_SITE_CODE)
    site = lookup(vs.METASTATIC_SITE_BY_CODING, part.get("valueCodeableConcept")) if part else None
    site = site or lookup(vs.METASTATIC_SITE_BY_CODING, resource.get("bodySite"))
    if site is None:
        raise UnreadableValueError("metastatic site not recognised")
    equivocal = _equivocal(resource)
    presence = _presence_or_equivocal(resource, equivocal)
    return (f"site:{site.value}", FactKey.METASTASES, SiteStatus(presence, equivocal))


def _marrow_method(resource: Resource) -> MarrowMethod:
    return lookup(vs.MARROW_METHOD_BY_CODING, resource.get("method")) or MarrowMethod.UNKNOWN


def _marrow_involvement(resource: Resource) -> Fact | None:
    reading = MarrowReading(_presence(resource), None, _marrow_method(resource))
    return ("marrow-involvement", FactKey.BONE_MARROW, reading)


def _marrow_percent(resource: Resource) -> Fact | None:
    percent = quantity_value(resource)
    if percent is None or not 0 <= percent <= 100:
        raise UnreadableValueError("marrow tumour-cell percentage must be a quantity from 0 to 100")
    return ("marrow-percent", FactKey.BONE_MARROW, MarrowReading(None, percent, _marrow_method(resource)))


# Functional-imaging Observation.code coding -> the key of its finding (``imaging:<modality>:<tissue>``).
_IMAGING_KEY_BY_CODING: dict[CodingKey, str] = {
    coding: f"imaging:{modality.value}:{'bone' if target is ImagingTarget.BONE else 'bone-marrow'}"
    for coding, (modality, target) in vs.FUNCTIONAL_IMAGING_BY_CODING.items()}


def _imaging(resource: Resource) -> Fact | None:
    key = lookup(_IMAGING_KEY_BY_CODING, resource.get("code"))
    equivocal = _equivocal(resource)
    presence = _presence_or_equivocal(resource, equivocal)
    return (key, FactKey.FUNCTIONAL_IMAGING, SiteStatus(presence, equivocal))


def _mycn(resource: Resource) -> Fact | None:
    status = lookup(vs.MYCN_STATUS_BY_CODING, resource.get("valueCodeableConcept"))
    if status is None:
        presence = presence_value(resource)  # LOINC 93796-1 "MYCN amplification": present/absent
        if presence is None:
            raise UnreadableValueError("MYCN value not recognised")
        status = {Presence.PRESENT: MycnStatus.AMPLIFIED, Presence.ABSENT: MycnStatus.NOT_AMPLIFIED,
                  Presence.UNKNOWN: MycnStatus.UNKNOWN}[presence]
    return ("mycn", FactKey.MYCN, status)


def _simple(key: str, fact: FactKey, read: Callable[[Resource], Any]) -> Reader:
    return lambda resource: (key, fact, read(resource))


def _coded_value(key: str, fact: FactKey, table: Mapping[CodingKey, Any]) -> Reader:
    """The reader of a fact whose value is a valueCodeableConcept looked up in ``table``."""
    return lambda resource: (key, fact, _coded(table, resource))


def _dna_index(resource: Resource) -> Fact | None:
    value = quantity_value(resource)
    if value is None or not 0 < value < 10:
        raise UnreadableValueError("DNA index must be a positive quantity")
    return ("dna-index", FactKey.PLOIDY, value)


def _other_sca(resource: Resource) -> Fact | None:
    label = lookup(vs.SCA_LABEL_BY_CODING, resource.get("valueCodeableConcept"))
    if label is None:
        raise UnreadableValueError("segmental aberration not recognised")
    return (f"other-sca:{label}", FactKey.OTHER_SCA, label)


def _symptoms(resource: Resource) -> Fact | None:
    if any_coding_in(vs.SYMPTOMATIC_CODINGS, resource.get("valueCodeableConcept")):
        return ("symptoms", FactKey.SYMPTOMS, Presence.PRESENT)
    return ("symptoms", FactKey.SYMPTOMS, _presence(resource))


def _effusion(resource: Resource) -> Fact | None:
    kind = lookup(vs.EFFUSION_KIND_BY_CODING, resource.get("code"))
    if _presence(resource) is not Presence.PRESENT:
        return None
    malignant = _part_presence(components(resource).get(_EFFUSION_MALIGNANT_CELLS))
    return (f"effusion:{kind.value}", FactKey.EFFUSIONS, Effusion(kind, malignant))


READERS: dict[K, Reader] = {
    K.PRIMARY_TUMOUR_SITE: _primary_site,
    K.IDRF: _idrf,
    K.IDRF_SUMMARY: _simple("idrf-summary", FactKey.IDRF, _presence),
    K.MULTIFOCALITY: _simple("multifocal", FactKey.MULTIFOCALITY, _presence),
    K.EFFUSION: _effusion,
    K.TUMOUR_EXTENSION: _extension,
    K.NODAL_INVOLVEMENT: _node,
    K.METASTATIC_SITE: _site,
    K.METASTATIC_WORK_UP: _simple("work-up", FactKey.METASTATIC_SURVEY, _presence),
    K.MARROW_INVOLVEMENT: _marrow_involvement,
    K.MARROW_TUMOUR_CELL_PERCENT: _marrow_percent,
    K.FUNCTIONAL_IMAGING: _imaging,
    K.MIBG_AVIDITY: _simple("mibg-avidity", FactKey.MIBG_AVIDITY, _presence),
    K.HISTOLOGIC_CATEGORY: _coded_value("histology", FactKey.HISTOLOGY, vs.HISTOLOGY_BY_CODING),
    K.DIFFERENTIATION_GRADE: _coded_value("grade", FactKey.GRADE, vs.GRADE_BY_CODING),
    K.INPC_CLASS: _coded_value("inpc", FactKey.INPC, vs.INPC_BY_CODING),
    K.MYCN_STATUS: _mycn,
    K.CHR_11Q: _simple("11q", FactKey.CHR_11Q, _presence),
    K.CHR_1P: _simple("1p", FactKey.CHR_1P, _presence),
    K.OTHER_SCA: _other_sca,
    K.DNA_INDEX: _dna_index,
    K.PLOIDY_CATEGORY: _coded_value("ploidy-category", FactKey.PLOIDY, vs.PLOIDY_BY_CODING),
    K.MS_SYMPTOMS: _symptoms,
    K.RESECTION_EXTENT: _coded_value("resection", FactKey.RESECTION, vs.RESECTION_BY_CODING),
}


#: Observation.code coding → the reader of its value, or None for a kind that is recorded but never
#: decides a result (product decision 11). One lookup per Observation instead of kind, then reader.
READER_BY_CODING: dict[CodingKey, Reader | None] = {
    key: READERS[kind] if kind.decisive else None for key, kind in OBSERVATION_KIND_BY_CODING.items()}


_CONDITION_PRESENCE = {"confirmed": Presence.PRESENT, "refuted": Presence.ABSENT}


def metastasis_condition_findings(resource: Resource, source: str, at: datetime | None) -> list[Finding]:
    """A secondary-neoplasm Condition: the site from its code or bodySite, presence from verification."""
    verification = codings(resource.get("verificationStatus"))
    status = verification[0][1] if verification else "confirmed"
    presence = _CONDITION_PRESENCE.get(status, Presence.UNKNOWN)  # provisional/differential/unconfirmed
    code, body_site = resource.get("code"), resource.get("bodySite")
    if any_coding_in(vs.LYMPH_NODE_CODINGS, code) or any_coding_in(vs.LYMPH_NODE_CODINGS, body_site):
        region = lookup(vs.NODAL_REGION_BY_CODING, code) or lookup(vs.NODAL_REGION_BY_CODING, body_site)
        if region is None or region is NodalRegion.OTHER:
            node_status = Presence.UNKNOWN if presence is Presence.PRESENT else presence
            return [Finding("site:distant-lymph-node", FactKey.METASTASES, SiteStatus(node_status, False), source, at)]
        node = NodalFinding(region, presence, lookup(vs.LATERALITY_BY_CODING, body_site) or Laterality.UNKNOWN)
        return [Finding(f"node:{region.value}:{node.side.value}", FactKey.LYMPH_NODES, node, source, at)]
    site = lookup(vs.METASTATIC_SITE_BY_CODING, body_site) or lookup(vs.METASTATIC_SITE_BY_CODING, code)
    if site is None:
        raise UnreadableValueError("metastatic site not recognised")
    equivocal = status in ("provisional", "differential", "unconfirmed")
    return [Finding(f"site:{site.value}", FactKey.METASTASES, SiteStatus(presence, equivocal), source, at)]




__all__ = ["FINAL_STATUSES", "PRELIMINARY_STATUSES", "READER_BY_CODING", "Fact", "Finding", "MarrowReading",
           "MetastaticSite", "PrimarySite", "Reader", "SiteStatus", "UnreadableValueError",
           "metastasis_condition_findings"]
