"""The audit record of every call and the JSON request log: identifiers and results, never PHI or secrets.

Notes §4 item 7 (logs and audit free of PHI, correlated by hookInstance), J7 and R5 (never log the JWT
or the access token), §3.2 item 9 (peers print whole requests).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cds_service.http.request_log import LOGGER_NAME, JsonLineFormatter
from tests.cds_service.cds_hooks_schema import assert_valid_cards_response
from tests.cds_service.client_simulator import (
    EPIC,
    Service,
    example_patient,
    fhir_authorization,
    hook_request,
    overridden,
    request_lines,
    running_service,
)
from tests.support.faulty_fhir_server import Reply as FhirReply
from tests.support.store_readers import audit_records

STAGING = "neuroblastoma-staging"
PLANTED_NAME = "Zebulon Quixote-Marchetti"
PLANTED_TOKEN = "eyJhbGciOiJSUzI1NiJ9.planted-access-token.c2lnbmF0dXJl"
PLANTED_COMMENT = "Family declines surgery; see note 4471-B"


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    with running_service(tmp_path) as running:
        yield running


def named_patient(name: str = "nb-l2-11q"):
    """An example patient whose Patient resource carries a planted, unmistakable name."""
    data = example_patient(name)
    patient = {**data.patient, "name": [{"text": PLANTED_NAME, "family": "Quixote-Marchetti", "given": ["Zebulon"]}],
               "telecom": [{"system": "phone", "value": "+1-555-0100"}]}
    return data, {**data.prefetch(), "patient": patient}


def database_text(service: Service) -> str:
    """Every value in every table of the service's store, as one string."""
    with service.store.read() as connection:
        tables = sa.inspect(connection).get_table_names()
        rows = [repr(tuple(row)) for table in tables
                for row in connection.execute(sa.text(f'SELECT * FROM "{table}"'))]  # noqa: S608
    return "\n".join(rows)


# --------------------------------------------------------------------------- audit


def test_one_audit_record_per_call_with_prefetch_outcomes_and_results(service: Service) -> None:
    data, prefetch = named_patient()
    client = service.client()
    bodies = [hook_request(data.patient_id, prefetch=prefetch) for _ in range(2)]
    replies = [client.call(STAGING, body) for body in bodies]
    for body, reply in zip(bodies, replies, strict=True):
        assert reply.status == 200
        [record] = audit_records(service.store, hook_instance=body["hookInstance"])
        assert record.service_id == STAGING and record.hook == "patient-view" and record.http_status == 200
        assert dict(record.prefetch) == {"patient": "supplied", "conditions": "supplied", "observations": "supplied"}
        results = record.results.model_dump()
        assert results == {
            "stages": {"inrgss": {"stage": "L2", "candidates": ("L2",)},
                       "inss": {"stage": None, "candidates": ("1", "2A", "2B", "3")}},
            "risks": {"inrg2009": {"risk": "intermediate", "group": "G", "candidates": ("intermediate",)},
                      "cog2021": {"risk": "intermediate", "group": None, "candidates": ("intermediate",)}},
        }
        assert list(record.card_uuids) == [card["uuid"] for card in reply.json["cards"]]
        assert record.patient_ref.startswith("hmac-sha256:")  # production's default: a keyed hash, never the id
        assert record.latency_ms > 0 and len(record.inputs_digest) == 64
    assert len(audit_records(service.store)) == 2


def test_the_same_inputs_give_the_same_digest(service: Service) -> None:
    data, prefetch = named_patient()
    bodies = [hook_request(data.patient_id, prefetch=prefetch) for _ in range(2)]
    for body in bodies:
        service.client().call(STAGING, body)
    digests = {audit_records(service.store, hook_instance=b["hookInstance"])[0].inputs_digest for b in bodies}
    assert len(digests) == 1


