"""One reader per kind of Observation (``READERS``): the one fact an Observation reports, with its key.

A reader returns ``(key, value)``, or None when the Observation reports nothing to use ("no extension
into the thorax" is the default anyway), or raises ``UnreadableValueError`` when the value is in no form
or code we accept (the Observation is then listed as unrecognised, never guessed).

Readers run before the Observation is validated (only the findings that can change the answer are
validated: case_reader.py), so they are total over arbitrary JSON: they read through the safe accessors of
``values.py`` and raise nothing but ``UnreadableValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fhir_mappings.reading.findings import (
    Attribution,
    FindingKey,
    MarrowReading,
    PrimarySite,
    PrimaryTarget,
    SiteStatus,
    UnreadableValueError,
)
from fhir_mappings.reading.findings import FindingKind as F
from fhir_mappings.reading.values import (
    any_coding_in,
    components,
    lookup,
    presence_value,
    quantity_value,
    reference_target,
)
from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology import value_sets_pathology as vp
from fhir_mappings.terminology import value_sets_workup as vw
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.model import CodingKey
from fhir_mappings.terminology.observation_kinds import ObservationKind as K
from neuroblastoma.anatomy import Laterality
from neuroblastoma.biology import MycnStatus
from neuroblastoma.case import (
    Effusion,
    MarrowMethod,
    MetastaticSite,
    MibgScore,
    MibgScoreMethod,
    NodalFinding,
    TumourExtension,
)
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfFinding, SpinalCanalFinding

Resource = dict[str, Any]
KeyedValue = tuple[FindingKey, Any]
Reader = Callable[[Resource], KeyedValue | None]


def _component_code(code: str) -> CodingKey:
    return OBSERVATION_CODES.code(code).key


# The component codes the readers look for.
LATERALITY = _component_code("laterality")
STRUCTURE_KIND = _component_code("idrf-structure-kind")
STRUCTURE_RELATION = _component_code("idrf-structure-relation")
SPINAL_CANAL_FRACTION = _component_code("idrf-spinal-canal-fraction")
SPINAL_CANAL_OVER_ONE_THIRD = _component_code("idrf-spinal-canal-over-one-third")
LEPTOMENINGEAL_SPACES_OBLITERATED = _component_code("idrf-leptomeningeal-spaces-obliterated")
CORD_SIGNAL_ABNORMAL = _component_code("idrf-cord-signal-abnormal")
COMPARTMENT = _component_code("compartment")
CONTIGUOUS = _component_code("contiguous")
NODAL_REGION = _component_code("nodal-region")
METASTATIC_SITE_CODE = _component_code("metastatic-site-code")
EFFUSION_MALIGNANT_CELLS = _component_code("effusion-malignant-cells")


def _component_value(resource: Resource, component_code: CodingKey, table: Mapping[CodingKey, Any]) -> Any:
    """The coded value of the component with this code, looked up in ``table`` (None if absent)."""
    component = components(resource).get(component_code)
    return lookup(table, component.get("valueCodeableConcept")) if component else None


def _component_presence(resource: Resource, component_code: CodingKey) -> Presence:
    component = components(resource).get(component_code)
    return (presence_value(component) or Presence.UNKNOWN) if component else Presence.UNKNOWN


def _side(resource: Resource) -> Laterality:
    """Laterality from the laterality component, else bodySite."""
    return (_component_value(resource, LATERALITY, vs.LATERALITY_BY_CODING)
            or lookup(vs.LATERALITY_BY_CODING, resource.get("bodySite")) or Laterality.UNKNOWN)


def _focus(resource: Resource) -> tuple[str, ...]:
    """``Observation.focus`` references as ``Type/id`` (an absolute URL is cut to its last two segments)."""
    found = []
    focus = resource.get("focus")
    for item in focus if isinstance(focus, list) else []:
        target = reference_target(item)
        if target:
            found.append("/".join(target.rstrip("/").split("/")[-2:]))
    return tuple(sorted(set(found)))


def _attribution(resource: Resource, with_site: bool = True) -> Attribution:
    """Which primary the Observation concerns, as far as it says (guide 6.6): focus, else body site and side.
    An extension's body site is where it extends to, so only its focus and side can name its primary."""
    compartment = lookup(vs.COMPARTMENT_BY_CODING, resource.get("bodySite")) if with_site else None
    return Attribution(_focus(resource), compartment, _side(resource))


