"""Scenarios 3, 4 and 6: the patient-view hook over HTTP under ``nbcds serve`` (gunicorn, gthread).

3. Full prefetch: every example patient's realistic prefetch (Patient, 3 Conditions, 40 Observations;
   see ``benchmarks.data``), cycled, at fixed concurrency for a bounded time. Baseline: the floor endpoint
   of the same server (``benchmarks.floor``) with the same request bodies, answering the same number of
   bytes. Rounds alternate floor and service; every figure is the median of the rounds.
   3b, for information, after those rounds: the same calls with every resource new to the server (a
   per-request nonce in each resource's ``meta.versionId``). 3c and 3d: the same service load on a server
   whose store is elsewhere (the disk; PostgreSQL).
6. Memory: the peak resident set (VmHWM) of each worker after scenarios 3 and 3b, against its resident
   set when it had just started.
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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.data import PatientData, example_names, patient_data
from benchmarks.floor import FLOOR_PATH
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

SERVICE_PATH = "/cds-services/neuroblastoma-staging"
P99_TARGET_MS = 25.0
RPS_TARGET = 300.0
FLOOR_RATIO_TARGET = 3.0
FETCH_RATIO_TARGET = 1.5
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


def _measure(server: BenchServer, templates: list[RequestTemplate], options: Options, *,
             fresh_resources: bool = False, seconds: float | None = None) -> Measured:
    workers = server.worker_pids()
    server_cpu = sum(_cpu_seconds(pid) for pid in workers)
    own_cpu = time.process_time()
    load = run_load(HOST, server.port, templates, concurrency=options.concurrency,
                    seconds=seconds or options.http_seconds, fresh_resources=fresh_resources)
    own_cpu = time.process_time() - own_cpu
    server_cpu = sum(_cpu_seconds(pid) for pid in workers) - server_cpu
    if load.errors:
        raise RuntimeError(f"{len(load.errors)} failed requests, e.g. {load.errors[0]}\n{server.log_tail(10)}")
    done = max(load.completed, 1)
    return Measured(load, server_cpu * 1000 / done, own_cpu * 1000 / done)


# ------------------------------------------------------------------------------------------ scenario 3


@dataclass
class HookRun:
    floor: list[Measured]
    service: list[Measured]
    first_sight: list[Measured]
    idle_memory: list[dict[str, float]]
    peak_memory: list[dict[str, float]]
    request_bytes: int
    response_bytes: int


def _stat(runs: list[Measured], key: str) -> float:
    return median([run.load.summary()[key] for run in runs])


def run_hook_load(server: BenchServer, options: Options) -> HookRun:
    idle_memory = server.worker_memory()
    patients = [patient_data(name, 40) for name in example_names()]
    service = [RequestTemplate(SERVICE_PATH, hook_body(p, prefetch=True), p.patient_id) for p in patients]
    sizes = []
    for template in service:
        status, size = exchange_once(HOST, server.port, template)
        if status != 200:
            raise RuntimeError(f"the service answered {status} for {template.label}\n{server.log_tail(10)}")
        sizes.append(size)
    floor = [RequestTemplate(f"{FLOOR_PATH}?bytes={size}", t.body, t.label) for t, size in zip(service, sizes,
                                                                                                 strict=True)]
    warm = max(1.0, options.http_seconds / 2)
    _measure(server, service, options, seconds=warm)  # every worker sees every patient at least once
    _measure(server, floor, options, seconds=warm / 2)
    runs: dict[str, list[Measured]] = {"floor": [], "service": [], "first_sight": []}
    for index in range(options.http_rounds):
        order = ["floor", "service"] if index % 2 == 0 else ["service", "floor"]
        for name in order:
            runs[name].append(_measure(server, floor if name == "floor" else service, options))
    # Last, as they fill the workers' validation caches with resources never seen again.
    for _ in range(max(2, options.http_rounds // 2)):
        runs["first_sight"].append(_measure(server, service, options, fresh_resources=True))
    return HookRun(runs["floor"], runs["service"], runs["first_sight"], idle_memory, server.worker_memory(),
                   int(median([len(t.body) for t in service])), int(median(sizes)))


def _latency_text(runs: list[Measured]) -> str:
    return (f"p50 {fmt(_stat(runs, 'p50_ms'))} / p95 {fmt(_stat(runs, 'p95_ms'))} / "
            f"p99 {fmt(_stat(runs, 'p99_ms'))} ms, {fmt(_stat(runs, 'rps'))} req/s")


def _round_ratios(service: list[Measured], floor: list[Measured], key: str) -> float:
    return median([ratio(s.load.summary()[key], f.load.summary()[key]) for s, f in zip(service, floor, strict=True)])


def hook_rows(run: HookRun, options: Options) -> list[Row]:
    p99 = _stat(run.service, "p99_ms")
    rps = _stat(run.service, "rps")
    p50_ratio = _round_ratios(run.service, run.floor, "p50_ms")
    p99_ratio = _round_ratios(run.service, run.floor, "p99_ms")
    rps_ratio = median([ratio(f.load.requests_per_second, s.load.requests_per_second)
                        for s, f in zip(run.service, run.floor, strict=True)])
    cpu = median([m.server_cpu_ms_per_request for m in run.service])
    floor_cpu = median([m.server_cpu_ms_per_request for m in run.floor])
    generator_cpu = median([m.generator_cpu_ms_per_request for m in run.service])
    setup = (f"{options.workers} workers, concurrency {options.concurrency}, {options.http_rounds} rounds × "
             f"{options.http_seconds:g} s")
    main = Row(
        id="3", scenario=f"Hook call, full prefetch ({setup})",
        result=f"{_latency_text(run.service)}; server CPU {fmt(cpu)} ms/request",
        baseline=f"floor: {_latency_text(run.floor)}; server CPU {fmt(floor_cpu)} ms/request",
        ratio=p50_ratio,
        ratio_label=f"p50 service/floor (p99 {fmt(p99_ratio)}×, throughput floor/service {fmt(rps_ratio)}×)",
        targets=[Target(f"p99 ≤ {P99_TARGET_MS:g} ms", p99 <= P99_TARGET_MS),
                 Target(f"≥ {RPS_TARGET:g} req/s", rps >= RPS_TARGET),
                 Target(f"service/floor p50 ≤ {FLOOR_RATIO_TARGET:g}", p50_ratio <= FLOOR_RATIO_TARGET),
                 Target(f"service/floor p99 ≤ {FLOOR_RATIO_TARGET:g}", p99_ratio <= FLOOR_RATIO_TARGET)],
        metrics={
            "service_rounds": [m.load.summary() for m in run.service],
            "floor_rounds": [m.load.summary() for m in run.floor],
            "p50_ms": _stat(run.service, "p50_ms"), "p95_ms": _stat(run.service, "p95_ms"), "p99_ms": p99,
            "rps": rps, "floor_p50_ms": _stat(run.floor, "p50_ms"), "floor_p99_ms": _stat(run.floor, "p99_ms"),
            "floor_rps": _stat(run.floor, "rps"), "ratio_p50": p50_ratio, "ratio_p99": p99_ratio,
            "ratio_throughput_floor_over_service": rps_ratio, "server_cpu_ms_per_request": cpu,
            "floor_server_cpu_ms_per_request": floor_cpu, "generator_cpu_ms_per_request": generator_cpu,
            "request_bytes_median": run.request_bytes, "response_bytes_median": run.response_bytes,
            "concurrency": options.concurrency, "workers": options.workers,
        })
    first_p50 = ratio(_stat(run.first_sight, "p50_ms"), _stat(run.floor, "p50_ms"))
    first_cpu = median([m.server_cpu_ms_per_request for m in run.first_sight])
    first = Row(
        id="3b", scenario="Hook call, full prefetch, every resource new (first sight; information)",
        result=f"{_latency_text(run.first_sight)}; server CPU {fmt(first_cpu)} ms/request",
        baseline="floor of row 3", ratio=first_p50, ratio_label="p50 service/floor (medians of the rounds)",
        metrics={"rounds": [m.load.summary() for m in run.first_sight], "server_cpu_ms_per_request": first_cpu,
                 "p50_ms": _stat(run.first_sight, "p50_ms"), "p99_ms": _stat(run.first_sight, "p99_ms"),
                 "rps": _stat(run.first_sight, "rps")})
    return [main, first, memory_row(run)]


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
    """Scenario 3's service load once more, on a server whose store is elsewhere (row 3c, 3d)."""
    patients = [patient_data(name, 40) for name in example_names()]
    service = [RequestTemplate(SERVICE_PATH, hook_body(p, prefetch=True), p.patient_id) for p in patients]
    _measure(server, service, options, seconds=max(1.0, options.http_seconds / 2))  # warm up
    runs = [_measure(server, service, options) for _ in range(max(2, options.http_rounds // 2))]
    p50 = _stat(runs, "p50_ms")
    return Row(
        id=row_id, scenario=f"Hook call, full prefetch, {store} (information)",
        result=f"{_latency_text(runs)}; server CPU {fmt(median([m.server_cpu_ms_per_request for m in runs]))} "
               f"ms/request",
        baseline=f"row 3 (SQLite on tmpfs): p50 {fmt(_stat(tmpfs_run.service, 'p50_ms'))} ms, "
                 f"{fmt(_stat(tmpfs_run.service, 'rps'))} req/s; {note}",
        ratio=ratio(p50, _stat(tmpfs_run.service, "p50_ms")), ratio_label="p50 / row 3's p50",
        metrics={"rounds": [m.load.summary() for m in runs], "p50_ms": p50, "p99_ms": _stat(runs, "p99_ms"),
                 "rps": _stat(runs, "rps"), "store": store, "note": note})


# ------------------------------------------------------------------------------------------ scenario 4


def seed_engine(engine: Any, patients: list[PatientData]) -> None:
    resources = [resource for patient in patients for resource in patient.resources]
    engine.seed(resources)


def fetch_row(server: BenchServer, engine: Any, options: Options, *, row_id: str = "4",
              information: bool = False, rounds: int | None = None, calls: int | None = None) -> Row:
    from cds_service.protocol.prefetch import FhirClient, RequestLimits
    from cds_service.protocol.prefetch.templates import render_template
    from cds_service.services.prefetch_queries import STAGING_PREFETCH

    patients = [patient_data(name, 40) for name in FETCH_PATIENTS]
    seed_engine(engine, patients)
    templates = [RequestTemplate(SERVICE_PATH, hook_body(p, prefetch=False, fhir_server=engine.base_url),
                                 p.patient_id) for p in patients]
    client = FhirClient()
    queries = {p.patient_id: {key: f"{engine.base_url}/{render_template(t, {'patientId': p.patient_id})}"
                              for key, t in STAGING_PREFETCH.items()} for p in patients}
    fetched: dict[str, int] = {}

    def slowest_query(patient_id: str) -> tuple[float, str]:
        times = {}
        for key, url in queries[patient_id].items():
            started = time.perf_counter()
            resource = client.get_resource(url, token=FHIR_TOKEN, limits=RequestLimits(deadline=time.monotonic() + 10))
            times[key] = time.perf_counter() - started
            fetched[key] = len(resource.get("entry", [])) if resource.get("resourceType") == "Bundle" else 1
        key = max(times, key=lambda k: times[k])
        return times[key], key

    try:
        sequential(HOST, server.port, templates, min(len(templates), 2 * options.workers * 4))  # warm up
        for patient in patients[:3]:
            slowest_query(patient.patient_id)
        hook_ms: list[float] = []
        query_ms: list[float] = []
        slowest_keys: dict[str, int] = {}
        rounds = []
        for _ in range(rounds or max(2, options.http_rounds)):
            round_hook, round_query = [], []
            for number in range(calls or options.fetch_calls):
                template = templates[number % len(templates)]
                seconds, key = slowest_query(template.label)
                slowest_keys[key] = slowest_keys.get(key, 0) + 1
                round_query.append(seconds * 1000)
                round_hook.append(sequential(HOST, server.port, [template], 1)[0] * 1000)
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
                 "calls": len(hook_ms), "page_size": engine.page_size, "patients": list(FETCH_PATIENTS)})

