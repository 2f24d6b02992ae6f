"""What the client receives is what is recorded, and nothing from the request leaks through an error (issue 16,
findings 4 and 5).

- The audit records the status the client received: a body that cannot be sent (NaN) is a 500 for both.
- A bug is logged as its type and place, never its message (a ``KeyError`` names its key: request data).
- A 412 reads the same whatever failed on the network: a closed port, an open port that is not HTTP, a
  server that stalls, one that answers 401 — so the service cannot be used to scan ports.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from cds_service.http.app import create_app
from cds_service.protocol.registry import ServiceAnswer, ServiceCall, ServiceRegistry
from tests.cds_service.client_simulator import example_patient, hook_request, service_settings
from tests.robustness.contract import INTERNAL_DETAIL, strict_json
from tests.support.faulty_fhir_server import FaultyFhirServer, Reply
from tests.support.store_readers import audit_records

PATIENT = example_patient("nb-l1-low")
PLANTED = "Zebulon-Quigley-1987-03-04"  # a patient's name and birth date, as a request could carry them


class _NotJson(ServiceAnswer):
    def body(self) -> dict[str, Any]:
        return {"cards": [], "score": float("nan")}


def _registry() -> ServiceRegistry:
    registry = ServiceRegistry()

    @registry.service(id="not-json", hook="patient-view", title="t", description="d", prefetch={})
    def not_json(call: ServiceCall) -> ServiceAnswer:
        return _NotJson()

    @registry.service(id="buggy", hook="patient-view", title="t", description="d", prefetch={})
    def buggy(call: ServiceCall) -> ServiceAnswer:
        return {}[call.request.context_values["userId"]]  # a KeyError quoting request data

    return registry


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    app = create_app(service_settings(tmp_path, profile="development", require_jwt=False), registry=_registry())
    try:
        yield app
    finally:
        app.extensions["nbcds"].close()


def test_a_body_that_cannot_be_sent_is_a_500_for_the_client_and_the_audit(app: Flask) -> None:
    body = hook_request(PATIENT.patient_id)
    response = app.test_client().post("/cds-services/not-json", json=body)
    assert response.status_code == 500
    strict_json(response.get_data())  # no NaN reached the client
    [record] = audit_records(app.extensions["nbcds"].store, hook_instance=body["hookInstance"])
    assert record.http_status == 500


def test_a_bug_is_logged_by_type_and_place_never_by_its_message(app: Flask, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    response = app.test_client().post("/cds-services/buggy", json=hook_request(PATIENT.patient_id,
                                                                               user_id=f"Patient/{PLANTED}"))
    assert response.status_code == 500
    assert INTERNAL_DETAIL.search(response.get_data(as_text=True)) is None
    [record] = [r for r in caplog.records if r.getMessage() == "unhandled error in a service call"]
    assert record.fields["error"] == "KeyError" and "buggy" in record.fields["where"]  # type: ignore[attr-defined]
    logged = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')} {r.exc_text or ''} {r.exc_info or ''}"
                       for r in caplog.records)
    assert PLANTED not in logged


@pytest.fixture
def not_http() -> Iterator[int]:
    """A port that accepts connections and answers garbage (an SSH banner, say), then closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stopping = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopping.set()
        thread.join(timeout=5)
        listener.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_412_reads_the_same_whatever_failed_on_the_network(tmp_path: Path, faulty_fhir_server: FaultyFhirServer,
                                                             not_http: int) -> None:
    faulty_fhir_server.route("/fhir/Observation", Reply.error(401))
    stalling = FaultyFhirServer().start()
    stalling.route("/fhir/Observation", Reply.drip("headers"))
    targets = {
        "closed port": f"http://127.0.0.1:{_closed_port()}/fhir",
        "open port, not HTTP": f"http://127.0.0.1:{not_http}/fhir",
        "HTTP 401": faulty_fhir_server.base_url,
        "stalling server": stalling.base_url,
    }
    settings = service_settings(tmp_path, profile="development", require_jwt=False, fhir_deadline_seconds=1.0)
    app = create_app(settings)
    try:
        bodies = {}
        for name, server in targets.items():
            body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch(keys=("patient", "conditions")),
                                fhir_server=server,
                                authorization={"access_token": "t", "token_type": "Bearer", "expires_in": 60,
                                               "scope": "patient/*.read", "subject": "c"})
            response = app.test_client().post("/cds-services/neuroblastoma-staging", json=body)
            assert response.status_code == 412, name
            bodies[name] = json.dumps(response.get_json(), sort_keys=True)
    finally:
        app.extensions["nbcds"].close()
        stalling.stop()
    assert len(set(bodies.values())) == 1, bodies
