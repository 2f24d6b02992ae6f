"""Does group commit pay on PostgreSQL? Threads recording calls, one transaction per call vs group-committed.

    python -m tests.support.group_commit_benchmark [--seconds 8] [--rounds 2] [--threads 4 16] [--fsync]

Each thread records calls (an audit row + 3 card rows, the hook path's write) for a bounded time into a
throw-away PostgreSQL server (tests/support/postgres.py), either straight through `SqlAuditLog.record_call`
(one transaction per call, in the caller's thread) or through the store's `GroupCommittedAuditLog` (one
writer thread, one transaction per batch: what the service uses). Modes alternate within each round so that other load on the machine hits both.
The tests' server runs with `fsync=off`; `--fsync` turns it on (production's setting) for the run.
Prints calls/s and p50/p99 latency per call, per mode and thread count, and the machine's load average.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cds_service.store import AuditRecord, IssuedCard, open_store
from cds_service.store.store import Store
from tests.support.postgres import PostgresServer

DIGEST = "0" * 64
Write = Callable[[AuditRecord, tuple[IssuedCard, ...]], None]


def _call() -> tuple[AuditRecord, tuple[IssuedCard, ...]]:
    record = AuditRecord(
        service_id="neuroblastoma-staging", received_at=datetime.now(UTC), ruleset_version="bench-1",
        http_status=200, latency_ms=12.5, hook_instance=str(uuid.uuid4()), hook="patient-view",
        inputs_digest=DIGEST, patient_ref="nb-bench",
        results={"stages": {"inrgss": {"stage": "L2", "candidates": ["L2"]}},
                 "risks": {"inrg2009": {"risk": "intermediate", "group": "H"}, "cog2021": {"risk": "intermediate"}}},
        prefetch={"patient": "supplied", "conditions": "supplied", "observations": "supplied"},
    )
    cards = tuple(IssuedCard(str(uuid.uuid4()), kind, (str(uuid.uuid4()),))
                  for kind in ("stage-risk", "missing-data", "work-up"))
    return record, cards


def _run(write: Write, threads: int, seconds: float) -> tuple[float, list[float]]:
    """(calls per second, per-call latencies in ms) of `threads` threads writing for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads + 1)
    stop = threading.Event()

    def caller(index: int) -> None:
        start.wait()
        while not stop.is_set():
            record, cards = _call()
            began = time.perf_counter()
            write(record, cards)
            latencies[index].append((time.perf_counter() - began) * 1000)

    workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    flat = [value for per_thread in latencies for value in per_thread]
    return len(flat) / elapsed, flat


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _modes(store: Store) -> dict[str, tuple[Write, Callable[[], None]]]:
    """Each mode's write, and what ends it (the group-commit writer thread)."""
    return {
        "transaction per call": (store.audit.log.record_call, lambda: None),  # SqlAuditLog, in the caller's thread
        "group commit": (store.audit.record_call, store.audit.close),  # what the service uses
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--fsync", action="store_true", help="run the server with fsync=on")
    parser.add_argument("--sqlite", metavar="DIRECTORY", help="measure a SQLite file in DIRECTORY instead")
    args = parser.parse_args()
    with contextlib.ExitStack() as cleanup:
        if args.sqlite:
            url, what = f"sqlite:///{Path(args.sqlite) / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}", "SQLite"
        else:
            server = cleanup.enter_context(PostgresServer())
            server.start()
            if args.fsync:
                with server.connect() as conn:
                    conn.execute("ALTER SYSTEM SET fsync = on")
                    conn.execute("ALTER SYSTEM SET full_page_writes = on")
                    conn.execute("SELECT pg_reload_conf()")
            with server.connect() as conn:
                fsync = conn.execute("SHOW fsync").fetchone()
            url, what = server.url, f"PostgreSQL fsync={fsync[0] if fsync else '?'}"
        _measure(url, what, args)


def _measure(url: str, what: str, args: argparse.Namespace) -> None:
    store = open_store(url, audit_wait_seconds=60)
    print(f"{what}; {os.cpu_count()} CPUs; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    results: dict[tuple[str, int], list[tuple[float, list[float]]]] = {}
    for round_ in range(args.rounds):
        for threads in args.threads:
            order = list(_modes(store).items())
            for name, (write, close) in order if round_ % 2 == 0 else reversed(order):
                _run(write, threads, 1.0)  # warm-up: connections, caches, the writer thread
                results.setdefault((name, threads), []).append(_run(write, threads, args.seconds))
                close()
    store.dispose()
    print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'mode':<22}{'threads':>8}{'calls/s':>10}{'p50 ms':>9}{'p99 ms':>9}   (calls/s of each round)")
    for (name, threads), runs in sorted(results.items(), key=lambda item: (item[0][1], item[0][0])):
        latencies = [value for _, per_run in runs for value in per_run]
        rate = statistics.mean(r for r, _ in runs)
        print(f"{name:<22}{threads:>8}{rate:>10.0f}{_percentile(latencies, 0.5):>9.2f}"
              f"{_percentile(latencies, 0.99):>9.2f}   ({', '.join(f'{r:.0f}' for r, _ in runs)})")


if __name__ == "__main__":
    main()
