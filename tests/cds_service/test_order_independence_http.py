"""Issue 13 through the HTTP service: the cards are a function of the set of resources.

The same record, shuffled, split across the prefetch keys and across pages (a Bundle of searchset Bundles),
with duplicates and unrelated resources, gives the same cards (summary, indicator, detail, missing-data and
work-up cards); and the scenarios of issue 13 show what the clinician must see in the card itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cds_service.client_simulator import Service, hook_request, running_service, searchset
from tests.fhir_mappings.test_order_independence import RECORDS, as_bundle, unrelated

STAGING = "neuroblastoma-staging"
# The records whose answer order once changed, and a spread of the others (each call costs ~10 ms).
NAMES = ["nb-messy-two-conditions", "nb-messy-two-onsets", "nb-l2-bilateral", "nb-messy-multifocal-by-side",
         "nb-messy-equivocal-mri", "nb-messy-duplicates", "nb-messy-searchset", "nb-ms-infant", "nb-l1-low",
         "nb-indeterminate-mycn"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with running_service(Path(tmp_path_factory.mktemp("order"))) as running:
        yield running


HOOK_INSTANCE = "7c1d2b1e-0000-4000-8000-000000000013"  # the card uuids derive from it: one for every call
CHECK_FIRST = "**Check first**"
# "Check first" lines that count what was sent and ignored (records of another patient, codes not read), and
# the pointer to the rest of the list: they rightly change when unrelated resources are added.
DATA_NOTE_LINES = ("- Note: ", "- **Data problem.** ")


def _check_first(detail: str) -> list[str]:
    if CHECK_FIRST not in detail:
        return []
    return [line for line in detail.split(CHECK_FIRST, 1)[1].split("\n\n", 1)[0].splitlines() if line.startswith("- ")]


def cards_of(service: Service, patient: str, prefetch: dict[str, Any],
             without_data_notes: bool = False) -> list[dict[str, Any]]:
    """The cards as a clinician reads them; ``without_data_notes`` drops the "Check first" block, whose data notes
    rightly count the unrelated resources that were sent (and ignored), keeping its other items."""
    reply = service.client().call(STAGING, hook_request(patient, prefetch=prefetch, hook_instance=HOOK_INSTANCE))
    assert reply.status == 200, reply.body[:300]
    cards = [{key: card.get(key) for key in ("summary", "indicator", "detail")} for card in reply.json["cards"]]
    if without_data_notes:
        for card in cards:
            head, found, tail = card["detail"].partition(CHECK_FIRST)
            items = [line for line in _check_first(card["detail"]) if not line.startswith(DATA_NOTE_LINES)
                     and not line.endswith("more in the app (Decision path).")]
            card["detail"] = head + (tail.split("\n\n", 1)[1] if found and "\n\n" in tail else tail)
            card["check_first"] = items
    return cards


def plain_prefetch(resources: list[dict[str, Any]], patient: str) -> dict[str, Any]:
    def of(kind: str) -> list[dict[str, Any]]:
        return [r for r in resources if r["resourceType"] == kind]

    return {"patient": next(r for r in of("Patient") if r["id"] == patient),
            "conditions": searchset(of("Condition")), "observations": searchset(of("Observation"))}


@st.composite
def reshaped_prefetch(draw: st.DrawFn, resources: list[dict[str, Any]], patient: str) -> tuple[dict[str, Any], bool]:
    """The prefetch reshaped, and whether unrelated resources were added."""
    others = [r for r in resources if not (r["resourceType"] == "Patient" and r["id"] == patient)]
    others += draw(st.lists(st.sampled_from(others), max_size=2))  # duplicates
    padding = draw(st.lists(st.sampled_from(unrelated(patient)), max_size=2, unique_by=lambda r: r["id"]))
    others += padding
    others = draw(st.permutations(others))
    keys = [draw(st.sampled_from(("conditions", "observations"))) for _ in others]
    prefetch: dict[str, Any] = {"patient": next(r for r in resources if r["id"] == patient)}
    for key in ("conditions", "observations"):
        mine = [r for r, k in zip(others, keys, strict=True) if k == key]
        half = draw(st.integers(0, len(mine)))
        prefetch[key] = (as_bundle([searchset(mine[:half]), searchset(mine[half:])], "collection")
                         if draw(st.booleans()) else searchset(mine))
    return json.loads(json.dumps(prefetch)), bool(padding)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), name=st.sampled_from(NAMES))
def test_the_cards_do_not_depend_on_order_split_duplicates_or_padding(service: Service, data: st.DataObject,
                                                                       name: str) -> None:
    resources = RECORDS[name]
    prefetch, padded = data.draw(reshaped_prefetch(resources, name))
    expected = cards_of(service, name, plain_prefetch(resources, name), without_data_notes=padded)
    assert cards_of(service, name, prefetch, without_data_notes=padded) == expected


# ---- what the card itself must say ------------------------------------------------------------------------

def stage_card(cards: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in cards if c["summary"].startswith("INRG stage"))


def test_diagnosis_dates_that_disagree_are_in_the_card_summary_in_both_orders(service: Service) -> None:
    resources = RECORDS["nb-messy-two-conditions"]
    for order in (resources, list(reversed(resources))):
        prefetch = plain_prefetch(order, "nb-messy-two-conditions")
        summary = stage_card(cards_of(service, "nb-messy-two-conditions", prefetch))["summary"]
        assert summary.startswith("INRG stage MS · ⚠ diagnosis dates disagree"), summary


def test_an_absurd_onset_age_is_a_named_problem_on_the_card_not_a_500(service: Service) -> None:
    resources = json.loads(json.dumps(RECORDS["nb-ms-infant"]))
    condition = next(r for r in resources if r["resourceType"] == "Condition")
    condition.pop("onsetDateTime")
    condition["onsetAge"] = {"value": 1e308, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}
    cards = cards_of(service, "nb-ms-infant", plain_prefetch(resources, "nb-ms-infant"))
    card = stage_card(cards)
    assert "⚠ implausible date" in card["summary"]
    assert "not a possible age" in card["detail"]


def test_an_equivocal_focus_asks_for_its_confirmation_only(service: Service) -> None:
    cards = cards_of(service, "nb-indeterminate-equivocal",
                     plain_prefetch(RECORDS["nb-indeterminate-equivocal"], "nb-indeterminate-equivocal"))
    missing = next(c for c in cards if "cannot be assigned" in c["summary"])
    assert "confirmation of the focus by cross-sectional imaging or biopsy" in missing["summary"]
    assert "MIBG/bone scan" not in missing["summary"] and "metastatic work-up" not in missing["summary"]


def test_no_warning_appears_twice_on_any_card() -> None:
    from fhir_mappings.reading.case_reader import read_case
    from neuroblastoma.classification import classify

    for name, resources in RECORDS.items():
        result = classify(read_case([as_bundle(resources, "collection")], name).case)
        messages = [w.message for w in result.all_warnings]
        assert len(messages) == len(set(messages)), name


def test_no_warning_line_is_repeated_in_the_card_detail(service: Service) -> None:
    for name in NAMES:
        detail = stage_card(cards_of(service, name, plain_prefetch(RECORDS[name], name)))["detail"]
        lines = _check_first(detail)
        assert len(lines) == len(set(lines)), name


def test_no_data_note_is_repeated_with_three_diagnoses_on_record(service: Service) -> None:
    """Three Conditions for one neuroblastoma (problem list, two encounter diagnoses): one note, not one per
    extra Condition."""
    resources = json.loads(json.dumps(RECORDS["nb-messy-two-conditions"]))
    third = json.loads(json.dumps(next(r for r in resources if r["id"].endswith("encounter-diagnosis"))))
    third["id"] = "nb-messy-two-conditions-encounter-diagnosis-2"
    resources.append(third)
    card = stage_card(cards_of(service, "nb-messy-two-conditions", plain_prefetch(resources, "nb-messy-two-conditions")))
    items = _check_first(card["detail"])
    assert items and len(items) == len(set(items)), items
    assert "diagnosis dates disagree" in card["summary"]
    assert card["detail"].lower().count("diagnosis dates disagree") <= 1, card["detail"]
