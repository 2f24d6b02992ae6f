"""``nbcds serve`` in a subprocess for the tests that need the real thing: gunicorn workers, real sockets.

``served(tmp_path, env)`` starts this checkout's service (PYTHONPATH) in its own process group with only the
``NBCDS_*`` variables given (the caller's are dropped), waits for ``/healthz``, and stops the whole group
whatever happens. ``worker_pids()`` reads the master's children from /proc; ``log_lines()`` parses the JSON
log (every line carries the worker's ``pid``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 40.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServedNbcds:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    metrics_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log().splitlines():
            with contextlib.suppress(ValueError):
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    lines.append(parsed)
        return lines

    def worker_pids(self) -> list[int]:
        master = self.process.pid
        try:
            return sorted(int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split())
        except OSError:
            return []

    def wait_healthy(self, timeout: float = STARTUP_TIMEOUT, workers: int | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nbcds serve exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            with contextlib.suppress(requests.RequestException):
                healthy = requests.get(f"{self.base_url}/healthz", timeout=1).status_code == 200
                if healthy and (workers is None or len(self.worker_pids()) >= workers):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"nbcds serve was not healthy after {timeout} s:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # the group we created: the master and its workers
            self.process.wait(timeout=10)


def nbcds_command(*args: str) -> list[str]:
    """``nbcds ARGS`` with this interpreter and this checkout's code."""
    return [sys.executable, "-m", "cds_service.cli", *args]


def service_env(env: Mapping[str, str], metrics_dir: Path | None = None) -> dict[str, str]:
    """The environment of a served service: the caller's without any NBCDS_*, this checkout first on the path."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("NBCDS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    full.update({"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env})
    if metrics_dir is not None:
        full["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return full


@contextlib.contextmanager
def served(workdir: Path, env: Mapping[str, str], *, workers: int = 2, port: int | None = None,
           name: str = "nbcds") -> Iterator[ServedNbcds]:
    """``nbcds serve --workers N`` on 127.0.0.1 with ``env`` (NBCDS_*), healthy, stopped on exit."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    metrics_dir = workdir / f"{name}-metrics"
    metrics_dir.mkdir(exist_ok=True)
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            nbcds_command("serve", "--workers", str(workers), "--port", str(port), "--host", "127.0.0.1"),
            env=service_env(env, metrics_dir), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=workdir)
    server = ServedNbcds(process, port, log_path, metrics_dir)
    try:
        server.wait_healthy(workers=workers)
        yield server
    finally:
        server.stop()
