"""A third risk schema is one module plus one registration line: registered here for the test only, it
appears in the card, the missing-data card, the FHIR output, the audit record and the CLI without any
other module being edited (docs/architecture.md, "Where to add a risk schema")."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cds_service.cli.classify import classify_files
from fhir_mappings.results_codes import GENERIC_RISK_CODING
from neuroblastoma.case import Case, FactKey
from neuroblastoma.classification import RISK_SCHEMAS
from neuroblastoma.registry import RiskSchema
from neuroblastoma.results import MissingInput, RiskLevel, RiskOutcome, RiskResult, Stage, StageResult, Trace
from neuroblastoma.sources import RULESET_VERSION, Source
from tests.cds_service.client_simulator import Service, example_patient, hook_request, running_service
from tests.examples import EXAMPLES
from tests.support.store_readers import audit_records

TOY_SOURCE = Source("Toy 2030", "Toy A, et al. A toy risk schema for tests. 2030.", "https://example.org/toy-2030")


def classify_toy(case: Case, stage: StageResult[Stage]) -> RiskResult:
    """High risk for stage M, low otherwise; undecided (high or low) while the stage is."""
    citation = "Toy 2030, Table 1"
    if stage.stage is None:
        missing = (MissingInput(FactKey.STAGE, "the toy schema splits on stage M"),)
        return RiskResult("toy2030", None, (RiskOutcome(RiskLevel.HIGH), RiskOutcome(RiskLevel.LOW)),
                          Trace("Toy indeterminate", citation, missing=missing), RULESET_VERSION)
    risk = RiskLevel.HIGH if stage.stage is Stage.M else RiskLevel.LOW
    trace = Trace(f"Toy {risk.value}", citation, (FactKey.STAGE,), steps=(f"stage {stage.stage.value}",))
    return RiskResult("toy2030", RiskOutcome(risk), (RiskOutcome(risk),), trace, RULESET_VERSION)


TOY = RiskSchema("toy2030", "Toy 2030", "TOY", TOY_SOURCE, "inrgss", classify_toy)


@pytest.fixture
def toy() -> Iterator[RiskSchema]:
    with RISK_SCHEMAS.registered(TOY) as schema:
        yield schema


@pytest.fixture
def service(tmp_path: Path, toy: RiskSchema) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def _stage_risk_card(service: Service, name: str) -> tuple[dict, str]:
    data = example_patient(name)
    body = hook_request(data.patient_id, prefetch=data.prefetch())
    reply = service.client().call("neuroblastoma-staging", body)
    assert reply.status == 200, reply.body[:300]
    return reply.json["cards"][0], body["hookInstance"]


def test_the_toy_schema_is_in_the_card_the_fhir_output_and_the_audit(service: Service) -> None:
    card, hook_instance = _stage_risk_card(service, "nb-m-older")
    assert "TOY high risk" in card["summary"]
    assert "Toy 2030: high risk" in card["detail"]
    resources = [action["resource"] for action in card["suggestions"][0]["actions"]]
    toy_results = [r for r in resources if r["code"]["coding"][0]["code"] == GENERIC_RISK_CODING.code.code]
    assert len(toy_results) == 1
    assert toy_results[0]["method"]["text"].startswith("Toy 2030 (Toy 2030)")
    assert toy_results[0]["valueCodeableConcept"]["text"] == "Toy 2030: high risk"
    [record] = audit_records(service.store, hook_instance=hook_instance)
    assert record.results.risks["toy2030"].risk == "high"
    assert set(record.results.risks) == {"inrg2009", "cog2021", "toy2030"}


def test_an_undecided_toy_schema_is_on_the_missing_data_card(service: Service) -> None:
    data = example_patient("nb-indeterminate-equivocal")
    reply = service.client().call("neuroblastoma-staging", hook_request(data.patient_id, prefetch=data.prefetch()))
    cards = reply.json["cards"]
    missing = next(card for card in cards if "cannot be assigned" in card["summary"])
    assert "Toy 2030: high or low" in missing["detail"]
    assert "TOY risk undetermined" in cards[0]["summary"]


def test_the_toy_schema_is_in_the_cli_output(toy: RiskSchema) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert classify_files([str(EXAMPLES / "cases" / "nb-l1-low.json")], True, out, err) == 0
    summary = json.loads(out.getvalue())
    assert summary["toy2030"] == {"risk": "low", "candidates": ["low"], "out_of_scope": False}
    assert "toy2030" in summary["trace"]
    out = io.StringIO()
    classify_files([str(EXAMPLES / "cases" / "nb-l1-low.json")], False, out, err)
    assert "Toy 2030: low risk" in out.getvalue()


def test_registration_is_undone_after_the_test() -> None:
    assert "toy2030" not in RISK_SCHEMAS