def test_an_indeterminate_call_records_the_stage_candidates(service: Service) -> None:
    data = example_patient("nb-indeterminate-marrow")
    body = hook_request(data.patient_id, prefetch=data.prefetch())
    assert service.client().call(STAGING, body).status == 200
    [record] = audit_records(service.store, hook_instance=body["hookInstance"])
    stage = record.results.stages["inrgss"]
    assert stage.stage is None and set(stage.candidates) == {"M", "MS"}


def test_a_call_answered_412_is_audited_with_its_prefetch_outcomes(service: Service) -> None:
    data = example_patient("nb-l1-low")
    body = hook_request(data.patient_id, prefetch=data.prefetch(keys=("patient",)))
    assert service.client().call(STAGING, body).status == 412
    [record] = audit_records(service.store, hook_instance=body["hookInstance"])
    assert record.http_status == 412
    assert dict(record.prefetch) == {"patient": "supplied", "conditions": "failed", "observations": "failed"}
    assert record.card_uuids == () and record.results.stages == {} and record.results.risks == {}


def test_the_audit_holds_no_names_tokens_or_comments(service: Service) -> None:
    data, prefetch = named_patient()
    client = service.client(EPIC)
    body = hook_request(data.patient_id, prefetch=prefetch, fhir_server="https://ehr.test/fhir",
                        authorization=fhir_authorization(PLANTED_TOKEN, EPIC, patient=data.patient_id))
    reply = client.call(STAGING, body)
    card = assert_valid_cards_response(reply.json)["cards"][0]["uuid"]
    assert client.feedback(STAGING, {"feedback": [overridden(card, comment=PLANTED_COMMENT)]}).status == 200
    stored = database_text(service)
    assert body["hookInstance"] in stored  # the records are there…
    for secret in (PLANTED_NAME, "Zebulon", "555-0100", PLANTED_TOKEN, "Bearer ", data.patient["birthDate"]):
        assert secret not in stored, secret  # …without PHI or secrets (the comment is the clinician's, by design)


def test_the_patient_can_be_audited_as_a_keyed_hash(tmp_path: Path) -> None:
    data, prefetch = named_patient()
    refs = []
    for key in ("first-audit-key", "first-audit-key", "second-audit-key"):
        with running_service(tmp_path / key / str(len(refs)), audit_patient_id="keyed-hash",
                             audit_hash_key=key) as svc:
            body = hook_request(data.patient_id, prefetch=prefetch)
            assert svc.client().call(STAGING, body).status == 200
            [record] = audit_records(svc.store, hook_instance=body["hookInstance"])
            assert data.patient_id not in database_text(svc)
            refs.append(record.patient_ref)
    assert refs[0].startswith("hmac-sha256:")
    assert refs[0] == refs[1] != refs[2]  # stable per key, unlinkable across keys


def test_the_fhir_id_is_audited_only_when_asked_for(tmp_path: Path) -> None:
    data, prefetch = named_patient()
    with running_service(tmp_path, audit_patient_id="fhir-id") as svc:
        body = hook_request(data.patient_id, prefetch=prefetch)
        assert svc.client().call(STAGING, body).status == 200
        [record] = audit_records(svc.store, hook_instance=body["hookInstance"])
    assert record.patient_ref == data.patient_id


def test_production_without_a_hash_key_audits_no_patient_rather_than_the_id(tmp_path: Path) -> None:
    data, prefetch = named_patient()
    with running_service(tmp_path, audit_hash_key=None) as svc:
        assert any("AUDIT_HASH_KEY" in problem for problem in svc.app.extensions["nbcds"].problems)
        body = hook_request(data.patient_id, prefetch=prefetch)
        assert svc.client().call(STAGING, body).status == 200
        [record] = audit_records(svc.store, hook_instance=body["hookInstance"])
        assert record.patient_ref is None and data.patient_id not in database_text(svc)


def test_keyed_hash_without_a_key_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AUDIT_HASH_KEY"), running_service(tmp_path, audit_patient_id="keyed-hash",
                                                                          audit_hash_key=None):
        pass


# --------------------------------------------------------------------------- logs


