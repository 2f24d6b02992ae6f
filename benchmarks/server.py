"""Starting and stopping the benchmark server (``python -m benchmarks.serve``, i.e. ``nbcds serve``).

Settings: the development profile with client JWTs required and verified as in production (one trusted
issuer whose public key is a JWK Set file in the server's temporary directory, ``NBCDS_PUBLIC_BASE_URL``
the address called: see ``benchmarks.client_jwt``), a fresh SQLite store in a temporary directory, INFO
logging to a file (the per-request log line is written as in production), ``NBCDS_BENCHMARK_FLOOR=1`` for
the floor endpoint. Everything listens on
127.0.0.1. The server runs in its own process group and is stopped (TERM, then KILL) however the
benchmark ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import IO

from benchmarks import client_jwt

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


class ServerError(RuntimeError):
    pass


def fast_tmp_dir() -> str | None:
    """A RAM-backed directory (tmpfs) for the server's SQLite store, if the machine has one; else None
    (the default temporary directory). See docs/performance.md for why."""
    shm = Path("/dev/shm")  # noqa: S108 - only as the parent of a private TemporaryDirectory
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(part) for part in text.split()]
    except OSError:
        pass
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                children.append(int(entry.name))
    return children


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak resident set) of a process, in MiB."""
    values: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    except OSError:
        return {}
    return values


class BenchServer:
    """One ``nbcds serve`` (benchmark WSGI app) on a free loopback port."""

    def __init__(self, workdir: Path, *, workers: int, extra_env: dict[str, str] | None = None,
                 startup_timeout: float = 60.0) -> None:
        self.workdir = workdir
        self.workers = workers
        self.extra_env = extra_env or {}
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "NBCDS_PROFILE": "development",
            **client_jwt.server_environment(self.workdir, self.base_url),
            "NBCDS_DATABASE_URL": f"sqlite:///{self.workdir / 'nbcds-bench.sqlite3'}",
            "NBCDS_LOG_LEVEL": "INFO",
            "NBCDS_BENCHMARK_FLOOR": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        })
        env.update(self.extra_env)
        return env

    def start(self) -> BenchServer:
        (self.workdir / "metrics").mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("wb")
        command = [sys.executable, "-m", "benchmarks.serve", "--host", HOST, "--port", str(self.port),
                   "--workers", str(self.workers), "--profile", "development"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.environment(), stdin=subprocess.DEVNULL,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"the server exited with {self.process.returncode}:\n{self.log_tail()}")
            if len(self.worker_pids()) >= self.workers and self._ready():
                return self
            time.sleep(0.2)
        raise ServerError(f"the server was not ready after {self.startup_timeout:.0f} s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=2) as response:  # noqa: S310 - loopback
                return response.status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process is not None else []

    def worker_memory(self) -> list[dict[str, float]]:
        return [{"pid": pid, **memory_of(pid)} for pid in self.worker_pids()]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)  # gunicorn's graceful shutdown
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # its own process group: master and workers
                process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
