"""Scenarios 3, 4 and 6: the patient-view hook over HTTP under ``nbcds serve`` (gunicorn, gthread).

Every request, the floor's included, carries a client JWT (ES384) minted for it before the run, and the
server verifies the service's with its cached JWKS (``benchmarks.client_jwt``).

3. **First sight** (the headline): every example patient's realistic prefetch (Patient, 3 Conditions,
   40 Observations; see ``benchmarks.data``), cycled, with every resource new to the server (a per-request
   nonce in each resource's ``meta.versionId``), as when a chart is opened; fixed concurrency, bounded
   time. Baseline: the floor endpoint of the same server (``benchmarks.floor``) with the same request
   bodies and headers, answering the same number of bytes.
   3b. **Repeat call**: the same calls with resources the server has seen before (a chart opened again).
   Each round measures floor, first sight and repeat call (the order alternating), and every ratio is the
   median of the rounds' ratios. 3c and 3d: the repeat-call load on a server whose store is elsewhere
   (the disk; PostgreSQL).
6. Memory: the peak resident set (VmHWM) of each worker after scenario 3, against its resident set when
   it had just started.
4. Empty prefetch: four example patients in the FHIR engine the tests use (Medplum in memory, over HTTP
   on loopback); the hook call carries ``fhirServer`` and ``fhirAuthorization`` and no prefetch, so the
   service runs the three prefetch queries itself, concurrently. Baseline: the slowest of the three
   queries, sent by this process with the service's own ``FhirClient`` just before each hook call.
   Sequential calls.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.client_jwt import TokenPool, lifetime_for, pool_size
from benchmarks.data import PatientData, example_names, patient_data
from benchmarks.floor import FLOOR_PATH
from benchmarks.guard import REPEAT_GUARD_FACTOR, Guard
from benchmarks.load import (
    HOOK_INSTANCE_PLACEHOLDER,
    NONCE_PLACEHOLDER,
    LoadResult,
    RequestTemplate,
    exchange_once,
    run_load,
    sequential,
)
from benchmarks.measure import median, ratio
from benchmarks.options import Options
from benchmarks.report import Row, Target, fmt
from benchmarks.server import HOST, BenchServer
from benchmarks.service_api import SERVICE_PATH, FhirQueries

FIRST_SIGHT_P50_RATIO_TARGET = 6.5  # first-sight hook call p50 / floor p50, same run
FIRST_SIGHT_P99_TARGET_MS = 40.0
FETCH_RATIO_TARGET = 1.5
INITIAL_RATE = 2000.0  # requests/s assumed for sizing a token pool before a run of the same kind was seen
FHIR_TOKEN = "bench-access-token"  # noqa: S105 - a made-up token for the local test FHIR engine
# Scenario 4's patients: the engine (Medplum's in-memory repository) scans every stored resource for each
# search, so it holds only the patients called (4 × 44 resources), to keep its queries as fast as it can.
FETCH_PATIENTS = ("nb-l1-low", "nb-l2-11q", "nb-m-older", "nb-ms-infant")


def _with_nonce(resource: dict[str, Any]) -> dict[str, Any]:
    """A copy whose ``meta.versionId`` carries the nonce placeholder (constant unless "first sight")."""
    copied = copy.deepcopy(resource)
    copied["meta"] = {**copied.get("meta", {}), "versionId": NONCE_PLACEHOLDER}
    return copied


def hook_body(data: PatientData, *, prefetch: bool, fhir_server: str | None = None) -> bytes:
    body: dict[str, Any] = {
        "hookInstance": HOOK_INSTANCE_PLACEHOLDER,
        "hook": "patient-view",
        "context": {"userId": "Practitioner/bench-practitioner", "patientId": data.patient_id},
    }
    if fhir_server:
        body["fhirServer"] = fhir_server
        body["fhirAuthorization"] = {"access_token": FHIR_TOKEN, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "bench"}
    if prefetch:
        with_nonce = PatientData(data.patient_id, _with_nonce(data.patient),
                                 tuple(_with_nonce(c) for c in data.conditions),
                                 tuple(_with_nonce(o) for o in data.observations))
        body["prefetch"] = with_nonce.prefetch()
    return json.dumps(body, separators=(",", ":")).encode()


def service_templates() -> list[RequestTemplate]:
    """Scenario 3's hook calls: every example patient's realistic prefetch."""
    patients = [patient_data(name, 40) for name in example_names()]
    return [RequestTemplate(SERVICE_PATH, hook_body(p, prefetch=True), p.patient_id) for p in patients]


# ------------------------------------------------------------------------------------- CPU accounting


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@dataclass
class Measured:
    load: LoadResult
    server_cpu_ms_per_request: float
    generator_cpu_ms_per_request: float


class LoadDriver:
    """Load runs against one server: a token pool minted for it, sized by the rates seen so far."""

    def __init__(self, server: BenchServer, options: Options, rates: dict[str, float] | None = None) -> None:
        self.server = server
        self.options = options
        self.tokens = TokenPool(server.base_url + SERVICE_PATH, lifetime_seconds=lifetime_for(options.http_seconds))
        self.rates: dict[str, float] = dict(rates or {})  # kind of run -> highest requests/s seen (or expected)

    def token(self) -> bytes:
        return self.tokens.take(1).tokens[0]

    def measure(self, templates: list[RequestTemplate], kind: str, *, fresh_resources: bool = False,
                seconds: float | None = None) -> Measured:
        seconds = seconds or self.options.http_seconds
        rate = self.rates.get(kind, INITIAL_RATE)
        batch = self.tokens.take(pool_size(rate, seconds, self.options.concurrency), run_seconds=seconds)
        workers = self.server.worker_pids()
        server_cpu = sum(_cpu_seconds(pid) for pid in workers)
        own_cpu = time.process_time()
        load = run_load(HOST, self.server.port, templates, concurrency=self.options.concurrency, seconds=seconds,
                        tokens=batch.tokens, fresh_resources=fresh_resources)
        own_cpu = time.process_time() - own_cpu
        server_cpu = sum(_cpu_seconds(pid) for pid in workers) - server_cpu
        self.tokens.give_back(batch, load.sent)
        if load.errors:
            raise RuntimeError(f"{len(load.errors)} failed requests, e.g. {load.errors[0]}\n"
                               f"{self.server.log_tail(10)}")
        if load.tokens_exhausted:
            print(f"[bench]   warning: a {kind} run used all its {len(batch.tokens)} tokens and ended after "
                  f"{load.elapsed:.1f} s", file=sys.stderr)
        self.rates[kind] = max(self.rates.get(kind, 0.0), load.requests_per_second)
        done = max(load.completed, 1)
        return Measured(load, server_cpu * 1000 / done, own_cpu * 1000 / done)

    def token_metrics(self) -> dict[str, Any]:
        return {"algorithm": "ES384", "lifetime_seconds": self.tokens.minter.lifetime_seconds,
                "minted": self.tokens.minted, "mint_seconds": round(self.tokens.mint_seconds, 2),
                "mint_ms_per_token": ratio(self.tokens.mint_seconds * 1000, self.tokens.minted)}


# ------------------------------------------------------------------------------------------ scenario 3


@dataclass
class HookRun:
    floor: list[Measured]
    first_sight: list[Measured]
    repeat: list[Measured]
    idle_memory: list[dict[str, float]]
    peak_memory: list[dict[str, float]]
    request_bytes: int
    response_bytes: int
    tokens: dict[str, Any]


def _stat(runs: list[Measured], key: str) -> float:
    return median([run.load.summary()[key] for run in runs])


def run_hook_load(server: BenchServer, options: Options) -> HookRun:
    driver = LoadDriver(server, options)
    idle_memory = server.worker_memory()
    service = service_templates()
    status, _ = exchange_once(HOST, server.port, service[0])  # no Authorization header
    if status != 401:
        raise RuntimeError(f"the server answered {status}, not 401, to a hook call without a client JWT: "
                           f"it does not verify them, and the figures would leave that cost out")
    sizes = []
    for template in service:
        status, size = exchange_once(HOST, server.port, template, token=driver.token())
        if status != 200:
            raise RuntimeError(f"the service answered {status} for {template.label}\n{server.log_tail(10)}")
        sizes.append(size)
    floor = [RequestTemplate(f"{FLOOR_PATH}?bytes={size}", t.body, t.label) for t, size in zip(service, sizes,
                                                                                                 strict=True)]
    warm = max(1.0, options.http_seconds / 2)
    driver.measure(service, "repeat", seconds=warm)  # every worker sees every patient at least once
    driver.measure(floor, "floor", seconds=warm / 2)
    driver.measure(service, "first_sight", fresh_resources=True, seconds=warm / 2)
    runs: dict[str, list[Measured]] = {"floor": [], "first_sight": [], "repeat": []}
    templates = {"floor": floor, "first_sight": service, "repeat": service}
    evicting = True  # first-sight calls since the last repeat calls (the warm-up's)
    for index in range(options.http_rounds):
        order = ("floor", "first_sight", "repeat") if index % 2 == 0 else ("repeat", "first_sight", "floor")
        for name in order:
            if name == "repeat" and evicting:
                # The workers' validation caches keep the 16,384 most recently used outcomes: a
                # first-sight run fills them with resources never seen again. Un-timed, every worker
                # sees every patient again, so the repeat run measures repeat calls only.
                driver.measure(service, "repeat", seconds=max(0.5, options.http_seconds / 8))
            runs[name].append(driver.measure(templates[name], name, fresh_resources=name == "first_sight"))
            evicting = name == "first_sight" or (evicting and name != "repeat")
    return HookRun(runs["floor"], runs["first_sight"], runs["repeat"], idle_memory, server.worker_memory(),
                   int(median([len(t.body) for t in service])), int(median(sizes)), driver.token_metrics())


def _latency_text(runs: list[Measured]) -> str:
    return (f"p50 {fmt(_stat(runs, 'p50_ms'))} / p95 {fmt(_stat(runs, 'p95_ms'))} / "
            f"p99 {fmt(_stat(runs, 'p99_ms'))} ms, {fmt(_stat(runs, 'rps'))} req/s")


def _round_ratios(service: list[Measured], floor: list[Measured], key: str) -> float:
    return median([ratio(s.load.summary()[key], f.load.summary()[key]) for s, f in zip(service, floor, strict=True)])


def _figures(runs: list[Measured], floor: list[Measured]) -> dict[str, Any]:
    """The numbers behind a hook-call row: medians of the rounds, and ratios to the same rounds' floor."""
    return {
        "rounds": [m.load.summary() for m in runs],
        "p50_ms": _stat(runs, "p50_ms"), "p95_ms": _stat(runs, "p95_ms"), "p99_ms": _stat(runs, "p99_ms"),
        "rps": _stat(runs, "rps"),
        "ratio_p50": _round_ratios(runs, floor, "p50_ms"), "ratio_p99": _round_ratios(runs, floor, "p99_ms"),
        "ratio_throughput_floor_over_service": median([ratio(f.load.requests_per_second, s.load.requests_per_second)
                                                       for s, f in zip(runs, floor, strict=True)]),
        "server_cpu_ms_per_request": median([m.server_cpu_ms_per_request for m in runs]),
        "generator_cpu_ms_per_request": median([m.generator_cpu_ms_per_request for m in runs]),
    }


