"""The cards as a clinician reads them (issue 15): short, warnings first, clinical words, no FHIR ids, one request
per missing fact, links to the SMART app. Every example patient, through the HTTP service."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from cds_service.services.cards.markdown import escape_inline, without_references
from cds_service.services.cards.stage_risk_card import DETAIL_LIMIT
from tests.cds_service.cds_hooks_schema import assert_valid_cards_response
from tests.cds_service.client_simulator import Service, example_names, example_patient, hook_request, running_service

FHIR_ID = re.compile(r"\b(?:Observation|Condition|Patient|ServiceRequest|Procedure)/")
# COG 2021 rows are labelled "L1 L1 NA", "H5 M/MS 12-18 mo SCA", "I L2 <18 mo" inside the code; INRG rows "row D".
INTERNAL_ROW_LABELS = re.compile(r"\brow [A-R]\b|\b[HL][1-6] (?:L1|L2|M|MS|M/MS)\b|\bI (?:L2|M|MS|M/MS) ")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("cards")) as running:
        yield running


def _cards(service: Service, name: str) -> list[dict[str, Any]]:
    patient = example_patient(name)
    reply = service.client().call("neuroblastoma-staging", hook_request(patient.patient_id, prefetch=patient.prefetch()))
    assert reply.status == 200
    return assert_valid_cards_response(reply.json)["cards"]


@pytest.mark.parametrize("name", example_names())
def test_every_stage_and_risk_card_is_short_and_clinical(service: Service, name: str) -> None:
    cards = _cards(service, name)
    card = cards[0]
    detail = card["detail"]
    assert len(detail) <= DETAIL_LIMIT, (name, len(detail))
    assert len(card["summary"]) < 140
    assert not FHIR_ID.search(detail), name
    assert not INTERNAL_ROW_LABELS.search(detail), name
    assert "very-low" not in detail + card["summary"]
    if "**Check first**" in detail:
        assert detail.index("**Check first**") < detail.index("**Why**")
    assert "| Input | Value | Date |" in detail or "| Input | Value (reported 20" in detail  # one date: said once
    smart = [link for link in card["links"] if link["type"] == "smart"]
    assert [link["label"] for link in smart] == ["Decision path (app)", "Explanation for the family (app)"]
    assert all("/app/launch?view=" in link["url"] and "appContext" not in link for link in smart)
    for other in cards[1:]:
        assert not FHIR_ID.search(other.get("detail", ""))


@pytest.mark.parametrize("name", example_names())
def test_one_missing_fact_is_one_request_and_never_the_stage_itself(service: Service, name: str) -> None:
    cards = _cards(service, name)
    missing = [c for c in cards if "cannot be assigned yet" in c["summary"]]
    workup = [c for c in cards if c["summary"].startswith("Neuroblastoma work-up incomplete")]
    for card in missing:
        assert "INRG stage" not in card["summary"].split("needs", 1)[1]
        requests = [line for line in card["detail"].splitlines() if line.startswith("- **")]
        assert len(requests) == len(set(requests))
    if missing and workup:
        asked = missing[0]["summary"].split("needs", 1)[1]
        for test in ("MYCN", "DNA index", "MIBG", "bone marrow"):
            assert not (test in asked and test in workup[0]["summary"]), (name, test)


def test_a_complete_high_risk_result_on_final_data_is_info(service: Service) -> None:
    card = _cards(service, "nb-m-older")[0]
    assert card["indicator"] == "info"
    assert "**Check first**" not in card["detail"]


def test_schema_disagreement_is_a_warning_and_leads(service: Service) -> None:
    card = _cards(service, "nb-l2-infant")[0]
    assert card["indicator"] == "warning"
    assert card["summary"].endswith("· schemas disagree")
    assert card["detail"].startswith("**Check first**\n- **Schemas disagree:** INRG 2009 group D is low risk, "
                                     "COG 2021 is intermediate risk.")


def test_the_missing_data_card_links_the_worksheet_when_radiology_decides(service: Service) -> None:
    cards = _cards(service, "nb-indeterminate-equivocal")
    [missing] = [c for c in cards if "cannot be assigned yet" in c["summary"]]
    assert missing["links"][0]["type"] == "smart" and missing["links"][0]["url"].endswith("view=worksheet")
    assert "confirmation of the focus" in missing["summary"]  # radiology's to record: the worksheet link


def test_escape_inline_neutralises_markup_but_keeps_dates_readable() -> None:
    assert escape_inline("2025-06-01 (5 %)") == "2025-06-01 (5 %)"
    assert escape_inline("<img src=x> *b* [l](u) a|b") == "&lt;img src=x&gt; \\*b\\* \\[l\\](u) a\\|b"
    assert "://" not in escape_inline("see http://evil.example") and "www." not in escape_inline("www.x.org")


def test_without_references_drops_fhir_ids() -> None:
    text = "IDRF-15 (Observation/a-1): call [Observation/b, Condition/c] contradicts; MDP/FDG-PET; Patient/p used"
    assert without_references(text) == "IDRF-15: call contradicts; MDP/FDG-PET; a record used"

