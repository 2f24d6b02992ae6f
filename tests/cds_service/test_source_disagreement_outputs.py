"""Issue 18, done when: a derived INPC class and every disagreement warning appear in the card, in the trace of
``nbcds classify --json`` and in the note of the FHIR result Observations they concern. One example patient each."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from cds_service.cli.classify import classify_files
from cds_service.services.cards.markdown import escape_inline
from cds_service.services.cards.stage_risk_card import DETAIL_LIMIT
from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.writing.case_to_fhir import case_to_bundle
from fhir_mappings.writing.results_to_fhir import result_resources
from neuroblastoma.case_json import case_from_json
from neuroblastoma.classification import classify
from tests.cds_service.client_simulator import Service, example_patient, hook_request, running_service
from tests.examples import EXAMPLES, case_document

# patient, warning code, a phrase of its message, the results whose trace carries it, card indicator
OUTPUTS = [
    ("nb-l2-inpc-derived", "inpc-derived",
     "INPC unfavourable, derived: poorly differentiated neuroblastoma, aged 18 months to under 5 years", {"cog2021"}),
    ("nb-l2-differentiating-mki", "inpc-derived", "INPC unfavourable, derived: differentiating neuroblastoma, "
                                                  "MKI intermediate", {"cog2021"}),
    ("nb-l2-differentiating-mki", "sources-disagree-cog-l2",
     "NCCN v2.2026 NEUROB-2 (adapted from Irwin 2021) gives intermediate risk", {"cog2021"}),
    ("nb-l2-gnb-intermixed-older", "sources-disagree-cog-l2", "gives high risk at 5 years or older", {"cog2021"}),
    ("nb-l2-inpc-contradicted", "conflict-inpc-components", "INPC reported favourable, but its parts give unfavourable",
     {"cog2021"}),
    ("nb-ms-pattern-day-547", "sources-disagree-age-boundary",
     "day 547 is counted as 18 months or older", {"stage", "inrg2009", "cog2021"}),
    ("nb-m-day-365", "sources-disagree-age-boundary", "day 365 is counted as 12 months or older",
     {"inrg2009", "cog2021"}),
    ("nb-ms-toddler-17q", "sources-disagree-sca-panel", "counted, it would give high risk", {"cog2021"}),
]
IDS = [f"{name}-{code}" for name, code, *_ in OUTPUTS]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("sources")) as running:
        yield running


def _stage_risk_card(service: Service, name: str) -> dict[str, Any]:
    patient = example_patient(name)
    reply = service.client().call("neuroblastoma-staging", hook_request(patient.patient_id, prefetch=patient.prefetch()))
    assert reply.status == 200
    return reply.json["cards"][0]


@pytest.mark.parametrize(("name", "code", "phrase", "traces"), OUTPUTS, ids=IDS)
def test_the_card_says_it(service: Service, name: str, code: str, phrase: str, traces: set[str]) -> None:
    card = _stage_risk_card(service, name)
    detail = card["detail"]
    assert len(detail) <= DETAIL_LIMIT
    check_first, why = detail.split("**Why**")
    if code == "inpc-derived":  # a note: said in "Check first" when there is room, always in the why and the inputs
        assert "unfavourable histology (derived)" in why and "| INPC | not reported (derived: unfavourable" in why
        assert escape_inline(phrase) in check_first or "more in the app" in check_first
        return
    assert escape_inline(phrase) in check_first, (name, detail)
    if code.startswith("sources-disagree"):
        assert "**Sources disagree:**" in check_first and card["indicator"] == "warning"
        assert card["summary"].endswith("· sources disagree") or "schemas disagree" in card["summary"]
    if code.startswith("conflict"):
        assert "**Conflicting reports.**" in check_first and card["indicator"] == "warning"


@pytest.mark.parametrize(("name", "code", "phrase", "traces"), OUTPUTS, ids=IDS)
def test_the_cli_json_trace_says_it(name: str, code: str, phrase: str, traces: set[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert classify_files([str(EXAMPLES / "cases" / f"{name}.json")], True, out, err) == 0
    trace = json.loads(out.getvalue())["trace"]
    carrying = {key for key, part in trace.items() if any(w["code"] == code and phrase in w["message"]
                                                          for w in part["warnings"])}
    assert carrying == traces
    if code in ("sources-disagree-cog-l2", "sources-disagree-sca-panel"):
        assert any(step.startswith("Alternative reading") for step in trace["cog2021"]["steps"])
    if code == "inpc-derived":
        assert trace["cog2021"]["steps"][0].startswith("INPC unfavourable, derived:")
        assert {"inpc-class", "histologic-category", "differentiation-grade"} <= set(trace["cog2021"]["decidedBy"])


RESULT_IDS = {"stage": "inrgss", "inrg2009": "inrg2009", "cog2021": "cog2021"}


@pytest.mark.parametrize(("name", "code", "phrase", "traces"), OUTPUTS, ids=IDS)
def test_the_fhir_result_notes_say_it(name: str, code: str, phrase: str, traces: set[str]) -> None:
    case = case_from_json(case_document(name))
    reading = read_case([case_to_bundle(case)], case.patient)
    resources = result_resources(classify(reading.case), reading, datetime(2026, 1, 2, tzinfo=UTC))
    noted = {r.result_id for r in resources if phrase in r.resource["note"][0]["text"]}
    assert noted == {RESULT_IDS[key] for key in traces}


def test_a_derived_inpc_class_is_cited_from_the_pathology_records() -> None:
    """The parts that decided a derived class are the COG result's deciding inputs: derivedFrom names them."""
    case = case_from_json(case_document("nb-l2-inpc-derived"))
    reading = read_case([case_to_bundle(case)], case.patient)
    [cog] = [r for r in result_resources(classify(reading.case), reading, datetime(2026, 1, 2, tzinfo=UTC))
             if r.result_id == "cog2021"]
    cited = {ref["reference"] for ref in cog.resource["derivedFrom"]}
    assert {"Observation/nb-l2-inpc-derived-histology", "Observation/nb-l2-inpc-derived-differentiation-grade"} <= cited