def _untied(resource: Resource, with_site: bool = True) -> PrimaryTarget:
    """Not yet tied to a primary: the reader (primaries.attribute) does it once the primaries are known."""
    return PrimaryTarget(None, _attribution(resource, with_site))


def _presence(resource: Resource) -> Presence:
    value = presence_value(resource)
    if value is None:
        raise UnreadableValueError("no present/absent value")
    return value


def _coded(table: Mapping[CodingKey, Any], resource: Resource, what: str) -> Any:
    value = lookup(table, resource.get("valueCodeableConcept"))
    if value is None:
        raise UnreadableValueError(f"{what} not recognised")
    return value


def _equivocal(resource: Resource) -> bool:
    return any_coding_in(vs.EQUIVOCAL_CODINGS, resource.get("interpretation"))


def _presence_or_equivocal(resource: Resource, equivocal: bool) -> Presence:
    """The reported value, kept with the equivocal flag: the rules decide what an equivocal focus means
    (metastatic_spread: unknown unless absent; an equivocal scan negative in bone and marrow points
    elsewhere). An equivocal focus needs no value."""
    if equivocal:
        return presence_value(resource) or Presence.UNKNOWN
    return _presence(resource)


def _primary_site(resource: Resource) -> KeyedValue:
    compartment = (lookup(vs.COMPARTMENT_BY_CODING, resource.get("valueCodeableConcept"))
                   or lookup(vs.COMPARTMENT_BY_CODING, resource.get("bodySite")))
    if compartment is None:
        raise UnreadableValueError("primary tumour compartment not recognised")
    adrenal = any(any_coding_in(vw.ADRENAL_CODINGS, resource.get(element))
                  for element in ("valueCodeableConcept", "bodySite"))
    site = PrimarySite(compartment, _side(resource), Presence.PRESENT if adrenal else Presence.UNKNOWN)
    return FindingKey(F.PRIMARY, (compartment, site.side)), site


def _spinal(resource: Resource) -> SpinalCanalFinding | None:
    """The spinal canal measurements of an IDRF Observation's components, None when it has none."""
    parts = components(resource)
    if not any(code in parts for code in (SPINAL_CANAL_FRACTION, SPINAL_CANAL_OVER_ONE_THIRD,
                                          LEPTOMENINGEAL_SPACES_OBLITERATED, CORD_SIGNAL_ABNORMAL)):
        return None
    fraction_part = parts.get(SPINAL_CANAL_FRACTION)
    fraction = quantity_value(fraction_part) if fraction_part else None
    if fraction is not None and not 0 <= fraction <= 1:
        raise UnreadableValueError("spinal canal fraction must be between 0 and 1")
    return SpinalCanalFinding(fraction, _component_presence(resource, SPINAL_CANAL_OVER_ONE_THIRD),
                              _component_presence(resource, LEPTOMENINGEAL_SPACES_OBLITERATED),
                              _component_presence(resource, CORD_SIGNAL_ABNORMAL))


def _idrf(resource: Resource) -> KeyedValue:
    code = lookup(vs.IDRF_BY_CODING, resource.get("code"))
    if code is None:  # cannot happen: the Observation's code chose this reader
        raise UnreadableValueError("IDRF code not recognised")
    structure = _component_value(resource, STRUCTURE_KIND, vs.STRUCTURE_KIND_BY_CODING)
    relation = _component_value(resource, STRUCTURE_RELATION, vs.STRUCTURE_RELATION_BY_CODING)
    status = presence_value(resource)
    spinal = _spinal(resource)
    if status is None and relation is None and spinal is None:
        raise UnreadableValueError("IDRF without a call or a relation")
    return (FindingKey(F.IDRF, (code, _untied(resource))),
            IdrfFinding(code, status or Presence.UNKNOWN, structure, relation, spinal))


