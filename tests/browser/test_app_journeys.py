"""The SMART app in a real browser (Debian Chromium, Playwright for Python), end to end, as a handful of journeys:

1. Standalone launch through the SMART EHR stand-in: PKCE, read-only scopes, the decision path renders and
   passes axe-core (WCAG 2.1 AA); the family page too, at a grade 6–8 reading level.
2. EHR launch of the worksheet: create scopes asked for, each IDRF derived live by the service (renal-vessel
   contact → IDRF; inferior mesenteric artery encasement → not), the stage shown live, keyboard only, axe-clean;
   Save writes preliminary Observations and a Provenance through the EHR; the next chart open (a CDS Hooks
   call) shows the card computed from them.
3. Open-server mode and a 360-px-wide window: the pages stay usable without sign-in and on a phone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from cds_service.app.family import NOT_A_DIAGNOSIS, RISK_WORDS, STAGE_WORDS
from fhir_mappings.writing.case_to_fhir import case_to_bundle
from neuroblastoma.case_json import case_from_json
from tests.browser.harness import (
    RunningService,
    axe_violations,
    chromium,
    describe,
    missing_tools,
    start_service,
)
from tests.examples import case_document
from tests.support.fhir_engine import FhirEngine
from tests.support.smart_ehr import SmartEhr

pytestmark = pytest.mark.integration
WORKSHEET_PATIENT = "nb-worksheet"
PREVIEW_PATIENT = "nb-worksheet-preview"  # its own chart: the journey above saves IDRFs into nb-worksheet's


@pytest.fixture(scope="module")
def engine() -> Iterator[FhirEngine]:
    with FhirEngine(cors=True) as running:
        for name in ("nb-ms-infant", "nb-l2-infant"):
            running.seed(case_to_bundle(case_from_json(case_document(name))))
        for patient in (WORKSHEET_PATIENT, PREVIEW_PATIENT):
            document = copy.deepcopy(case_document("nb-l2-infant"))
            document["patient"] = patient
            del document["primaries"]  # the radiology is what the worksheet records
            running.seed(case_to_bundle(case_from_json(document)))
        yield running


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, engine: FhirEngine) -> Iterator[RunningService]:
    problem = missing_tools()
    if problem:
        pytest.fail(problem, pytrace=False)
    running = start_service(tmp_path_factory.mktemp("browser"), [engine.root_url])
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ehr(engine: FhirEngine, service: RunningService) -> Iterator[SmartEhr]:
    stand_in = SmartEhr(engine.base_url, redirect_uri=f"{service.base_url}/app/callback").start()
    yield stand_in
    stand_in.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})  # bypass: axe injection
    context.set_default_timeout(15_000)
    seen: list[str] = []
    page = context.new_page()
    page.on("console", lambda message: seen.append(message.text) if message.type == "error" else None)
    yield page
    context.close()
    assert not seen, seen


def _assert_accessible(page: Any) -> None:
    violations = axe_violations(page)
    assert not violations, describe(violations)


def _scopes(ehr: SmartEhr) -> set[str]:
    return set(ehr.authorizations[-1]["scope"][0].split())


def test_standalone_launch_shows_the_decision_path_and_the_family_page(page: Any, service: RunningService,
                                                                       ehr: SmartEhr) -> None:
    ehr.standalone_patient = "nb-ms-infant"
    page.goto(f"{service.base_url}/app/launch?view=decision-path")
    page.get_by_label("FHIR server (base URL)").fill(ehr.fhir_base)
    page.get_by_role("button", name="Open").click()
    page.wait_for_url(re.compile(r"/app/decision-path$"))
    authorization = ehr.authorizations[-1]
    assert authorization["code_challenge_method"] == ["S256"] and authorization["aud"] == [ehr.fhir_base]
    assert _scopes(ehr) == {"launch/patient", "openid", "fhirUser", "patient/Patient.rs", "patient/Condition.rs",
                            "patient/Observation.rs"}  # read only: no .c outside the worksheet
    result = page.locator("p.result").inner_text()
    assert "INRG stage MS" in result and "COG 2021: low risk" in result and "INRG 2009: group C" in result
    assert page.get_by_role("heading", name="How each result was reached").is_visible()
    assert page.locator("table.inputs").get_by_text("Observation/nb-ms-infant-mycn").count() == 1  # ids live here
    _assert_accessible(page)

    page.get_by_role("link", name="For the family").click()
    page.wait_for_url(re.compile(r"/app/family$"))
    text = page.locator("main").inner_text()
    assert NOT_A_DIAGNOSIS in text and STAGE_WORDS_MS in text
    assert "Stage MS" in text and RISK_WORDS_LOW in text
    assert reading_grade(text) <= 8.0, reading_grade(text)
    _assert_accessible(page)
    page.emulate_media(media="print")
    assert not page.get_by_role("navigation").is_visible()  # printable: no navigation on paper


STAGE_WORDS_MS = STAGE_WORDS[next(iter(s for s in STAGE_WORDS if s.value == "MS"))][0]
RISK_WORDS_LOW = next(words for level, words in RISK_WORDS.items() if level.value == "low").split(".")[0]


def test_ehr_launch_worksheet_derives_idrfs_saves_and_the_next_card_uses_them(
        page: Any, service: RunningService, ehr: SmartEhr, engine: FhirEngine) -> None:
    launch = ehr.new_launch(WORKSHEET_PATIENT)
    page.goto(f"{service.base_url}/app/launch?iss={ehr.fhir_base}&launch={launch}&view=worksheet")
    page.wait_for_url(re.compile(r"/app/worksheet$"))
    assert {"launch", "patient/Observation.c", "patient/Provenance.c"} <= _scopes(ehr)
    assert ehr.authorizations[-1]["launch"] == [launch]
    assert page.locator("#live-stage").inner_text().startswith("INRG stage L1 or L2")  # no radiology yet

    page.get_by_label("Date of the imaging study").fill("2025-06-01")
    page.get_by_label("Body compartment of the primary").select_option("abdomen")
    page.get_by_label("Side of the primary").select_option("left")
    # Keyboard only for one answer: focus the select and choose with the arrow keys.
    renal = page.get_by_label("IDRF 15, relation of tumour and structure")
    renal.focus()
    renal.select_option("contact")
    page.get_by_label("IDRF 13, kind of structure").select_option("inferior-mesenteric-artery")
    page.get_by_label("IDRF 13, relation of tumour and structure").select_option("encasement")
    page.get_by_label("I assessed all 20 IDRFs").check()

    # IDRF 15 alone already makes L2: wait for the preview of the last answer (IDRF 13 judged) as well.
    page.wait_for_function("document.getElementById('live-stage').textContent === 'INRG stage L2' && "
                           "document.getElementById('out-IDRF-13').textContent.startsWith('not an IDRF')")
    assert page.locator("#out-IDRF-15").inner_text().startswith("IDRF present: contact with the renal vessels")
    assert page.locator("#out-IDRF-13").inner_text().startswith("not an IDRF: the inferior mesenteric artery")
    risks = page.locator("#live-risks").inner_text()
    assert "COG 2021: intermediate risk" in risks and "INRG 2009: group D, low risk" in risks
    _assert_accessible(page)

    page.get_by_role("button", name="Save to the chart").click()
    page.wait_for_url(re.compile(r"/app/decision-path\?saved=\d+$"))
    assert "The worksheet was saved" in page.get_by_role("status").inner_text()
    assert "INRG stage L2" in page.locator("p.result").inner_text()
    writes = [r for r in ehr.requests if r["method"] == "POST"]
    assert writes and all(r["token"] for r in writes)

    [provenance] = _search(engine, "Provenance", "")
    assert provenance["agent"][0]["who"] == {"reference": ehr.user}
    saved = [_read(engine, target["reference"]) for target in provenance["target"]]
    idrfs = {o["code"]["coding"][0]["code"]: o for o in saved if o["code"]["coding"][0]["code"].startswith("IDRF-")}
    assert {o["status"] for o in saved} == {"preliminary"} and set(idrfs) == {"IDRF-13", "IDRF-15"}
    assert {o["subject"]["reference"] for o in saved} == {f"Patient/{WORKSHEET_PATIENT}"}
    relation = {c["code"]["coding"][0]["code"]: c["valueCodeableConcept"]["coding"][0]["code"]
                for c in idrfs["IDRF-13"]["component"]}
    assert relation == {"idrf-structure-kind": "inferior-mesenteric-artery", "idrf-structure-relation": "encasement"}
    assert idrfs["IDRF-13"]["valueCodeableConcept"]["coding"][0]["code"] == "2667000"  # absent, as derived

    card = _staging_card(service, engine, WORKSHEET_PATIENT)
    assert card["summary"].startswith("INRG stage L2 · COG intermediate risk · INRG group D (low)")
    assert "**Preliminary result decides.** Image-defined risk factors (2025-06-01)" in card["detail"]


def test_open_server_mode_and_a_phone_wide_window(page: Any, service: RunningService, engine: FhirEngine) -> None:
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(f"{service.base_url}/app/launch?iss={engine.base_url}&patient=nb-l2-infant&view=decision-path")
    page.wait_for_url(re.compile(r"/app/decision-path$"))
    assert "open test server" in page.locator("header").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    page.get_by_role("link", name="IDRF worksheet").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _assert_accessible(page)



def test_a_late_preview_never_replaces_a_newer_one(page: Any, service: RunningService, engine: FhirEngine) -> None:
    """The first preview is held back until a later one has been shown: its stale stage must not overwrite it."""
    page.goto(f"{service.base_url}/app/launch?iss={engine.base_url}&patient={PREVIEW_PATIENT}&view=worksheet")
    page.wait_for_url(re.compile(r"/app/worksheet$"))
    held: list[Any] = []
    page.route("**/app/api/preview", lambda route: route.continue_() if held else held.append(route))
    renal = page.get_by_label("IDRF 15, relation of tumour and structure")
    renal.select_option("contact")  # preview 1 (held): an IDRF present, L2
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the first preview was not sent"
    with page.expect_response("**/app/api/preview"):
        renal.select_option("")  # preview 2: not assessed again, L1 or L2
    page.wait_for_function("document.getElementById('live-missing') !== null")
    assert page.locator("#live-stage").inner_text() == "INRG stage L1 or L2"
    with page.expect_response("**/app/api/preview"):
        held[0].continue_()  # preview 1 arrives last
    page.wait_for_timeout(200)
    assert page.locator("#live-stage").inner_text() == "INRG stage L1 or L2"

def _search(engine: FhirEngine, resource: str, query: str) -> list[dict[str, Any]]:
    response = requests.get(f"{engine.base_url}/{resource}?{query}", timeout=10)
    response.raise_for_status()
    return [entry["resource"] for entry in response.json().get("entry", ())]


def _read(engine: FhirEngine, reference: str) -> dict[str, Any]:
    response = requests.get(f"{engine.base_url}/{reference}", timeout=10)
    response.raise_for_status()
    resource: dict[str, Any] = response.json()
    return resource


def _staging_card(service: RunningService, engine: FhirEngine, patient: str) -> dict[str, Any]:
    """The next chart open: a CDS Hooks call without prefetch, so the service reads the FHIR server itself."""
    body = {"hook": "patient-view", "hookInstance": "5b5c1d0e-9c1a-4a3e-8f5e-0d7f0c2b1a01",
            "fhirServer": engine.base_url, "context": {"userId": "Practitioner/1", "patientId": patient}}
    response = requests.post(f"{service.base_url}/cds-services/neuroblastoma-staging", json=body, timeout=20)
    assert response.status_code == 200, response.text[:300]
    return response.json()["cards"][0]


def reading_grade(text: str) -> float:
    """Flesch–Kincaid grade level (syllables counted by vowel groups: a rough but standard estimate)."""
    sentences = max(1, len(re.findall(r"[.!?](?:\s|$)", text)))
    words = re.findall(r"[A-Za-z]+", text)
    syllables = sum(max(1, len(re.findall(r"[aeiouy]+", w.lower())) - (w.lower().endswith("e") and len(w) > 2))
                    for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / max(1, len(words)) - 15.59


def test_the_stand_in_rejects_a_token_without_the_scope(engine: FhirEngine, ehr: SmartEhr) -> None:
    ehr.tokens["read-only"] = {"scope": "patient/Observation.rs", "patient": WORKSHEET_PATIENT}
    bundle = {"resourceType": "Bundle", "type": "transaction",
              "entry": [{"resource": {"resourceType": "Observation"}, "request": {"method": "POST", "url": "Observation"}}]}
    response = requests.post(ehr.fhir_base, json=bundle, headers={"Authorization": "Bearer read-only"}, timeout=10)
    assert response.status_code == 403