def _ratio_label(figures: dict[str, Any]) -> str:
    return (f"p50 service/floor (p99 {fmt(figures['ratio_p99'])}×, throughput floor/service "
            f"{fmt(figures['ratio_throughput_floor_over_service'])}×)")


def hook_rows(run: HookRun, options: Options, guard: Guard | None = None) -> list[Row]:
    setup = (f"{options.workers} workers, concurrency {options.concurrency}, {options.http_rounds} rounds × "
             f"{options.http_seconds:g} s")
    floor_cpu = median([m.server_cpu_ms_per_request for m in run.floor])
    floor_text = f"floor: {_latency_text(run.floor)}; server CPU {fmt(floor_cpu)} ms/request"
    first = _figures(run.first_sight, run.floor)
    repeat = _figures(run.repeat, run.floor)
    shared = {"floor_rounds": [m.load.summary() for m in run.floor], "floor_p50_ms": _stat(run.floor, "p50_ms"),
              "floor_p99_ms": _stat(run.floor, "p99_ms"), "floor_rps": _stat(run.floor, "rps"),
              "floor_server_cpu_ms_per_request": floor_cpu,
              "floor_generator_cpu_ms_per_request": median([m.generator_cpu_ms_per_request for m in run.floor]),
              "request_bytes_median": run.request_bytes, "response_bytes_median": run.response_bytes,
              "concurrency": options.concurrency, "workers": options.workers, "client_jwt": run.tokens}
    headline = Row(
        id="3",
        scenario=f"Hook call, first sight: full prefetch, every resource new, client JWT ES384 ({setup})",
        result=f"{_latency_text(run.first_sight)}; server CPU {fmt(first['server_cpu_ms_per_request'])} ms/request",
        baseline=floor_text, ratio=first["ratio_p50"], ratio_label=_ratio_label(first),
        targets=[Target(f"service/floor p50 ≤ {FIRST_SIGHT_P50_RATIO_TARGET:g}",
                        first["ratio_p50"] <= FIRST_SIGHT_P50_RATIO_TARGET),
                 Target(f"p99 ≤ {FIRST_SIGHT_P99_TARGET_MS:g} ms", first["p99_ms"] <= FIRST_SIGHT_P99_TARGET_MS)],
        metrics={"kind": "first_sight", **first, **shared})
    targets = []
    guard_metrics: dict[str, Any] = {}
    if guard is not None:
        limit = guard.repeat_ratio * REPEAT_GUARD_FACTOR
        targets.append(Target(f"p50 service/floor ≤ {REPEAT_GUARD_FACTOR:g} × before the redesign "
                              f"({fmt(guard.repeat_ratio)}×) = {fmt(limit)}×", repeat["ratio_p50"] <= limit))
        guard_metrics = {"guard": {**guard.describe(), "limit": limit}}
    repeat_row = Row(
        id="3b",
        scenario="Hook call, repeat call: the same calls, every resource seen before (information; guard)",
        result=f"{_latency_text(run.repeat)}; server CPU {fmt(repeat['server_cpu_ms_per_request'])} ms/request",
        baseline="floor of row 3 (same rounds)", ratio=repeat["ratio_p50"], ratio_label=_ratio_label(repeat),
        targets=targets, metrics={"kind": "repeat_call", **repeat, **shared, **guard_metrics})
    return [headline, repeat_row, memory_row(run)]


