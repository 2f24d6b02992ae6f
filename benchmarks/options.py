"""How long and how hard to measure: the full run (``make bench``) and ``--quick`` (a sanity check)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

SCENARIOS = ("rules", "mapping", "hook", "fetch", "scale", "bulk")  # scenario 6 (memory) rides on "hook"


@dataclass(frozen=True)
class Options:
    quick: bool = False
    runs: int = 7  # in-process: every figure is the median of this many runs
    batch_seconds: float = 0.4  # in-process: each run lasts at least this long
    http_rounds: int = 5  # HTTP: rounds of (floor, service) load, median of rounds
    http_seconds: float = 4.0  # HTTP: load per endpoint per round
    concurrency: int = 4  # HTTP: requests in flight (load-generator connections)
    workers: int = 2  # gunicorn workers (`nbcds serve --workers`)
    fetch_calls: int = 16  # scenario 4: hook calls per round (sequential)
    scale_sizes: tuple[int, ...] = (1, 10, 100, 1000)
    bulk_patients: int = 100_000  # scenario 7: patients in the generated Bulk Data export
    only: tuple[str, ...] = SCENARIOS
    profile_dir: Path | None = None  # write pyinstrument profiles here

    @classmethod
    def quick_run(cls) -> Options:
        return cls(quick=True, runs=3, batch_seconds=0.15, http_rounds=2, http_seconds=1.5, fetch_calls=8,
                   bulk_patients=2_000)

    def with_(self, **changes: object) -> Options:
        return replace(self, **changes)  # type: ignore[arg-type]
