"""The result Observations have no empty members: the stage/risk card carries them as they are (CDS Hooks G2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from fhir_mappings.reading.case_reader import CaseReading, MappingReport, read_case
from fhir_mappings.results_codes import COG_2021_RISK_CODE, INRG_2009_RISK_CODE, STAGE_CODE
from fhir_mappings.terminology import result_value_sets as rvs
from fhir_mappings.terminology.codes import SCT_INRGSS_METHOD
from fhir_mappings.terminology.local_observations import OBSERVATION_CODES
from fhir_mappings.writing.case_to_fhir import case_to_bundle
from fhir_mappings.writing.results_to_fhir import result_resources
from neuroblastoma.case import Case
from neuroblastoma.case_json import case_from_json
from neuroblastoma.classification import classify
from tests.cds_service.cds_hooks_schema import empty_members
from tests.examples import CASE_FILES
from tests.neuroblastoma.case_strategies import cases

EFFECTIVE = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
INRG_RISK_LEVEL_COMPONENT = OBSERVATION_CODES.code("inrg-2009-risk-level")
WRITTEN_CODES = (
    STAGE_CODE, INRG_2009_RISK_CODE, COG_2021_RISK_CODE, SCT_INRGSS_METHOD, INRG_RISK_LEVEL_COMPONENT,
    rvs.METHOD_INRGSS, rvs.METHOD_INRG_2009, rvs.METHOD_COG_2021,
    *rvs.STAGE_CODING.values(), *rvs.INRG_GROUP_CODING.values(), *rvs.INRG_2009_RISK_CODING.values(),
    *rvs.COG_2021_RISK_CODING.values(), *rvs.RISK_GENERIC_CODING.values(), *rvs.DATA_ABSENT_REASON_FOR.values(),
)


def test_every_code_written_has_a_system_a_code_and_a_display() -> None:
    for code in WRITTEN_CODES:
        assert code.system and code.code and code.display, code


def _assert_no_empty_members(reading: CaseReading) -> None:
    for result in result_resources(classify(reading.case), reading, EFFECTIVE):
        assert not list(empty_members(result.resource)), result.resource


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: Path(p).stem)
def test_example_results_have_no_empty_members(path: Path) -> None:
    case = case_from_json(json.loads(path.read_text(encoding="utf-8")))
    _assert_no_empty_members(read_case([case_to_bundle(case)], case.patient))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_results_of_any_case_have_no_empty_members(case: Case) -> None:
    _assert_no_empty_members(CaseReading(case, f"Patient/{case.patient}", None, True, MappingReport()))
