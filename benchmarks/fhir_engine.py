"""The tests' FHIR engine (Medplum in memory, over HTTP on loopback), with a chosen search page size.

``tests.support.fhir_engine.FhirEngine`` starts ``server.mjs`` with its default page size (20 entries).
A realistic chart has 36 Observations matching the service's query, so at that size the service reads
two pages one after the other; scenario 4 compares the hook call with the slowest *single* query, so by
default the engine here answers each search in one page (``--default-count 100``). Everything else
(seeding, addresses, stopping) is the tests' launcher.
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading

from tests.support.fhir_engine import NODE_BIN, SERVER_DIR, FhirEngine, FhirEngineError


class BenchFhirEngine(FhirEngine):
    def __init__(self, token: str | None = None, *, page_size: int = 100, startup_timeout: float = 30.0) -> None:
        super().__init__(token=token, startup_timeout=startup_timeout)
        self.page_size = page_size

    def start(self) -> BenchFhirEngine:
        self.check_installed()
        command = [str(NODE_BIN), "server.mjs", "--port", "0", "--exit-on-stdin-close",
                   "--default-count", str(self.page_size)]
        if self.token is not None:
            command += ["--require-token", self.token]
        process = self._process = subprocess.Popen(
            command, cwd=SERVER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        stdout, stderr = process.stdout, process.stderr
        assert stdout is not None and stderr is not None
        threading.Thread(target=self._stderr.extend, args=(stderr,), daemon=True).start()
        first_line: queue.Queue[str] = queue.Queue()
        threading.Thread(target=lambda: first_line.put(stdout.readline()), daemon=True).start()
        line = None
        with contextlib.suppress(queue.Empty):
            line = first_line.get(timeout=self.startup_timeout)
        if not line or not line.startswith("LISTENING "):
            self.stop()
            log = "\n".join(entry.rstrip()[:300] for entry in self._stderr)
            raise FhirEngineError(f"FHIR engine failed to start (first line {line!r}). stderr:\n{log}")
        self.port = int(line.split()[1])
        return self
