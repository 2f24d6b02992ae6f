"""``python -m soak [--seconds 60] [--concurrency 8]``: the bounded soak test (``make soak``).

    python -m soak                     # 60 s, 4 clients, 2 workers, SQLite store
    python -m soak --seconds 10        # a quick run
    python -m soak --database postgres --report /tmp/soak.json

Exit status 0 when every target is met (no errors, no records lost, one audit row per call, no
latency drift, worker RSS growth under 20 %), 1 when one is not, 2 when the stack could not start.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cds_service.store import open_store
from cds_service.store.tables import audit_log, feedback
from soak.report import by_kind, render, verdicts, windows, write
from soak.stack import ON_FHIR_SERVER, Service, example_bundles, rss_kib, start_engine
from soak.workload import Workload


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the load runs (default 60)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--windows", type=int, default=6, help="latency windows over the run (default 6)")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                        help="the store: a temporary SQLite file (default) or a PostgreSQL started for the run")
    parser.add_argument("--report", type=Path, help="also write the figures as JSON here")
    return parser


@contextlib.contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'soak.sqlite3'}"
        return
    from tests.support.postgres import PostgresServer

    server = PostgresServer(database="nbcds_soak")
    try:
        server.start()
        yield server.url
    finally:
        server.cleanup()


class _MemorySampler:
    """RSS of every worker once a second while the load runs."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.samples: list[tuple[float, dict[str, int]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def snapshot(self) -> dict[str, int]:
        return {str(pid): rss for pid in self.service.worker_pids() if (rss := rss_kib(pid)) is not None}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append((time.monotonic(), self.snapshot()))

    def at(self, moment: float) -> dict[str, int]:
        before = [snapshot for taken, snapshot in self.samples if taken <= moment]
        return before[-1] if before else (self.samples[0][1] if self.samples else {})


def _count_rows(database_url: str) -> tuple[int, int]:
    store = open_store(database_url)
    try:
        with store.read() as conn:
            rows = conn.execute(sa.select(sa.func.count()).select_from(feedback)).scalar_one()
            audits = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one()
        return int(rows), int(audits)
    finally:
        store.dispose()


def soak(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    bundles = example_bundles()
    print(f"soak: starting the FHIR engine ({len(ON_FHIR_SERVER)} example patients) and nbcds serve "
          f"--workers {args.workers} ({args.database})", flush=True)
    load_before = round(os.getloadavg()[0], 2)
    engine = start_engine({name: bundle for name, bundle in bundles.items() if name in ON_FHIR_SERVER})
    try:
        with _database(args.database, workdir) as database_url:
            service = Service.start(workers=args.workers, database_url=database_url, fhir_origin=engine.root_url,
                                    workdir=workdir)
            try:
                sampler = _MemorySampler(service)
                ready = sampler.snapshot()
                workload = Workload(service.base_url, engine.base_url, bundles, set(ON_FHIR_SERVER))
                print(f"soak: {args.concurrency} clients for {args.seconds:.0f} s against {service.base_url}",
                      flush=True)
                sampler.start()
                began = workload.run(seconds=args.seconds, concurrency=args.concurrency)
                sampler.stop()
                end = sampler.snapshot()
                width = args.seconds / args.windows
                warm = sampler.at(began + width)
            finally:
                service.stop()
            feedback_rows, audit_rows = _count_rows(database_url)  # after the service stopped: what persisted
    finally:
        engine.stop()
    samples = workload.samples
    growth = {pid: (end[pid] - warm[pid]) / warm[pid] for pid in end if warm.get(pid)}
    return {
        "seconds": args.seconds, "concurrency": args.concurrency, "workers": args.workers,
        "database": args.database, "cpus": os.cpu_count(),
        "load_average": [load_before, round(os.getloadavg()[0], 2)],
        "calls": len(samples), "errors": sum(s.status != 200 for s in samples),
        "windows": [vars(w) for w in windows(samples, args.seconds, width)],
        "by_kind": by_kind(samples),
        "memory": {"ready": ready, "warm": warm, "end": end, "growth": growth},
        "records": {"feedback_acknowledged": workload.acknowledged, "feedback_duplicates": workload.duplicates,
                    "feedback_rows": feedback_rows, "service_calls_answered": workload.service_answered,
                    "audit_rows": audit_rows},
        "failures": list(workload.failures),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.seconds <= 0 or args.concurrency < 1 or args.workers < 1 or args.windows < 1:
        print("soak: --seconds, --concurrency, --workers and --windows must be positive", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="nbcds-soak-") as workdir:
        try:
            result = soak(args, Path(workdir))
        except RuntimeError as error:
            print(f"soak: could not start: {error}", file=sys.stderr)
            return 2
    checks = verdicts(result)
    print(render(result, checks))
    if args.report:
        write(result, checks, args.report)
        print(f"\nsoak: figures written to {args.report}")
    return 0 if all(check.met for check in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