def _extension(resource: Resource) -> KeyedValue | None:
    compartment = (_component_value(resource, COMPARTMENT, vs.COMPARTMENT_BY_CODING)
                   or lookup(vs.COMPARTMENT_BY_CODING, resource.get("bodySite")))
    if compartment is None:
        raise UnreadableValueError("extension compartment not recognised")
    if presence_value(resource) is Presence.ABSENT:
        return None  # "no extension into X" is the default
    extension = TumourExtension(compartment, _side(resource), _component_presence(resource, CONTIGUOUS))
    return FindingKey(F.EXTENSION, (compartment, extension.side, _untied(resource, with_site=False))), extension


def _node(resource: Resource) -> KeyedValue:
    region = (_component_value(resource, NODAL_REGION, vs.NODAL_REGION_BY_CODING)
              or lookup(vs.NODAL_REGION_BY_CODING, resource.get("bodySite")))
    presence = _presence(resource)
    if region is None:
        # Region unknown: regional versus distant cannot be told, so distant spread stays unknown.
        status = Presence.UNKNOWN if presence is Presence.PRESENT else presence
        return FindingKey(F.SITE, MetastaticSite.DISTANT_LYMPH_NODE), SiteStatus(status, False)
    node = NodalFinding(region, presence, _side(resource))
    return FindingKey(F.NODE, (region, node.side)), node


def _site(resource: Resource) -> KeyedValue:
    site = (_component_value(resource, METASTATIC_SITE_CODE, vs.METASTATIC_SITE_BY_CODING)
            or lookup(vs.METASTATIC_SITE_BY_CODING, resource.get("bodySite")))
    if site is None:
        raise UnreadableValueError("metastatic site not recognised")
    resolution = lookup(vs.FOCUS_RESOLUTION_BY_CODING, resource.get("valueCodeableConcept"))
    if resolution is not None:  # "focus ruled out" / "focus confirmed": resolves an equivocal focus there
        return FindingKey(F.SITE, site), SiteStatus(resolution, False, resolves=True)
    equivocal = _equivocal(resource)
    return FindingKey(F.SITE, site), SiteStatus(_presence_or_equivocal(resource, equivocal), equivocal)


def _marrow_method(resource: Resource) -> MarrowMethod:
    return lookup(vs.MARROW_METHOD_BY_CODING, resource.get("method")) or MarrowMethod.UNKNOWN


def _marrow_involvement(resource: Resource) -> KeyedValue:
    return FindingKey(F.MARROW_INVOLVEMENT), MarrowReading(_presence(resource), None, _marrow_method(resource))


def _marrow_percent(resource: Resource) -> KeyedValue:
    percent = quantity_value(resource)
    if percent is None or not 0 <= percent <= 100:
        raise UnreadableValueError("marrow tumour-cell percentage must be a quantity from 0 to 100")
    return FindingKey(F.MARROW_PERCENT), MarrowReading(None, percent, _marrow_method(resource))


def _imaging(resource: Resource) -> KeyedValue:
    scan = lookup(vs.FUNCTIONAL_IMAGING_BY_CODING, resource.get("code"))  # (modality, bone or bone marrow)
    if scan is None:  # cannot happen: the Observation's code chose this reader
        raise UnreadableValueError("functional imaging code not recognised")
    equivocal = _equivocal(resource)
    return FindingKey(F.IMAGING, scan), SiteStatus(_presence_or_equivocal(resource, equivocal), equivocal)


