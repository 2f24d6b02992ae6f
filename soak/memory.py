"""``python -m soak.memory [--requests 1000]``: a worker's memory under calls carrying different 1 MB invalid values.

The attack of issue 16: Observations with a different 1 MB invalid ``status`` in every call took a worker from
83 to 387 MiB in 300 calls (the validation cache kept each value in its reason, the card echoed it). This starts
``nbcds serve --workers 1`` (development profile, no client JWT, a temporary SQLite store), sends the calls one
after the other over loopback, and reads the worker's resident set size (VmRSS, /proc) after a warm-up and at
the end. Exit status 0 when the growth is within the budget (50 MiB), 1 otherwise.

The suite runs a shorter version (tests/robustness/test_memory.py); docs/reliability.md has both figures.
"""

from __future__ import annotations

import argparse
import collections
import copy
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from soak.stack import EXAMPLE_FHIR, rss_kib
from tests.support.nbcds_server import served

BUDGET_MIB = 50.0
VALUE_BYTES = 1_000_000
REQUEST_EXAMPLES = EXAMPLE_FHIR.parent / "requests"


@dataclass
class MemoryFigures:
    calls: int
    warmup: int
    rss_warm_mib: float
    rss_end_mib: float
    seconds: float
    statuses: dict[int, int] = field(default_factory=dict)
    largest_body: int = 0

    @property
    def growth_mib(self) -> float:
        return self.rss_end_mib - self.rss_warm_mib

    def render(self) -> str:
        return (f"{self.calls} calls with a different {VALUE_BYTES // 1_000_000} MB invalid Observation.status "
                f"(after {self.warmup} warm-up calls) in {self.seconds:.0f} s: worker RSS {self.rss_warm_mib:.1f} "
                f"-> {self.rss_end_mib:.1f} MiB ({self.growth_mib:+.1f} MiB, budget +{BUDGET_MIB:.0f}); "
                f"statuses {dict(sorted(self.statuses.items()))}; largest answer {self.largest_body} bytes")


def hostile_body(template: dict[str, Any], index: int) -> bytes:
    """The example request with its first Observation's status a different 1 MB string."""
    document = copy.deepcopy(template)
    observations = document["prefetch"]["observations"]["entry"]
    observations[0]["resource"]["status"] = f"{index:08d}" + "z" * (VALUE_BYTES - 8)
    return json.dumps(document).encode()


def measure(workdir: Path, calls: int, warmup: int) -> MemoryFigures:
    template = json.loads((REQUEST_EXAMPLES / "patient-view-nb-l2-infant.json").read_text(encoding="utf-8"))
    env = {"NBCDS_PROFILE": "development", "NBCDS_REQUIRE_JWT": "false", "NBCDS_LOG_LEVEL": "WARNING",
           "NBCDS_DATABASE_URL": f"sqlite:///{workdir / 'nbcds.sqlite3'}"}
    statuses: collections.Counter[int] = collections.Counter()
    largest = 0
    with served(workdir, env, workers=1) as server, requests.Session() as session:
        [worker] = server.worker_pids()
        url = f"{server.base_url}/cds-services/neuroblastoma-staging"
        warm = 0.0
        started = time.monotonic()
        for index in range(warmup + calls):
            if index == warmup:
                warm = (rss_kib(worker) or 0) / 1024
                started = time.monotonic()
            reply = session.post(url, data=hostile_body(template, index), timeout=30,
                                 headers={"Content-Type": "application/json"})
            statuses[reply.status_code] += 1
            largest = max(largest, len(reply.content))
        end = (rss_kib(worker) or 0) / 1024
        assert server.worker_pids() == [worker], "the worker was replaced during the run"  # noqa: S101
    return MemoryFigures(calls, warmup, warm, end, time.monotonic() - started, dict(statuses), largest)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m soak.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000, help="measured calls (default 1000)")
    parser.add_argument("--warmup", type=int, default=30, help="calls before the first reading (default 30)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nbcds-memory-") as workdir:
        figures = measure(Path(workdir), args.requests, args.warmup)
    print(figures.render())
    return 0 if figures.growth_mib <= BUDGET_MIB and set(figures.statuses) == {200} else 1


if __name__ == "__main__":
    sys.exit(main())
