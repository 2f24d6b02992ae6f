"""What the soak runs against: the FHIR engine, the service under gunicorn, and its workers' memory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.fhir_engine import FhirEngine

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FHIR = ROOT / "examples" / "fhir"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The patients the FHIR engine holds for the partial-prefetch calls. Few: the in-memory engine's
# Observation search with the template's 60 codes slows down with every patient it holds.
ON_FHIR_SERVER = frozenset({"nb-m-older", "nb-l2-infant", "nb-ms-infant", "nb-indeterminate-mycn"})


def example_bundles() -> dict[str, dict[str, Any]]:
    """The example patients' transaction Bundles (the messy ones are mapping tests, not patients)."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(EXAMPLE_FHIR.glob("*.json"))}


def start_engine(bundles: dict[str, dict[str, Any]]) -> FhirEngine:
    engine = FhirEngine().start()
    try:
        for bundle in bundles.values():
            engine.seed(bundle)
    except BaseException:
        engine.stop()
        raise
    return engine


@dataclass
class Service:
    """``nbcds serve`` in a subprocess (its own process group, so stopping it stops its workers)."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @classmethod
    def start(cls, *, workers: int, database_url: str, fhir_origin: str, workdir: Path,
              timeout: float = 60.0) -> Service:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith("NBCDS_")}
        env.update({
            "NBCDS_PROFILE": "development",
            "NBCDS_REQUIRE_JWT": "false",
            "NBCDS_HOST": "127.0.0.1",
            "NBCDS_PORT": str(port),
            "NBCDS_WORKERS": str(workers),
            "NBCDS_DATABASE_URL": database_url,
            "NBCDS_ALLOW_TOKENLESS_FHIR_SERVERS": json.dumps([fhir_origin]),
            "NBCDS_LOG_LEVEL": "WARNING",
            "PROMETHEUS_MULTIPROC_DIR": str(workdir / "metrics"),
        })
        (workdir / "metrics").mkdir(exist_ok=True)
        log_path = workdir / "service.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "cds_service.cli", "serve", "--workers", str(workers)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        service = cls(process, f"http://127.0.0.1:{port}", log_path)
        service.wait_ready(timeout, workers)
        return service

    def wait_ready(self, timeout: float, workers: int) -> None:
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            if self.process.poll() is not None:
                raise RuntimeError(f"nbcds serve exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if requests.get(f"{self.base_url}/readyz", timeout=2).status_code == 200 and \
                        len(self.worker_pids()) >= workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"nbcds serve not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the children of the master process."""
        master = self.process.pid
        children = Path(f"/proc/{master}/task/{master}/children")
        try:
            return sorted(int(pid) for pid in children.read_text().split())
        except OSError:  # kernels without CONFIG_PROC_CHILDREN: scan /proc
            pids = []
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if int(fields[1]) == master:
                    pids.append(int(stat.parent.name))
            return sorted(pids)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def rss_kib(pid: int) -> int | None:
    """Resident set size of a process, from /proc/<pid>/status (VmRSS, in KiB)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
