"""The SMART app's server side without a browser: scopes, session, CSRF, the FHIR-server policy, the worksheet's
derivations and Observations, the Questionnaire and its extraction (the browser journeys are in tests/browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cds_service.app.questionnaire import questionnaire
from cds_service.app.smart import scopes
from cds_service.app.worksheet import Answers, preview, worksheet_bundle
from cds_service.app.worksheet_fields import FIELDS
from cds_service.http.app import create_app
from cds_service.settings import Settings
from fhir_mappings.reading.case_reader import read_case
from neuroblastoma.case_json import case_from_json
from neuroblastoma.facts import Presence
from neuroblastoma.idrf import IdrfCode
from neuroblastoma.results import Stage
from tests.examples import case_document
from tests.support.fhir_engine import FhirEngine

ANSWERS = {"study-date": "2025-06-01", "compartment": "abdomen", "side": "left", "idrf-15-relation": "contact",
           "idrf-13-structure": "inferior-mesenteric-artery", "idrf-13-relation": "encasement",
           "idrf-19-canal-percent": "20", "idrf-19-over-third": "no", "idrf-19-leptomeninges": "no",
           "idrf-19-cord-signal": "no", "idrf-others-absent": "yes", "node-abdominal": "involved",
           "site-liver": "absent", "mibg-avid": "yes", "mibg-bone": "negative", "mibg-marrow": "negative"}


def _app(tmp_path: Path, **settings: Any) -> Flask:
    values: dict[str, Any] = {"profile": "development", "require_jwt": False, "log_level": "WARNING",
                              "database_url": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                              "app_key_file": str(tmp_path / "key"), **settings}
    return create_app(Settings(**values))


def test_scopes_are_the_fewest_that_work() -> None:
    assert scopes(ehr_launch=True, write=False, v2=True) == (
        "launch openid fhirUser patient/Patient.rs patient/Condition.rs patient/Observation.rs")
    assert scopes(ehr_launch=False, write=True, v2=True).endswith("patient/Observation.c patient/Provenance.c")
    assert "patient/Observation.read" in scopes(ehr_launch=True, write=False, v2=False)  # a SMART v1 server


def test_the_worksheet_derives_each_idrf_with_the_domain_rules() -> None:
    chart = case_from_json(case_document("nb-l2-infant"))
    shown = preview(chart, Answers.of(ANSWERS))
    assert shown.idrfs["IDRF-15"][0] == "present" and "renal vessels" in shown.idrfs["IDRF-15"][1]
    assert shown.idrfs["IDRF-13"][0] == "absent" and "inferior mesenteric artery" in shown.idrfs["IDRF-13"][1]
    assert shown.idrfs["IDRF-19"][0] == "absent"  # intraspinal extension meeting no criterion
    assert shown.classification.stage.stage is Stage.L2


def test_unknown_answers_are_reported_never_guessed() -> None:
    answers = Answers.of({"idrf-15-relation": "touching", "idrf-19-canal-percent": "140", "nonsense": "x"})
    assert len(answers.problems) == 2 and answers.values == {}


def test_saved_observations_read_back_as_the_same_radiology() -> None:
    bundle = worksheet_bundle(Answers.of(ANSWERS), "p1", author="Practitioner/r1")
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert {o["status"] for o in observations} == {"preliminary"}
    assert all("id" not in o and o["effectiveDateTime"] == "2025-06-01" for o in observations)
    [provenance] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]
    assert len(provenance["target"]) == len(observations)
    case = read_case([{"resourceType": "Patient", "id": "p1"}, bundle], "p1").case
    [primary] = case.primaries
    calls = {finding.code: finding.status for finding in primary.idrfs}
    assert calls[IdrfCode.ABDOMEN_RENAL_PEDICLE] is Presence.PRESENT
    assert calls[IdrfCode.ABDOMEN_SMA_BRANCHES] is Presence.ABSENT
    signed = worksheet_bundle(Answers.of({**ANSWERS, "sign": "yes"}), "p1", author=None)
    assert {e["resource"].get("status") for e in signed["entry"]} == {"final", None}


def test_the_questionnaire_and_its_response_give_the_same_observations(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    document = client.get("/app/Questionnaire/idrf-worksheet").get_json()
    assert document == questionnaire("http://localhost")
    link_ids: list[str] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for item in items:
            link_ids.append(item["linkId"])
            walk(item.get("item", []))

    walk(document["item"])
    assert len(link_ids) == len(set(link_ids)) and set(FIELDS) <= set(link_ids)

    def answer(name: str, value: str) -> dict[str, Any]:
        field = FIELDS[name]
        if field.kind == "choice":
            choice = next(c for c in field.choices if c.value == value)
            return {"valueCoding": {"system": choice.system, "code": value}}
        if field.kind == "boolean":
            return {"valueBoolean": value == "yes"}
        return {"valueDecimal": float(value)} if field.kind == "decimal" else {"valueDate": value}

    response = {"resourceType": "QuestionnaireResponse", "status": "completed", "subject": {"reference": "Patient/p1"},
                "questionnaire": document["url"],
                "item": [{"linkId": "all", "item": [{"linkId": n, "answer": [answer(n, v)]} for n, v in ANSWERS.items()]}]}
    extracted = client.post("/app/QuestionnaireResponse/$extract", json=response)
    assert extracted.status_code == 200, extracted.get_data(as_text=True)
    expected = worksheet_bundle(Answers.of(ANSWERS), "p1", author=None)

    def observations(bundle: dict[str, Any]) -> list[str]:
        return sorted(json.dumps({k: v for k, v in e["resource"].items()}, sort_keys=True)
                      for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")

    assert observations(extracted.get_json()) == observations(expected)
    bad = client.post("/app/QuestionnaireResponse/$extract", json={**response, "subject": {"reference": "Group/1"}})
    assert bad.status_code == 400 and bad.get_json()["resourceType"] == "OperationOutcome"


def test_pages_are_not_cached_framed_anywhere_or_scripted_inline(tmp_path: Path) -> None:
    client = _app(tmp_path, profile="production", require_jwt=True, app_session_key=None,
                  trusted_issuers="[]").test_client()
    assert client.get("/app/launch").status_code == 503  # production without a session key: no app
    client = _app(tmp_path, app_frame_ancestors=["https://ehr.example.org"]).test_client()
    page = client.get("/app/launch")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors https://ehr.example.org" in policy
    assert page.headers["Cache-Control"] == "no-store"
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/app" in cookie
    assert "<script>" not in page.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    assert client.post("/app/worksheet", data={"action": "save"}).status_code == 403
    assert client.post("/app/api/preview", json={}).status_code == 403


@pytest.mark.parametrize("iss", ["ftp://x.example/fhir", "http://user:pw@evil.example/fhir"])
def test_a_fhir_server_outside_the_policy_is_never_contacted(tmp_path: Path, iss: str) -> None:
    client = _app(tmp_path, fhir_server_allowlist=["https://ehr.example.org"]).test_client()
    page = client.get("/app/launch", query_string={"iss": iss})
    assert page.status_code == 400 and "cannot be used" in page.get_data(as_text=True)
    page = client.get("/app/launch", query_string={"iss": "https://elsewhere.example.org/fhir"})
    assert page.status_code == 400 and "allow-list" in page.get_data(as_text=True)


def test_a_tampered_session_cookie_is_a_fresh_session(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    client.set_cookie("nbcds_app", "gAAAAA-not-a-token", path="/app")
    page = client.get("/app/decision-path")
    assert page.status_code == 401 and "No patient is open" in page.get_data(as_text=True)


def test_every_page_of_a_patient_without_a_neuroblastoma_diagnosis_says_so(tmp_path: Path) -> None:
    with FhirEngine() as engine:
        engine.seed([{"resourceType": "Patient", "id": "no-nb", "birthDate": "2024-01-01"}])
        client = _app(tmp_path, fhir_server_allowlist=[engine.root_url],
                      allow_tokenless_fhir_servers=[engine.root_url]).test_client()  # the open test server
        for path in ("/app/decision-path", "/app/family", "/app/worksheet"):
            assert client.get(path).status_code == 401  # nobody signed in yet
        launch = client.get("/app/launch", query_string={"iss": engine.base_url, "patient": "no-nb"})
        assert launch.status_code == 302
        for page in (client.get("/app/decision-path"), client.get("/app/family"), client.get("/app/worksheet")):
            assert page.status_code == 404
            assert "no neuroblastoma diagnosis on record" in page.get_data(as_text=True)

