"""The work-up card and the unstable MS infant, as the clinician sees them (issue 14): only what is missing, a
warning only when a listed item can change a result or is due before the treatment being ordered, the grade only
where it decides, the observation-without-biopsy note, SRC-A's disagreements made visible, and the practice
guidance for the unstable MS infant on the stage card."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cds_service.services.cards.missing_data_card import missing_data_card
from cds_service.services.cards.workup_card import workup_card
from neuroblastoma.biology import DifferentiationGrade, InpcClass, Ploidy
from neuroblastoma.case_json import case_from_json
from neuroblastoma.classification import classify
from neuroblastoma.results import Stage
from neuroblastoma.workup import pretreatment_workup
from tests.cds_service.client_simulator import Service, example_names, example_patient, hook_request, running_service
from tests.examples import EXAMPLES

KEY = ("neuroblastoma-staging", "hook", "patient")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(tmp_path_factory.mktemp("workup")) as running:
        yield running


def _cards(service: Service, name: str) -> list[dict[str, Any]]:
    patient = example_patient(name)
    reply = service.client().call("neuroblastoma-staging", hook_request(patient.patient_id, prefetch=patient.prefetch()))
    assert reply.status == 200
    return reply.json["cards"]


def _workup(cards: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = [c for c in cards if c["summary"].startswith("Neuroblastoma work-up")]
    return found[0] if found else None


def _case(name: str) -> Any:
    return case_from_json(json.loads((EXAMPLES / "cases" / f"{name}.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", example_names())
def test_no_card_asks_for_the_grade_outside_l2_at_18_months_or_older(service: Service, name: str) -> None:
    """Neither the work-up card nor the missing-data card (issue 14: the grade decides only INRG E versus H)."""
    asking = [c["summary"] for c in _cards(service, name)[1:] if "grade" in c["detail"]]
    if not asking:
        return
    result = classify(_case(name))
    assert Stage.L2 in result.stage.candidates, asking  # L2, and the age may be 18 months or older
    age = _case(name).age
    assert age is None or age.max_days >= 547, asking


def test_the_missing_data_card_names_only_the_histology_it_needs(service: Service) -> None:
    l1 = next(c for c in _cards(service, "nb-adrenal-observation") if "cannot be assigned" in c["summary"])
    assert "**Histology review: INPC category** (pathology)" in l1["detail"]
    case = dataclasses.replace(_case("nb-l2-differentiating"), grade=DifferentiationGrade.UNKNOWN,
                               inpc=InpcClass.UNKNOWN)
    card = missing_data_card(classify(case), call_key=KEY)
    assert card is not None
    assert "**Histology review: grade of differentiation, MKI class and favourable/unfavourable class**" in card.detail


@pytest.mark.parametrize("name", example_names())
def test_in_patient_view_the_work_up_card_is_information_unless_an_item_decides(service: Service, name: str) -> None:
    """Whatever decides an open result is mostly on the missing-data card, and no treatment is being ordered in
    patient-view: the card is information. The one example where a listed item decides is the urgent spine MRI
    of nb-cord-compression: the IDRF 19 call it gives decides L1 versus L2."""
    card = _workup(_cards(service, name))
    if card is not None:
        assert card["indicator"] == ("warning" if name == "nb-cord-compression" else "info"), name


def test_the_card_is_a_warning_when_an_item_decides_or_is_due_before_the_ordered_treatment() -> None:
    case = _case("nb-indeterminate-mycn")
    workup = pretreatment_workup(case, classify(case))
    card = workup_card(workup, call_key=KEY)
    assert card is not None and card.indicator == "warning"  # MYCN decides, and no other card asks for it
    assert workup_card(workup, call_key=KEY, already_requested={"mycn"}) is None  # one missing fact, one request
    no_ploidy = dataclasses.replace(case, ploidy=Ploidy())
    workup = pretreatment_workup(no_ploidy, classify(no_ploidy))
    card = workup_card(workup, call_key=KEY, already_requested={"mycn"})
    assert card is not None and card.indicator == "info"  # ploidy decides nothing for L2 at 2 years
    no_mibg = dataclasses.replace(_case("nb-l1-low"), functional_imaging=())
    workup = pretreatment_workup(no_mibg, classify(no_mibg))
    assert workup_card(workup, call_key=KEY).indicator == "info"
    assert workup_card(workup, call_key=KEY, ordering="resection").indicator == "warning"


def test_observation_without_biopsy_is_said_and_srca_pet_exemption_is_corrected(service: Service) -> None:
    card = _workup(_cards(service, "nb-adrenal-observation"))
    assert card is not None
    detail = card["detail"]
    assert detail.startswith("Observation without biopsy is an accepted approach for this infant")
    assert "2.8 cm, solid (0 % cystic): below 3.1 cm" in detail
    assert "**18F-FDG PET**" in detail and "SRC-A exempts infants under 6 months" in detail
    assert "May be deferred while the infant is observed without biopsy" in detail
    for other in ("nb-adrenal-3-2-cm", "nb-adrenal-cystic-5-2-cm", "nb-adrenal-7-months"):
        other_card = _workup(_cards(service, other))
        assert other_card is not None
        assert "Observation without biopsy" not in other_card["detail"] and "SRC-A" in other_card["detail"]
        assert "SRC-A exempts" not in other_card["detail"], other
    assert "below 5 cm" in _workup(_cards(service, "nb-adrenal-cystic"))["detail"]


def test_the_missing_data_card_says_when_observation_without_biopsy_is_accepted(service: Service) -> None:
    """A warning to test tumour tissue must not read as a reason to biopsy an infant the criteria let be observed."""
    for name, said in (("nb-adrenal-observation", True), ("nb-adrenal-cystic", True), ("nb-adrenal-3-2-cm", False),
                       ("nb-adrenal-7-months", False)):
        card = next(c for c in _cards(service, name) if "cannot be assigned" in c["summary"])
        assert ("**Observation without biopsy** is an accepted approach for this infant" in card["detail"]) is said


def test_spine_mri_and_alk_examples(service: Service) -> None:
    paraspinal = _workup(_cards(service, "nb-paraspinal"))
    assert paraspinal is not None and paraspinal["summary"] == "Neuroblastoma work-up incomplete: MRI of the spine"
    alk = _workup(_cards(service, "nb-alk-missing"))
    assert alk is not None and alk["summary"] == "Neuroblastoma work-up incomplete: ALK status"
    assert "During induction, not before treatment" in alk["detail"] and alk["indicator"] == "info"
    cord = _workup(_cards(service, "nb-cord-compression"))
    assert cord is not None and cord["indicator"] == "warning"
    assert ("- **MRI of the spine**: no report of the spinal canal (IDRF 19) on record. Urgent: signs of cord "
            "compression are an emergency, and treatment is not delayed for the MRI;") in cord["detail"]
    assert _workup(_cards(service, "nb-m-alk-siopen")) is None  # ALK and the SIOPEN score are on record


def test_the_unstable_ms_infant_card_states_the_practice_and_stays_undetermined(service: Service) -> None:
    cards = _cards(service, "nb-ms-unstable")
    card = cards[0]
    assert "**Practice guidance** (PDQ; COG ANBL0531): a symptomatic MS infant too unstable for biopsy may start " \
           "intermediate-risk chemotherapy first" in card["detail"]
    assert "**COG 2021: high or intermediate** — depends on MYCN." in card["detail"]
    assert any(c["summary"].startswith("Risk group cannot be assigned yet: needs MYCN status") for c in cards)
    workup = _workup(cards)
    assert workup is not None and "When safe: an unstable MS infant may start chemotherapy before the biopsy" in workup["detail"]
