"""``nbcds serve`` under the faults the attack found (issue 16, findings 4, 5, 6 and 9), on loopback.

- The metrics directory removed (a ``/tmp`` cleaner) and the workers restarted: calls still answer 200, and
  the audit records the status the client received.
- No ``Server`` banner; ``nosniff`` on every answer.
- A production profile missing what production needs does not start, and says what is missing.
- Ten and more connections sending their headers a byte at a time, straight to gunicorn: the service's own
  read deadline frees every thread, so ``/healthz`` and hook calls answer again within it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from cds_service.store import open_store
from tests.cds_service.client_simulator import example_patient, hook_request
from tests.support.nbcds_server import ServedNbcds, nbcds_command, served, service_env
from tests.support.slow_clients import slow_clients
from tests.support.store_readers import audit_records

pytestmark = pytest.mark.integration

PATIENT = example_patient("nb-l1-low")
STAGING = "/cds-services/neuroblastoma-staging"
READ_DEADLINE = 2.0
SLOW_CLIENTS = 10  # the attack's ten; more than a worker's 4 threads


def open_env(database: Path, **extra: str) -> dict[str, str]:
    return {"NBCDS_PROFILE": "development", "NBCDS_REQUIRE_JWT": "false",
            "NBCDS_DATABASE_URL": f"sqlite:///{database}", **extra}


def call(server: ServedNbcds, timeout: float = 15) -> tuple[requests.Response, str]:
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    reply = requests.post(server.base_url + STAGING, json=body, timeout=timeout, headers={"Connection": "close"})
    return reply, body["hookInstance"]


def restart_workers(server: ServedNbcds) -> None:
    """SIGKILL every worker; gunicorn starts new ones. Returns once the new workers are up."""
    old = set(server.worker_pids())
    for pid in old:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = set(server.worker_pids())
        if len(current) == len(old) and not current & old:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the workers were not restarted:\n{server.log()[-2000:]}")
    while time.monotonic() < deadline:  # booted: any HTTP answer at all
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{server.base_url}/healthz", timeout=1)
            return
        time.sleep(0.1)


def test_with_the_metrics_directory_gone_calls_answer_and_the_audit_records_what_the_client_got(
        tmp_path: Path) -> None:
    database = tmp_path / "nbcds.sqlite3"
    with served(tmp_path, open_env(database), workers=2) as server:
        assert call(server)[0].status_code == 200
        shutil.rmtree(server.metrics_dir)  # a /tmp cleaner
        restart_workers(server)
        answers = [call(server) for _ in range(6)]
        metrics = requests.get(f"{server.base_url}/metrics", timeout=10)
        health = requests.get(f"{server.base_url}/healthz", timeout=10)
    assert [reply.status_code for reply, _ in answers] == [200] * 6
    assert metrics.status_code == 200 and health.status_code == 200
    assert server.metrics_dir.is_dir()  # recreated
    with open_store(f"sqlite:///{database}") as store:
        for reply, hook_instance in answers:
            [record] = audit_records(store, hook_instance=hook_instance)
            assert record.http_status == reply.status_code


def test_no_server_banner_and_nosniff_on_every_answer(tmp_path: Path) -> None:
    with served(tmp_path, open_env(tmp_path / "nbcds.sqlite3"), workers=1) as server:
        replies = [requests.get(f"{server.base_url}{path}", timeout=10) for path in ("/healthz", "/readyz",
                   "/cds-services", "/metrics", "/openapi.json", "/no-such-path")]
        replies.append(call(server)[0])
        replies.append(requests.post(server.base_url + STAGING, data=b"{", timeout=10,
                                     headers={"Content-Type": "application/json"}))
    for reply in replies:
        assert "Server" not in reply.headers, (reply.url, reply.headers.get("Server"))
        assert reply.headers.get("X-Content-Type-Options") == "nosniff", reply.url


def test_an_incomplete_production_configuration_does_not_start(tmp_path: Path) -> None:
    env = service_env({"NBCDS_PROFILE": "production", "NBCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                       "NBCDS_PORT": "1"})  # were it to start, binding port 1 would fail differently
    try:
        finished = subprocess.run(nbcds_command("serve"), env=env, capture_output=True, text=True,
                                  timeout=30, cwd=tmp_path, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("nbcds serve started with an incomplete production configuration")
    assert finished.returncode == 2, (finished.returncode, finished.stderr[-2000:])
    for missing in ("NBCDS_PUBLIC_BASE_URL", "NBCDS_TRUSTED_ISSUERS", "NBCDS_FHIR_SERVER_ALLOWLIST",
                    "NBCDS_AUDIT_HASH_KEY"):
        assert missing in finished.stderr, missing
    assert "Traceback" not in finished.stderr


def test_slow_header_clients_hold_gunicorns_threads_no_longer_than_the_read_deadline(tmp_path: Path) -> None:
    """One worker (4 threads), so that every slow client lands on it (with two, the kernel may give them all to
    one worker and leave the other free)."""
    env = open_env(tmp_path / "nbcds.sqlite3", NBCDS_REQUEST_READ_DEADLINE_SECONDS=str(READ_DEADLINE))
    with served(tmp_path, env, workers=1) as server, slow_clients(server.port, SLOW_CLIENTS) as clients:
        started = time.monotonic()
        time.sleep(0.5)  # every thread of the worker is reading a slow client now
        health = requests.get(f"{server.base_url}/healthz", timeout=READ_DEADLINE + 10)
        health_seconds = time.monotonic() - started
        reply, _ = call(server, timeout=READ_DEADLINE + 10)
        while any(client.closed_at is None for client in clients) and time.monotonic() - started < READ_DEADLINE + 3:
            time.sleep(0.1)
        cut = [client.closed_at - started for client in clients if client.closed_at is not None]
    print(f"/healthz answered after {health_seconds:.2f} s; {len(cut)} of {SLOW_CLIENTS} slow clients cut, "
          f"the last after {max(cut, default=0):.2f} s")
    assert health.status_code == 200 and reply.status_code == 200
    assert health_seconds <= READ_DEADLINE + 1.5
    assert len(cut) == SLOW_CLIENTS and max(cut) <= READ_DEADLINE + 1.5  # the server closed each of them


def test_the_metrics_directory_is_recreated_by_the_served_app_itself(tmp_path: Path) -> None:
    """Even without a worker restart (files already open keep working, new ones need the directory)."""
    with served(tmp_path, open_env(tmp_path / "nbcds.sqlite3"), workers=1) as server:
        shutil.rmtree(server.metrics_dir)
        replies = [requests.get(f"{server.base_url}{path}", timeout=10) for path in ("/metrics", "/readyz")]
        replies.append(call(server)[0])
    assert [reply.status_code for reply in replies] == [200, 200, 200]
    assert json.loads(replies[1].content) == {"status": "ready"}
