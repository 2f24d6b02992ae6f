"""`nbcds serve` for real: gunicorn with two workers, over HTTP, metrics across workers, clean SIGTERM.

Everything is bounded by timeouts; the server is started in its own process group and stopped by
its pid (or that group) whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.cds_service.cds_hooks_schema import assert_valid_cards_response, assert_valid_discovery
from tests.cds_service.client_simulator import CdsClient, HttpTransport, example_patient, hook_request

pytestmark = pytest.mark.integration

STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 10.0
NBCDS = Path(sys.executable).with_name("nbcds")


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    metrics_dir: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(server: RunningServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"nbcds serve exited with {server.process.returncode}:\n{server.log()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"nbcds serve was not healthy after {STARTUP_TIMEOUT}s:\n{server.log()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group we created: the master and its workers
        process.wait(timeout=SHUTDOWN_TIMEOUT)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBCDS_")}
    env.update({
        "NBCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'nbcds.sqlite3'}",
        "NBCDS_REQUIRE_JWT": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),  # this checkout's code, whatever is installed
        "PYTHONUNBUFFERED": "1",
    })
    log_path = tmp_path / "server.log"
    command = [str(NBCDS) if NBCDS.exists() else sys.executable, *([] if NBCDS.exists() else ["-m", "cds_service.cli"]),
               "serve", "--workers", "2", "--port", str(port), "--profile", "development"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True, cwd=tmp_path)
    running = RunningServer(process, f"http://127.0.0.1:{port}", metrics_dir, log_path)
    try:
        _wait_healthy(running)
        yield running
    finally:
        _stop(process)


def _samples(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_nbcds_serve_with_two_workers(server: RunningServer) -> None:
    client = CdsClient(HttpTransport(server.base_url, timeout=10))

    discovery = client.discovery(token=None)
    assert discovery.status == 200
    assert_valid_discovery(discovery.json)

    patient = example_patient("nb-l1-low")
    call = client.call("neuroblastoma-staging", hook_request(patient.patient_id, prefetch=patient.prefetch()),
                       token=None)
    assert call.status == 200, call.body[:300]
    assert "INRG stage L1" in assert_valid_cards_response(call.json)["cards"][0]["summary"]
    assert call.header("Cache-Control") == "no-store"

    # Concurrent discovery calls, each on its own connection, until both workers have served some
    # (the kernel decides which worker accepts; bounded).
    def discover(_: int) -> int:
        return requests.get(f"{server.base_url}/cds-services", timeout=10, headers={"Connection": "close"}).status_code

    sent, worker_pids = 0, set()
    deadline = time.monotonic() + 10
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len(worker_pids) < 2 and time.monotonic() < deadline:
            statuses = list(pool.map(discover, range(16)))
            assert statuses == [200] * 16
            sent += 16
            worker_pids = {match.group(1) for path in server.metrics_dir.iterdir()
                           if (match := re.search(r"_(\d+)\.db$", path.name))}
    assert len(worker_pids) == 2, worker_pids  # both workers recorded metrics

    # Whichever worker answers /metrics, it reports every worker's requests (prometheus multiprocess).
    for _ in range(4):
        metrics = requests.get(f"{server.base_url}/metrics", timeout=10, headers={"Connection": "close"})
        assert metrics.status_code == 200
        text = metrics.text
        assert _samples(text, "nbcds_request_seconds_count", endpoint="/cds-services", status="200") == sent + 1
        assert _samples(text, "nbcds_results_total", service="neuroblastoma-staging", outcome="determinate") == 1

    ready = requests.get(f"{server.base_url}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}

    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=SHUTDOWN_TIMEOUT) == 0, server.log()[-3000:]
    assert time.monotonic() - started < 5.0
    log = server.log()
    assert "Traceback" not in log
    assert '"event": "request"' in log  # the service's own JSON request log, from the workers
