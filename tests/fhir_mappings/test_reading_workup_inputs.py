"""The inputs added for INSS and the pretreatment work-up (issue 14), as the reader accepts them: every form
docs/implementation-guide.md 6.23-6.27 describes, and what is not read (an unknown unit, a score outside its
method's range). None of them decides INRGSS or a risk group."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.terminology import codes as std
from fhir_mappings.terminology import value_sets as vs
from fhir_mappings.terminology import value_sets_workup as vw
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.terminology.model import Code
from neuroblastoma.anatomy import Compartment, Laterality
from neuroblastoma.biology import AlkStatus
from neuroblastoma.case import MibgScore, MibgScoreMethod
from neuroblastoma.facts import Presence
from tests.fhir_mappings.test_reading_value_forms import P, cc, condition, obs, patient, read, ref

OBS = OBSERVATION_CODES.code
UCUM = "http://unitsofmeasure.org"


def _quantity(value: float, code: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "system": UCUM, "code": code}}


# ---- The primary's longest diameter and cystic fraction (observation without biopsy) ----------------------------

@pytest.mark.parametrize(("code", "value", "unit", "read_as"), [
    pytest.param(std.LOINC_TUMOR_LONGEST_DIMENSION, 2.8, "cm", 2.8, id="LOINC 33728-7 in cm"),
    pytest.param(std.LOINC_TUMOR_LONGEST_DIMENSION, 31, "mm", 3.1, id="LOINC 33728-7 in mm"),
    pytest.param(OBS("primary-longest-diameter"), 4.8, "cm", 4.8, id="our code in cm"),
    pytest.param(OBS("primary-longest-diameter"), 2.8, "[in_i]", None, id="inches: not read"),
    pytest.param(OBS("primary-longest-diameter"), 0, "cm", None, id="0 cm: not read"),
    pytest.param(OBS("primary-longest-diameter"), 120, "cm", None, id="120 cm: not read"),
])
def test_the_longest_diameter(code: Code, value: float, unit: str, read_as: float | None) -> None:
    resource = obs(code, **_quantity(value, unit))
    reading = read(resource)
    if read_as is None:
        assert reading.case.primary_diameter_cm is None
    else:
        assert reading.case.primary_diameter_cm == pytest.approx(read_as)
    assert (ref(resource) in reading.report.unrecognised) == (read_as is None)


def test_the_longest_diameter_as_an_mcode_tumor_size_component() -> None:
    panel = obs(std.LOINC_TUMOR_SIZE, component=[{"code": cc(std.LOINC_TUMOR_LONGEST_DIMENSION),
                                                   **_quantity(45, "mm")}])
    assert read(panel).case.primary_diameter_cm == pytest.approx(4.5)


@pytest.mark.parametrize(("value", "read_as"), [(0, 0.0), (25, 25.0), (100, 100.0), (101, None), (-5, None)])
def test_the_cystic_fraction(value: float, read_as: float | None) -> None:
    resource = obs(OBS("primary-cystic-fraction"), **_quantity(value, "%"))
    reading = read(resource)
    assert reading.case.primary_cystic_percent == read_as
    assert (ref(resource) in reading.report.unrecognised) == (read_as is None)


def test_adrenal_origin_from_the_primary_site_or_the_condition_body_site() -> None:
    site = obs(OBS("primary-tumour-site"), valueCodeableConcept=cc(vw.ADRENAL_CODING),
               component=[{"code": cc(OBS("laterality")), "valueCodeableConcept": cc(std.SCT_LEFT)}])
    [primary] = read(site).case.primaries
    assert (primary.compartment, primary.side, primary.adrenal) == (Compartment.ABDOMEN, Laterality.LEFT,
                                                                    Presence.PRESENT)
    reading = read_case([patient(), condition(bodySite=[cc(std.SCT_ADRENAL_STRUCTURE, std.SCT_RIGHT)])], P)
    assert [p.adrenal for p in reading.case.primaries] == [Presence.PRESENT]
    abdomen = obs(OBS("primary-tumour-site"), valueCodeableConcept=cc(vs.COMPARTMENT_CODING[Compartment.ABDOMEN]))
    assert [p.adrenal for p in read(abdomen).case.primaries] == [Presence.UNKNOWN]  # not said: unknown


# ---- Paraspinal primary, cord compression, the INSS surgical facts: present / absent ----------------------------

@pytest.mark.parametrize(("code", "field"), [
    ("paraspinal-primary", "paraspinal"),
    ("cord-compression-signs", "cord_compression"),
    ("microscopic-residual", "microscopic_residual"),
    ("ipsilateral-nodes-histology", "nodes_ipsilateral"),
    ("contralateral-nodes-histology", "nodes_contralateral"),
    ("midline-infiltration", "midline_infiltration"),
])
def test_presence_inputs(code: str, field: str) -> None:
    assert getattr(read(obs(OBS(code), valueCodeableConcept=cc(std.SCT_PRESENT))).case, field) is Presence.PRESENT
    assert getattr(read(obs(OBS(code), valueBoolean=False)).case, field) is Presence.ABSENT
    assert getattr(read().case, field) is Presence.UNKNOWN  # never read as absent when not recorded


# ---- ALK and the semi-quantitative MIBG score --------------------------------------------------------------------

@pytest.mark.parametrize("status", [s for s in AlkStatus if s is not AlkStatus.UNKNOWN])
def test_alk_status(status: AlkStatus) -> None:
    assert read(obs(OBS("alk-status"), valueCodeableConcept=cc(vw.ALK_CODING[status]))).case.alk is status


def test_an_unknown_alk_coding_is_not_read() -> None:
    resource = obs(OBS("alk-status"), valueCodeableConcept=cc(("http://lab.example/alk", "F1174L")))
    reading = read(resource)
    assert reading.case.alk is AlkStatus.UNKNOWN and ref(resource) in reading.report.unrecognised


@pytest.mark.parametrize(("code", "value", "read_as"), [
    pytest.param("mibg-curie-score", 0, MibgScore(MibgScoreMethod.CURIE, 0), id="Curie 0"),
    pytest.param("mibg-curie-score", 30, MibgScore(MibgScoreMethod.CURIE, 30), id="Curie 30: the maximum"),
    pytest.param("mibg-curie-score", 31, None, id="Curie 31: outside 0-30"),
    pytest.param("mibg-siopen-score", 72, MibgScore(MibgScoreMethod.SIOPEN, 72), id="SIOPEN 72: the maximum"),
    pytest.param("mibg-siopen-score", 73, None, id="SIOPEN 73: outside 0-72"),
])
def test_mibg_scores_within_their_method_range(code: str, value: float, read_as: MibgScore | None) -> None:
    resource = obs(OBS(code), **_quantity(value, "1"))
    reading = read(resource)
    scores = tuple((s.method, s.value) for s in reading.case.mibg_scores)
    assert scores == (((read_as.method, read_as.value),) if read_as else ())
    assert (ref(resource) in reading.report.unrecognised) == (read_as is None)