@pytest.fixture
def log_output(caplog) -> Iterator[io.StringIO]:
    """Everything logged, by the service's logger and any other, formatted as the service writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLineFormatter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


def everything_logged(stream: io.StringIO, caplog) -> str:
    plain = [f"{record.getMessage()} {record.args!r} {getattr(record, 'fields', '')} {record.exc_text or ''}"
             for record in caplog.records]
    return stream.getvalue() + "\n".join(plain)


def test_tokens_jwts_names_and_comments_never_reach_the_log(tmp_path: Path, faulty_fhir_server, log_output,
                                                            caplog) -> None:
    data, prefetch = named_patient()
    faulty_fhir_server.route("/fhir/Observation", FhirReply.error(401))
    with running_service(tmp_path, log_level="DEBUG") as svc:
        client = svc.client(EPIC)
        jwts: list[str] = []

        def token_for(path: str) -> str:
            jwts.append(client.token_for(path))
            return jwts[-1]

        authorization = fhir_authorization(PLANTED_TOKEN, EPIC, patient=data.patient_id)
        full = hook_request(data.patient_id, prefetch=prefetch, fhir_server=faulty_fhir_server.base_url,
                            authorization=authorization)
        partial = hook_request(data.patient_id, prefetch={k: v for k, v in prefetch.items() if k != "observations"},
                               fhir_server=faulty_fhir_server.base_url, authorization=authorization)
        reply = client.call(STAGING, full, token=token_for(f"/cds-services/{STAGING}"))
        card = reply.json["cards"][0]["uuid"]
        assert client.call(STAGING, partial, token=token_for(f"/cds-services/{STAGING}")).status == 412
        assert faulty_fhir_server.requests[0].authorization == f"Bearer {PLANTED_TOKEN}"  # it was used…
        client.feedback(STAGING, {"feedback": [overridden(card, comment=PLANTED_COMMENT)]},
                        token=token_for(f"/cds-services/{STAGING}/feedback"))
        client.call(STAGING, {**full, "hook": "order-sign"}, token=token_for(f"/cds-services/{STAGING}"))  # a 400
        client.discovery(token=jwts[0])  # a 401 (wrong aud) carrying a JWT
    logged = everything_logged(log_output, caplog)
    assert logged.count('"event": "request"') == 5
    for secret in (PLANTED_TOKEN, "planted-access-token", PLANTED_NAME, "Zebulon", PLANTED_COMMENT,
                   data.patient["birthDate"], *jwts, *(jwt.split(".")[1] for jwt in jwts)):
        assert secret not in logged, secret  # …and never logged


def test_every_request_logs_one_line_with_hook_instance_status_and_latency(service: Service, caplog) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    data = example_patient("nb-m-older")
    client = service.client()
    ok = hook_request(data.patient_id, prefetch=data.prefetch())
    failed = hook_request(data.patient_id, prefetch=data.prefetch(keys=("patient",)))
    statuses = [client.call(STAGING, ok).status, client.call(STAGING, failed).status, client.discovery().status]
    assert statuses == [200, 412, 200]
    lines = request_lines(caplog)
    assert len(lines) == 3
    for line, body, status in zip(lines, (ok, failed, None), statuses, strict=True):
        assert line["status"] == status
        assert isinstance(line["latency_ms"], float) and line["latency_ms"] >= 0
        if body is not None:
            assert line["hook_instance"] == body["hookInstance"] and line["service"] == STAGING
            assert set(line["prefetch"]) == {"patient", "conditions", "observations"}
    assert lines[0]["outcome"] == "determinate" and lines[0]["client_issuer"]
    assert lines[1]["prefetch"]["observations"].startswith("failed")


def test_log_lines_are_single_line_json(service: Service, log_output, caplog) -> None:
    data = example_patient("nb-l1-low")
    service.client().call(STAGING, hook_request(data.patient_id, prefetch=data.prefetch()))
    lines = [line for line in log_output.getvalue().splitlines() if line]
    assert lines
    parsed: list[dict[str, Any]] = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "event"} <= set(line) for line in parsed)