_MYCN_BY_PRESENCE = {Presence.PRESENT: MycnStatus.AMPLIFIED, Presence.ABSENT: MycnStatus.NOT_AMPLIFIED,
                     Presence.UNKNOWN: MycnStatus.UNKNOWN}


def _mycn(resource: Resource) -> KeyedValue:
    status = lookup(vs.MYCN_STATUS_BY_CODING, resource.get("valueCodeableConcept"))
    if status is None:
        presence = presence_value(resource)  # LOINC 93796-1 "MYCN amplification": present/absent
        if presence is None:
            raise UnreadableValueError("MYCN value not recognised")
        status = _MYCN_BY_PRESENCE[presence]
    return FindingKey(F.MYCN), status


def _dna_index(resource: Resource) -> KeyedValue:
    value = quantity_value(resource)
    if value is None or not 0 < value < 10:
        raise UnreadableValueError("DNA index must be a positive quantity")
    return FindingKey(F.DNA_INDEX), value


def _other_sca(resource: Resource) -> KeyedValue:
    label = _coded(vs.SCA_LABEL_BY_CODING, resource, "segmental aberration")
    return FindingKey(F.OTHER_SCA, label), label


def _symptoms(resource: Resource) -> KeyedValue:
    if any_coding_in(vs.SYMPTOMATIC_CODINGS, resource.get("valueCodeableConcept")):
        return FindingKey(F.SYMPTOMS), Presence.PRESENT
    return FindingKey(F.SYMPTOMS), _presence(resource)


LONGEST_DIMENSION = std.LOINC_TUMOR_LONGEST_DIMENSION.key
_MIBG_SCORE_METHOD = {OBSERVATION_CODES.code("mibg-curie-score").key: MibgScoreMethod.CURIE,
                      OBSERVATION_CODES.code("mibg-siopen-score").key: MibgScoreMethod.SIOPEN}


def _centimetres(element: Resource) -> float:
    """A length in cm from a valueQuantity in UCUM cm or mm (mCODE TumorSizeUnitsVS); anything else is unread."""
    quantity = element.get("valueQuantity")
    value = quantity_value(element)
    unit = quantity.get("code") if isinstance(quantity, dict) else None
    factor = vw.SIZE_UNIT_TO_CM.get((std.UCUM_CM.system, unit)) if isinstance(unit, str) else None
    if value is None or factor is None:
        raise UnreadableValueError("tumour size must be a quantity in UCUM cm or mm")
    centimetres = value * factor
    if not 0 < centimetres < 100:
        raise UnreadableValueError("tumour size must be above 0 and below 100 cm")
    return centimetres


def _diameter(resource: Resource) -> KeyedValue:
    """The primary's longest diameter: the value of our code or LOINC 33728-7, or the 33728-7 component of an
    mCODE TumorSize Observation (LOINC 21889-1)."""
    component = components(resource).get(LONGEST_DIMENSION)
    return FindingKey(F.PRIMARY_DIAMETER), _centimetres(component if component is not None else resource)


def _cystic(resource: Resource) -> KeyedValue:
    percent = quantity_value(resource)
    if percent is None or not 0 <= percent <= 100:
        raise UnreadableValueError("cystic fraction must be a quantity from 0 to 100 %")
    return FindingKey(F.PRIMARY_CYSTIC), percent


def _mibg_score(resource: Resource) -> KeyedValue:
    method = lookup(_MIBG_SCORE_METHOD, resource.get("code"))
    value = quantity_value(resource)
    if method is None or value is None or not 0 <= value <= method.maximum:
        raise UnreadableValueError("MIBG score must be a number within the method's range (Curie 0-30, SIOPEN 0-72)")
    return FindingKey(F.MIBG_SCORE, method), MibgScore(method, value)


