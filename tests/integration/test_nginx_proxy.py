"""The shipped reverse proxy (docker/nginx/) in front of ``nbcds serve``: slow clients stop nothing (issue 16,
finding 6).

Sixteen connections send their headers a byte at a time to nginx (more than gunicorn's 2 workers x 4 threads):
``/healthz`` and a hook call through the proxy still answer at once, because nginx reads each request whole
before gunicorn sees it. The operational routes are not reachable through it, and it shows no version.
(tests/integration/test_served_resilience.py covers the service's own read deadline, without a proxy.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.cds_service.client_simulator import example_patient, hook_request
from tests.support.nbcds_server import ServedNbcds, free_port, served
from tests.support.nginx import RunningNginx, find_nginx, running_nginx
from tests.support.slow_clients import slow_clients

pytestmark = pytest.mark.integration

PATIENT = example_patient("nb-l1-low")
SLOW_CLIENTS = 16


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[RunningNginx, ServedNbcds]]:
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed (make system-packages installs it from Debian)")
    env = {"NBCDS_PROFILE": "development", "NBCDS_REQUIRE_JWT": "false",
           "NBCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'nbcds.sqlite3'}"}
    with served(tmp_path, env, workers=2) as service, \
            running_nginx(nginx, port=free_port(), upstream=f"127.0.0.1:{service.port}") as proxy:
        yield proxy, service


def test_slow_header_clients_at_the_proxy_do_not_stop_the_service(proxied: tuple[RunningNginx, ServedNbcds]) -> None:
    proxy, _ = proxied
    body = hook_request(PATIENT.patient_id, prefetch=PATIENT.prefetch())
    with slow_clients(proxy.port, SLOW_CLIENTS) as clients:
        time.sleep(0.5)  # every slow client is connected and dripping
        started = time.monotonic()
        health = requests.get(f"{proxy.base_url}/healthz", timeout=10)
        health_seconds = time.monotonic() - started
        started = time.monotonic()
        call = requests.post(f"{proxy.base_url}/cds-services/neuroblastoma-staging", json=body, timeout=10)
        call_seconds = time.monotonic() - started
        still_connected = sum(client.closed_at is None for client in clients)
    print(f"through nginx with {SLOW_CLIENTS} slow clients: /healthz {health_seconds * 1000:.0f} ms, "
          f"hook call {call_seconds * 1000:.0f} ms")
    assert health.status_code == 200 and call.status_code == 200, proxy.error_log()[-2000:]
    assert "INRG stage L1" in call.json()["cards"][0]["summary"]
    assert health_seconds < 1.0 and call_seconds < 1.0
    assert still_connected == SLOW_CLIENTS  # the proxy holds them (its own timeouts end them), not gunicorn


def test_the_proxy_hides_operational_routes_and_its_version(proxied: tuple[RunningNginx, ServedNbcds]) -> None:
    proxy, service = proxied
    for path in ("/metrics", "/readyz"):
        assert requests.get(f"{proxy.base_url}{path}", timeout=10).status_code == 404
        assert requests.get(f"{service.base_url}{path}", timeout=10).status_code == 200  # operators: directly
    reply = requests.get(f"{proxy.base_url}/cds-services", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["Server"] == "nginx"  # server_tokens off: no version
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


def test_a_body_over_the_service_limit_is_the_services_413(proxied: tuple[RunningNginx, ServedNbcds]) -> None:
    proxy, _ = proxied
    reply = requests.post(f"{proxy.base_url}/cds-services/neuroblastoma-staging", data=b"x" * 5_100_000,
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 413
    assert reply.json()["resourceType"] == "OperationOutcome"  # the service's answer, not nginx's HTML page
