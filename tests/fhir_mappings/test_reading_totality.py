"""The readers are total over arbitrary JSON: they run before validation, so a member of the wrong shape
reads as no value (or the reader's own ``UnreadableValueError``), never as a TypeError or KeyError.

Resources are built from the codings the readers know, nested in random shapes, so the readers reach
their deep branches (components, spinal canal measurements, equivocal foci ...) with broken values.
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_mappings.reading import conditions
from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.reading.findings import Finding, FindingKey, UnreadableValueError
from fhir_mappings.reading.observation_readers import READERS
from fhir_mappings.reading.values import observed_at
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.observation_kinds import OBSERVATION_KIND_BY_CODING
from tests.fhir_mappings.test_reading_value_forms import OBS, P, condition, obs, patient, read

TABLES = (vs.PRESENCE_BY_CODING, vs.COMPARTMENT_BY_CODING, vs.LATERALITY_BY_CODING, vs.NODAL_REGION_BY_CODING,
          vs.METASTATIC_SITE_BY_CODING, vs.STRUCTURE_KIND_BY_CODING, vs.STRUCTURE_RELATION_BY_CODING,
          vs.MYCN_STATUS_BY_CODING, vs.SCA_LABEL_BY_CODING, vs.HISTOLOGY_BY_CODING, vs.GRADE_BY_CODING,
          vs.INPC_BY_CODING, vs.PLOIDY_BY_CODING, vs.RESECTION_BY_CODING, vs.MARROW_METHOD_BY_CODING,
          vs.HISTOLOGY_CANDIDATES_BY_CODING, OBSERVATION_KIND_BY_CODING)
KNOWN = sorted({key for table in TABLES for key in table} | set(vs.EQUIVOCAL_CODINGS) | set(vs.SYMPTOMATIC_CODINGS)
               | set(vs.SECONDARY_NEOPLASM_CODINGS) | set(vs.LYMPH_NODE_CODINGS)
               | set(vs.NEUROBLASTOMA_CONDITION_CODINGS) | {code.key for code in OBSERVATION_CODES.codes()})
MEMBERS = ("coding", "system", "code", "value", "unit", "valueCodeableConcept", "valueBoolean", "valueQuantity",
           "component", "bodySite", "interpretation", "method", "dataAbsentReason", "start", "end", "low", "high",
           "url", "extension", "text")

codings = st.sampled_from(KNOWN).map(lambda key: {"system": key[0], "code": key[1]})
leaves = (st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -(10**400)])
          | st.floats() | st.text(max_size=8) | codings)
json_values = st.recursive(
    leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(MEMBERS), inner, max_size=4),
    max_leaves=12)
RESOURCE_MEMBERS = (*MEMBERS, "effectiveDateTime", "effectivePeriod", "issued", "onsetAge", "onsetRange",
                    "onsetPeriod", "onsetDateTime", "recordedDate", "verificationStatus")
members = st.dictionaries(st.sampled_from(RESOURCE_MEMBERS), json_values, max_size=6)
TOTAL = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@TOTAL
@given(kind_coding=st.sampled_from(sorted(OBSERVATION_KIND_BY_CODING)), elements=members)
def test_every_observation_reader_is_total(kind_coding: tuple[str, str], elements: dict[str, Any]) -> None:
    kind = OBSERVATION_KIND_BY_CODING[kind_coding]
    resource = {"resourceType": "Observation", **elements,
                "code": {"coding": [{"system": kind_coding[0], "code": kind_coding[1]}]}}
    observed_at(resource)
    if kind not in READERS:
        return
    try:
        read = READERS[kind](resource)
    except UnreadableValueError:
        return
    if read is not None:
        key, _value = read
        assert isinstance(key, FindingKey)
        str(key)


@TOTAL
@given(elements=members, code=json_values)
def test_every_condition_reader_is_total(elements: dict[str, Any], code: Any) -> None:
    resource = {"resourceType": "Condition", **elements, "code": code}
    conditions.is_unread_condition(resource)
    conditions.is_neuroblastoma(resource)
    conditions.is_secondary_neoplasm(resource)
    conditions.is_histology_only(resource)
    conditions.verification_status(resource)
    conditions.diagnosis_date(resource)
    conditions.onset_age_days(resource)
    with contextlib.suppress(UnreadableValueError):
        assert isinstance(conditions.metastasis_finding(resource, "Condition/c", 0), Finding)


def test_a_quantity_beyond_the_float_range_is_unrecognised_not_an_error() -> None:
    huge = obs(OBS("dna-index"), valueQuantity={"value": 10**400})
    reading = read(huge)
    assert reading.report.unrecognised == (f"Observation/{huge['id']}",)
    assert reading.case.ploidy.dna_index is None


def test_an_onset_age_beyond_the_float_range_leaves_the_age_unknown() -> None:
    for age in ({"value": 1e308, "code": "a"}, {"value": 10**400, "code": "d"}):
        diagnosis = condition(onsetAge=age)
        del diagnosis["onsetDateTime"]
        reading = read_case([patient(), diagnosis], P)
        assert reading.has_neuroblastoma and reading.case.age_days is None


def test_a_bundle_whose_entry_is_not_a_list_has_no_entries() -> None:
    for entry in (True, 5, "x", {"resource": patient()}):
        reading = read_case([{"resourceType": "Bundle", "type": "transaction", "entry": entry}], P)
        assert not reading.has_neuroblastoma