def _effusion(resource: Resource) -> KeyedValue | None:
    kind = lookup(vs.EFFUSION_KIND_BY_CODING, resource.get("code"))
    if kind is None:  # cannot happen: the Observation's code chose this reader
        raise UnreadableValueError("effusion kind not recognised")
    if _presence(resource) is not Presence.PRESENT:
        return None
    return FindingKey(F.EFFUSION, kind), Effusion(kind, _component_presence(resource, EFFUSION_MALIGNANT_CELLS))


def _presence_of(kind: F) -> Reader:
    """The reader of a fact that is present, absent or unknown."""
    return lambda resource: (FindingKey(kind), _presence(resource))


def _coded_value(kind: F, table: Mapping[CodingKey, Any]) -> Reader:
    """The reader of a fact whose value is a valueCodeableConcept looked up in ``table``."""
    return lambda resource: (FindingKey(kind), _coded(table, resource, "value code"))


#: The reader of each kind of Observation the rules read. The kinds that are recorded but never decide
#: a result (``ObservationKind.decisive``, product decision 11) have none.
READERS: Mapping[K, Reader] = {
    K.PRIMARY_TUMOUR_SITE: _primary_site,
    K.IDRF: _idrf,
    K.IDRF_SUMMARY: lambda resource: (FindingKey(F.IDRF_SUMMARY, _untied(resource)), _presence(resource)),
    K.IDRF_ALL_PRIMARIES: _presence_of(F.IDRF_ALL_PRIMARIES),
    K.MULTIFOCALITY: _presence_of(F.MULTIFOCAL),
    K.EFFUSION: _effusion,
    K.TUMOUR_EXTENSION: _extension,
    K.NODAL_INVOLVEMENT: _node,
    K.METASTATIC_SITE: _site,
    K.METASTATIC_WORK_UP: _presence_of(F.WORK_UP),
    K.MARROW_INVOLVEMENT: _marrow_involvement,
    K.MARROW_TUMOUR_CELL_PERCENT: _marrow_percent,
    K.FUNCTIONAL_IMAGING: _imaging,
    K.MIBG_AVIDITY: _presence_of(F.MIBG_AVIDITY),
    K.HISTOLOGIC_CATEGORY: _coded_value(F.HISTOLOGY, vs.HISTOLOGY_BY_CODING),
    K.DIFFERENTIATION_GRADE: _coded_value(F.GRADE, vs.GRADE_BY_CODING),
    K.INPC_CLASS: _coded_value(F.INPC, vs.INPC_BY_CODING),
    K.MKI_CLASS: _coded_value(F.MKI, vp.MKI_BY_CODING),
    K.MYCN_STATUS: _mycn,
    K.CHR_11Q: _presence_of(F.CHR_11Q),
    K.CHR_1P: _presence_of(F.CHR_1P),
    K.OTHER_SCA: _other_sca,
    K.DNA_INDEX: _dna_index,
    K.PLOIDY_CATEGORY: _coded_value(F.PLOIDY_CATEGORY, vs.PLOIDY_BY_CODING),
    K.MS_SYMPTOMS: _symptoms,
    K.RESECTION_EXTENT: _coded_value(F.RESECTION, vs.RESECTION_BY_CODING),
    K.MICROSCOPIC_RESIDUAL: _presence_of(F.MICROSCOPIC_RESIDUAL),
    K.NODES_IPSILATERAL: _presence_of(F.NODES_IPSILATERAL),
    K.NODES_CONTRALATERAL: _presence_of(F.NODES_CONTRALATERAL),
    K.MIDLINE: _presence_of(F.MIDLINE),
    K.PRIMARY_DIAMETER: _diameter,
    K.TUMOUR_SIZE_PANEL: _diameter,
    K.PRIMARY_CYSTIC: _cystic,
    K.PARASPINAL: _presence_of(F.PARASPINAL),
    K.CORD_COMPRESSION: _presence_of(F.CORD_COMPRESSION),
    K.ALK: _coded_value(F.ALK, vw.ALK_BY_CODING),
    K.MIBG_SCORE: _mibg_score,
}
