"""INSS in parallel with INRGSS (issue 14), as the clinician and the integrator see it: a line on the stage card
("INSS: after surgery (…)" before surgery, never a warning or a missing-data request), an Observation in the FHIR
output with verified codes only, and the ``inss`` key of ``nbcds classify --json``."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cds_service.cli.classify import classify_files
from tests.cds_service.client_simulator import Service, example_patient, hook_request, running_service
from tests.examples import EXAMPLES

SNOMED = "http://snomed.info/sct"
OURS = "https://neuroblastoma-cds.github.io/fhir/CodeSystem/inss-stage"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("inss")) as running:
        yield running


def _cards(service: Service, name: str) -> list[dict[str, Any]]:
    patient = example_patient(name)
    reply = service.client().call("neuroblastoma-staging", hook_request(patient.patient_id, prefetch=patient.prefetch()))
    assert reply.status == 200
    return reply.json["cards"]


def _inss_observation(card: dict[str, Any]) -> dict[str, Any]:
    resources = [action["resource"] for action in card["suggestions"][0]["actions"]]
    [inss] = [r for r in resources if r["code"]["coding"][0] == {
        "system": SNOMED, "code": "409720004",
        "display": "International neuroblastoma staging system stage (observable entity)"}]
    return inss


def test_before_surgery_the_inss_line_is_plain_and_the_card_stays_info(service: Service) -> None:
    cards = _cards(service, "nb-ms-infant")
    card = cards[0]
    assert card["indicator"] == "info"
    assert "**INSS: after surgery** (candidates 4 or 4S; needs " in card["detail"]
    assert "midline infiltration" in card["detail"]
    assert not [c for c in cards if "cannot be assigned" in c["summary"]]
    assert "INSS" not in card["summary"]
    recorded = [action["resource"]["code"]["coding"][0]["code"] for action in card["suggestions"][0]["actions"]]
    assert "409720004" not in recorded  # only determinate results are offered


def test_an_l1_before_surgery_says_which_inss_stages_remain(service: Service) -> None:
    card = _cards(service, "nb-l1-low")[0]
    assert card["indicator"] == "info"
    assert "**INSS: after surgery** (candidates 1, 2A, 2B or 3; needs resection, ipsilateral nodes (histology), " \
           "contralateral nodes (histology), midline infiltration)." in card["detail"]


@pytest.mark.parametrize(("name", "stage", "snomed"), [
    ("nb-inss-1", "1", None), ("nb-inss-2a", "2A", None), ("nb-inss-2b", "2B", "409724008"),
    ("nb-inss-3", "3", "409725009"), ("nb-m-older", "4", None), ("nb-inss-4s", "4S", None)])
def test_every_inss_stage_is_on_the_card_and_recorded_with_verified_codes_only(
        service: Service, name: str, stage: str, snomed: str | None) -> None:
    card = _cards(service, name)[0]
    assert f"**INSS stage {stage}**" in card["detail"]
    observation = _inss_observation(card)
    codings = observation["valueCodeableConcept"]["coding"]
    assert codings[-1] == {"system": OURS, "code": stage, "display": f"INSS stage {stage}"}
    assert [c["code"] for c in codings if c["system"] == SNOMED] == ([snomed] if snomed else [])
    assert observation["method"]["coding"][0]["code"] == "inss-brodeur-1993"
    assert "Brodeur 1993" in observation["note"][0]["text"]


def test_the_cli_json_carries_inss() -> None:
    out, err = io.StringIO(), io.StringIO()
    paths = [str(EXAMPLES / "cases" / f"{name}.json") for name in ("nb-inss-2a", "nb-l1-low")]
    assert classify_files(paths, True, out, err) == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]
    summaries = lines if len(lines) == 2 else json.loads(out.getvalue())
    by_patient = {s["patient"]: s for s in summaries}
    assert by_patient["nb-inss-2a"]["inss"] == {"stage": "2A", "candidates": ["2A"]}
    assert by_patient["nb-l1-low"]["inss"]["stage"] is None
    assert by_patient["nb-l1-low"]["inss"]["awaiting"] == [
        "resection-extent", "ipsilateral-nodes-histology", "contralateral-nodes-histology", "midline-infiltration"]
    assert by_patient["nb-inss-2a"]["trace"]["inss"]["rule"] == "INSS-2A"


def test_the_text_summary_says_after_surgery() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert classify_files([str(EXAMPLES / "cases" / "nb-l1-low.json")], False, out, err) == 0
    assert "INSS: after surgery (candidates 1, 2A, 2B, 3; needs resection-extent" in out.getvalue()
    assert "INSS stage cannot be assigned" not in out.getvalue()