def memory_row(run: HookRun) -> Row:
    idle = {m["pid"]: m for m in run.idle_memory}
    peaks = [m.get("VmHWM", float("nan")) for m in run.peak_memory]
    peak = max(peaks) if peaks else float("nan")
    idle_rss = [idle[m["pid"]].get("VmRSS", float("nan")) for m in run.peak_memory if m["pid"] in idle]
    base = max(idle_rss) if idle_rss else float("nan")
    return Row(
        id="6", scenario="Memory: worker peak RSS after scenario 3",
        result=f"peak {fmt(peak)} MiB (workers: {', '.join(fmt(p) for p in peaks)} MiB)",
        baseline=f"worker RSS at start {fmt(base)} MiB", ratio=ratio(peak, base), ratio_label="peak / at start",
        metrics={"idle": run.idle_memory, "after": run.peak_memory})


def store_variant_row(server: BenchServer, options: Options, tmpfs_run: HookRun, *, row_id: str, store: str,
                      note: str) -> Row:
    """Scenario 3b's repeat calls once more, on a server whose store is elsewhere (rows 3c, 3d)."""
    driver = LoadDriver(server, options, rates={"repeat": max(m.load.requests_per_second for m in tmpfs_run.repeat)})
    service = service_templates()
    driver.measure(service, "repeat", seconds=max(1.0, options.http_seconds / 2))  # warm up
    runs = [driver.measure(service, "repeat") for _ in range(max(2, options.http_rounds // 2))]
    p50 = _stat(runs, "p50_ms")
    return Row(
        id=row_id, scenario=f"Hook call, repeat call, {store} (information)",
        result=f"{_latency_text(runs)}; server CPU {fmt(median([m.server_cpu_ms_per_request for m in runs]))} "
               f"ms/request",
        baseline=f"row 3b (SQLite on tmpfs): p50 {fmt(_stat(tmpfs_run.repeat, 'p50_ms'))} ms, "
                 f"{fmt(_stat(tmpfs_run.repeat, 'rps'))} req/s; {note}",
        ratio=ratio(p50, _stat(tmpfs_run.repeat, "p50_ms")), ratio_label="p50 / row 3b's p50",
        metrics={"rounds": [m.load.summary() for m in runs], "p50_ms": p50, "p99_ms": _stat(runs, "p99_ms"),
                 "rps": _stat(runs, "rps"), "store": store, "note": note, "client_jwt": driver.token_metrics()})


# ------------------------------------------------------------------------------------------ scenario 4


def seed_engine(engine: Any, patients: list[PatientData]) -> None:
    resources = [resource for patient in patients for resource in patient.resources]
    engine.seed(resources)


def fetch_row(server: BenchServer, engine: Any, options: Options, *, row_id: str = "4",
              information: bool = False, rounds: int | None = None, calls: int | None = None) -> Row:
    patients = [patient_data(name, 40) for name in FETCH_PATIENTS]
    seed_engine(engine, patients)
    templates = [RequestTemplate(SERVICE_PATH, hook_body(p, prefetch=False, fhir_server=engine.base_url),
                                 p.patient_id) for p in patients]
    driver = LoadDriver(server, options)
    client = FhirQueries(engine.base_url, FHIR_TOKEN)
    queries = {p.patient_id: client.urls(p.patient_id) for p in patients}
    fetched: dict[str, int] = {}

    def slowest_query(patient_id: str) -> tuple[float, str]:
        times = {}
        for key, url in queries[patient_id].items():
            started = time.perf_counter()
            resource = client.get(url, deadline=time.monotonic() + 10)
            times[key] = time.perf_counter() - started
            fetched[key] = len(resource.get("entry", [])) if resource.get("resourceType") == "Bundle" else 1
        key = max(times, key=lambda k: times[k])
        return times[key], key

    try:
        warm = min(len(templates), 2 * options.workers * 4)
        sequential(HOST, server.port, templates, warm, tokens=driver.tokens.take(warm).tokens)  # warm up
        for patient in patients[:3]:
            slowest_query(patient.patient_id)
        hook_ms: list[float] = []
        query_ms: list[float] = []
        slowest_keys: dict[str, int] = {}
        rounds = []
        for _ in range(rounds or max(2, options.http_rounds)):
            round_hook, round_query = [], []
            round_calls = calls or options.fetch_calls
            tokens = iter(driver.tokens.take(round_calls, run_seconds=round_calls).tokens)  # minted before the round
            for number in range(round_calls):
                template = templates[number % len(templates)]
                seconds, key = slowest_query(template.label)
                slowest_keys[key] = slowest_keys.get(key, 0) + 1
                round_query.append(seconds * 1000)
                round_hook.append(sequential(HOST, server.port, [template], 1, tokens=[next(tokens)])[0] * 1000)
            rounds.append({"hook_p50_ms": median(round_hook), "slowest_query_p50_ms": median(round_query),
                           "ratio": ratio(median(round_hook), median(round_query))})
            hook_ms += round_hook
            query_ms += round_query
    finally:
        client.close()
    hook = median([r["hook_p50_ms"] for r in rounds])
    slowest = median([r["slowest_query_p50_ms"] for r in rounds])
    fetch_ratio = median([r["ratio"] for r in rounds])
    usual = max(slowest_keys, key=lambda k: slowest_keys[k])
    pages = f"engine page size {engine.page_size}"
    sizes = ", ".join(f"{key} {count}" for key, count in fetched.items())
    return Row(
        id=row_id,
        scenario=(f"Hook call, empty prefetch: the service queries the FHIR engine ({pages}; "
                  f"sequential calls{'; information' if information else ''})"),
        result=f"p50 {fmt(hook)} ms per hook call",
        baseline=f"slowest single FHIR query alone: p50 {fmt(slowest)} ms (usually `{usual}`; resources {sizes})",
        ratio=fetch_ratio, ratio_label="hook call / slowest query",
        targets=[] if information else [Target(f"≤ {FETCH_RATIO_TARGET:g}× the slowest query",
                                               fetch_ratio <= FETCH_RATIO_TARGET)],
        metrics={"rounds": rounds, "hook_p50_ms": hook, "slowest_query_p50_ms": slowest,
                 "slowest_query_counts": slowest_keys, "resources_first_page": fetched,
                 "calls": len(hook_ms), "page_size": engine.page_size, "patients": list(FETCH_PATIENTS),
                 "client_jwt": driver.token_metrics()})

