"""``python -m benchmarks`` (``make bench``): run the scenarios, print one table, write it as JSON.

    python -m benchmarks                 # everything (a few minutes)
    python -m benchmarks --quick         # a sanity check (under a minute)
    python -m benchmarks --only hook,fetch --compare benchmarks/results/previous.json
    python -m benchmarks --profile /tmp/nbcds-profiles   # also write pyinstrument profiles
    python -m benchmarks --postgres --json benchmarks/results/before-redesign.json   # the guard's "before"

Scenarios (see docs/performance.md): rules (1), mapping (2), hook (3: first sight, the headline; 3b:
repeat call; 3c, 3d: other stores; and 6: memory), fetch (4, 4b), scale (5), bulk (7: ``nbcds classify``
on a generated 100,000-patient Bulk Data export; --bulk-patients N). Every hook call carries a
client JWT (ES384) the server verifies. Every figure is the median of several runs, and every scenario
is reported as a ratio to a baseline measured in the same run. Row 3b is checked against the shell
redesign's guard, benchmarks/results/before-redesign.json, when it exists (--guard, --no-guard).
Benchmarks are not tests: nothing fails on timing; the exit status is 0 whether targets are met or
not (2 when a scenario could not run).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from benchmarks.guard import DEFAULT_GUARD, Guard, GuardError, guard_summary, load_guard
from benchmarks.machine import MachineSampler
from benchmarks.options import SCENARIOS, Options
from benchmarks.report import ROOT, Row, Target, environment, fmt, render_comparison, render_table, write_json
from benchmarks.server import fast_tmp_dir

DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"
ROW_ORDER = ("1", "2", "3", "3b", "3c", "3d", "4", "4b", "5", "6", "7")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs: a sanity check, not figures to quote")
    parser.add_argument("--only", help=f"comma-separated scenarios among {', '.join(SCENARIOS)}")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"where to write the results ({DEFAULT_JSON})")
    parser.add_argument("--compare", type=Path, help="an earlier results JSON to compare the ratios with")
    parser.add_argument("--guard", type=Path, default=None,
                        help="the before-redesign results JSON that row 3b is checked against "
                             f"(default: {DEFAULT_GUARD.relative_to(ROOT)}, if it exists)")
    parser.add_argument("--no-guard", action="store_true", help="do not check row 3b against a before figure")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="also write pyinstrument profiles to DIR")
    parser.add_argument("--concurrency", type=int, help="HTTP load: requests in flight (default 4)")
    parser.add_argument("--seconds", type=float, help="HTTP load: seconds per endpoint per round")
    parser.add_argument("--rounds", type=int, help="HTTP load: rounds (the median is reported)")
    parser.add_argument("--runs", type=int, help="in-process: runs per figure (the median is reported)")
    parser.add_argument("--no-disk-store", action="store_true", help="skip row 3c (the store on the disk)")
    parser.add_argument("--bulk-patients", type=int, help="scenario 7: patients in the generated export (100,000)")
    parser.add_argument("--postgres", action="store_true",
                        help="add row 3d: the store in PostgreSQL (the tests' throw-away server; needs its binaries)")
    return parser


def _options(args: argparse.Namespace) -> Options:
    options = Options.quick_run() if args.quick else Options()
    changes: dict[str, object] = {}
    if args.only:
        only = tuple(name.strip() for name in args.only.split(",") if name.strip())
        unknown = sorted(set(only) - set(SCENARIOS))
        if unknown:
            raise SystemExit(f"unknown scenario(s): {', '.join(unknown)} (choose among {', '.join(SCENARIOS)})")
        changes["only"] = only
    for name, field in (("concurrency", "concurrency"), ("seconds", "http_seconds"), ("rounds", "http_rounds"),
                        ("runs", "runs"), ("bulk_patients", "bulk_patients")):
        value = getattr(args, name)
        if value is not None:
            if value <= 0:
                raise SystemExit(f"--{name} must be positive")
            changes[field] = value
    if args.profile:
        changes["profile_dir"] = args.profile
    return options.with_(**changes)


def fsync_latency_ms(directory: str | None, samples: int = 20) -> float:
    """Median time of an fsync of a 4 KiB write in ``directory`` (the disk's durable-write cost)."""
    from benchmarks.measure import median

    with tempfile.TemporaryDirectory(prefix="nbcds-fsync-", dir=directory) as tmp:
        path = Path(tmp) / "probe"
        times = []
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for _ in range(samples):
                os.write(descriptor, b"x" * 4096)
                started = time.perf_counter()
                os.fsync(descriptor)
                times.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(descriptor)
    return median(times)


def _failed(row_id: str, scenario: str, error: BaseException) -> Row:
    return Row(id=row_id, scenario=scenario, result=f"could not run: {type(error).__name__}: {error}"[:300],
               baseline="—", ratio=float("nan"), ratio_label="", targets=[Target("(scenario failed)", None)])


class _Runner:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.rows: list[Row] = []
        self.failures = 0
        self.no_disk_store = False
        self.postgres = False
        self.guard: Guard | None = None
        self.sampler: MachineSampler | None = None

    def step(self, row_id: str, scenario: str, work: Callable[[], list[Row] | Row]) -> None:
        started = time.monotonic()
        print(f"[bench] {scenario} ...", file=sys.stderr, flush=True)
        try:
            produced = work()
        except Exception as error:  # a scenario that cannot run is reported, the others still run
            traceback.print_exc(file=sys.stderr)
            self.failures += 1
            self.rows.append(_failed(row_id, scenario, error))
            return
        finally:
            if self.sampler is not None:
                self.sampler.window(scenario, started, time.monotonic())
        self.rows.extend(produced if isinstance(produced, list) else [produced])
        print(f"[bench]   done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

    def run(self) -> None:
        options = self.options
        if "rules" in options.only:
            from benchmarks.inprocess import scenario_rules

            self.step("1", "1 rules alone", lambda: scenario_rules(options))
        if "mapping" in options.only:
            from benchmarks.inprocess import scenario_mapping

            self.step("2", "2 mapping + rules", lambda: scenario_mapping(options))
        if "scale" in options.only:
            from benchmarks.inprocess import scenario_scale

            self.step("5", "5 scale", lambda: scenario_scale(options))
        if "hook" in options.only or "fetch" in options.only:
            self.http_scenarios()
        if "bulk" in options.only:
            from benchmarks.bulk import scenario_bulk

            self.step("7", "7 Bulk Data export", lambda: scenario_bulk(options.bulk_patients, options.workers))
        if options.profile_dir is not None:
            profile_dir = options.profile_dir
            self.step("profiles", "pyinstrument profiles", lambda: self._profiles(profile_dir))

    def _profiles(self, directory: Path) -> list[Row]:
        from benchmarks.profiles import write_profiles

        for path in write_profiles(directory, quick=self.options.quick):
            print(f"[bench]   wrote {path}", file=sys.stderr)
        return []

    def http_scenarios(self) -> None:
        from benchmarks import hooks
        from benchmarks.server import BenchServer

        options = self.options
        fast = fast_tmp_dir()
        with contextlib.ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nbcds-bench-", dir=fast)))
            server = BenchServer(workdir, workers=options.workers)
            stack.callback(server.stop)
            def start() -> list[Row]:
                server.start()
                return []
            self.step("3", "starting nbcds serve", start)
            if server.process is None or server.process.poll() is not None:
                return
            hook_run: list[hooks.HookRun] = []
            if "hook" in options.only:
                def hook() -> list[Row]:
                    run = hooks.run_hook_load(server, options)
                    hook_run.append(run)
                    rows = hooks.hook_rows(run, options, self.guard)
                    from benchmarks.breakdown import hook_breakdown

                    rows[0].metrics["in_process_breakdown_ms"] = hook_breakdown(workdir, rounds=3)
                    return rows
                self.step("3", "3 hook call, full prefetch: first sight, repeat call (and 6, memory)", hook)
            if "fetch" in options.only:
                self.step("4", "4 hook call, empty prefetch", lambda: self._fetch(server, page_size=100))
                if not options.quick:
                    self.step("4b", "4b empty prefetch, paged", lambda: self._fetch(server, page_size=20))
            server.stop()
        if hook_run and not options.quick and not self.no_disk_store:
            self.step("3c", "3c store on the disk (repeat calls)", lambda: self._disk_store(hook_run[0]))
        if hook_run and self.postgres:
            self.step("3d", "3d PostgreSQL store (repeat calls)", lambda: self._postgres_store(hook_run[0]))

    def _fetch(self, server: object, *, page_size: int) -> Row:
        from benchmarks import hooks
        from benchmarks.fhir_engine import BenchFhirEngine

        engine = BenchFhirEngine(token=hooks.FHIR_TOKEN, page_size=page_size).start()
        try:
            if page_size == 100:
                return hooks.fetch_row(server, engine, self.options, row_id="4")  # type: ignore[arg-type]
            return hooks.fetch_row(server, engine, self.options, row_id="4b", information=True,  # type: ignore[arg-type]
                                   rounds=2, calls=min(6, self.options.fetch_calls))
        finally:
            engine.stop()

    def _disk_store(self, tmpfs_run: object) -> Row:
        from benchmarks import hooks
        from benchmarks.server import BenchServer

        fsync_ms = fsync_latency_ms(None)
        with tempfile.TemporaryDirectory(prefix="nbcds-bench-disk-") as tmp:
            server = BenchServer(Path(tmp), workers=self.options.workers)
            try:
                server.start()
                return hooks.store_variant_row(server, self.options, tmpfs_run, row_id="3c",  # type: ignore[arg-type]
                                               store=f"SQLite store on the disk ({tempfile.gettempdir()})",
                                               note=f"disk fsync p50 {fmt(fsync_ms)} ms")
            finally:
                server.stop()

    def _postgres_store(self, tmpfs_run: object) -> Row:
        from benchmarks import hooks
        from benchmarks.server import BenchServer
        from tests.support.postgres import PostgresServer

        with PostgresServer(database="nbcds_bench") as postgres, \
                tempfile.TemporaryDirectory(prefix="nbcds-bench-pg-", dir=fast_tmp_dir()) as tmp:
            server = BenchServer(Path(tmp), workers=self.options.workers,
                                 extra_env={"NBCDS_DATABASE_URL": postgres.url})
            try:
                server.start()
                return hooks.store_variant_row(server, self.options, tmpfs_run, row_id="3d",  # type: ignore[arg-type]
                                               store="PostgreSQL store (the tests' server: fsync off)",
                                               note="PostgreSQL on 127.0.0.1, same machine")
            finally:
                server.stop()


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM/SIGHUP end the run like Ctrl-C, so the servers started are stopped on the way out."""
    def interrupt(signum: int, _frame: FrameType | None) -> None:
        for sig in (signal.SIGTERM, signal.SIGHUP):  # a second signal must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _guard(args: argparse.Namespace) -> Guard | None:
    if args.no_guard:
        return None
    path = args.guard or DEFAULT_GUARD
    if args.guard is None and not path.exists():
        return None
    try:
        return load_guard(path)
    except GuardError as error:
        if args.guard is not None:
            raise SystemExit(str(error)) from None
        print(f"[bench] warning: {error}; row 3b is not checked", file=sys.stderr)
        return None


def _machine_text(env: dict[str, object]) -> str:
    machine = env.get("noise")
    if not isinstance(machine, dict) or not machine:
        return ""
    load = machine["load_average_1min"]
    share = machine.get("other_jobs_cpu_share")
    by_scenario = machine.get("other_jobs_cpu_share_by_scenario") or {}
    hook = next((value for name, value in by_scenario.items() if name.startswith("3 hook")), None)
    return (f" Load average (1 min) during the run {load['min']:.2f}-{load['max']:.2f} (median {load['median']:.2f});"
            f" other jobs took {'n/a' if share is None else f'{share:.0%}'} of the machine's CPU"
            f"{'' if hook is None else f' ({hook:.0%} during scenario 3)'}.")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = _options(args)
    guard = _guard(args)
    env = environment({"quick": options.quick, "runs": options.runs, "batch_seconds": options.batch_seconds,
                       "http_rounds": options.http_rounds, "http_seconds": options.http_seconds,
                       "concurrency": options.concurrency, "workers": options.workers,
                       "scenarios": list(options.only)})
    env["client_jwt"] = "ES384, verified by the server on every hook call (cached JWKS); minted before each run"
    env["guard"] = guard.describe() if guard is not None else None
    fast = fast_tmp_dir()
    env["store_directory"] = fast or tempfile.gettempdir()
    print(f"[bench] {'quick run' if options.quick else 'full run'}: {os.cpu_count()} CPUs, load average "
          f"{env['load_average_at_start']}, server store in {env['store_directory']}", file=sys.stderr)
    runner = _Runner(options)
    runner.no_disk_store = args.no_disk_store
    runner.postgres = args.postgres
    runner.guard = guard
    runner.sampler = MachineSampler().start()
    started = time.monotonic()
    try:
        with _stop_on_signals():
            runner.run()
    finally:
        runner.sampler.stop()
    env["duration_seconds"] = round(time.monotonic() - started, 1)
    env["noise"] = runner.sampler.summary()
    env["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    rows = sorted(runner.rows, key=lambda row: ROW_ORDER.index(row.id) if row.id in ROW_ORDER else len(ROW_ORDER))
    print()
    print(render_table(rows))
    load_text = _machine_text(env)
    print(f"\n{'Quick run: short runs, a sanity check only. ' if options.quick else ''}"
          f"Ratios are to the baseline measured in the same run; {env['duration_seconds']} s in all.{load_text}")
    summary = guard_summary(rows, guard)
    if summary:
        print(f"\n{summary}")
    write_json(args.json, rows, env)
    print(f"Results written to {args.json}")
    if args.compare:
        print(render_comparison(args.compare, rows))
    return 2 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
