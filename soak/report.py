"""The soak's figures: per-window latency percentiles, errors, memory, records lost; and the verdict."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from soak.workload import Sample

RSS_GROWTH_LIMIT = 0.20  # per worker, from the end of the first window to the end of the run
DRIFT_LIMIT = 1.5  # last window's p50 ≤ 1.5 × first window's p50 (+ DRIFT_SLACK_MS)
DRIFT_SLACK_MS = 10.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5)) if fraction < 1 else len(ordered)
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Window:
    start_s: float
    end_s: float
    calls: int
    errors: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rss_kib: dict[int, int] = field(default_factory=dict)


def windows(samples: Sequence[Sample], seconds: float, width: float) -> list[Window]:
    result = []
    start = 0.0
    while start < seconds - 1e-9:
        end = min(seconds, start + width)
        inside = [s for s in samples if start <= s.started < end]
        latencies = [s.latency_ms for s in inside]
        result.append(Window(round(start, 1), round(end, 1), len(inside), sum(s.status != 200 for s in inside),
                             round(len(inside) / (end - start), 1), round(percentile(latencies, 0.50), 1),
                             round(percentile(latencies, 0.95), 1), round(percentile(latencies, 0.99), 1),
                             round(max(latencies, default=0.0), 1)))
        start = end
    return result


def by_kind(samples: Sequence[Sample]) -> dict[str, dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {}
    for kind in sorted({s.kind for s in samples}):
        latencies = [s.latency_ms for s in samples if s.kind == kind]
        kinds[kind] = {"calls": len(latencies), "errors": sum(s.status != 200 for s in samples if s.kind == kind),
                       "p50_ms": round(percentile(latencies, 0.50), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
                       "p99_ms": round(percentile(latencies, 0.99), 1),
                       "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0}
    return kinds


@dataclass
class Verdict:
    name: str
    target: str
    measured: str
    met: bool


def verdicts(result: dict[str, Any]) -> list[Verdict]:
    found: list[Verdict] = []
    errors = result["errors"]
    found.append(Verdict("errors", "0 non-2xx answers to valid requests", f"{errors} of {result['calls']}",
                         errors == 0))
    lost = result["records"]["feedback_acknowledged"] - result["records"]["feedback_rows"]
    found.append(Verdict("records lost", "0 (feedback acknowledged = feedback rows)",
                         f"{result['records']['feedback_acknowledged']} acknowledged, "
                         f"{result['records']['feedback_rows']} rows", lost == 0))
    audit = result["records"]
    found.append(Verdict("audit", "one audit row per service call answered",
                         f"{audit['service_calls_answered']} answered, {audit['audit_rows']} rows",
                         audit["audit_rows"] == audit["service_calls_answered"]))
    first, last = result["windows"][0], result["windows"][-1]
    drift_ok = last["p50_ms"] <= DRIFT_LIMIT * first["p50_ms"] + DRIFT_SLACK_MS
    found.append(Verdict("latency drift",
                         f"last-window p50 ≤ {DRIFT_LIMIT} × first-window p50 + {DRIFT_SLACK_MS:.0f} ms",
                         f"{first['p50_ms']} → {last['p50_ms']} ms (p95 {first['p95_ms']} → {last['p95_ms']} ms)",
                         drift_ok))
    growth = result["memory"]["growth"]
    worst = max(growth.values(), default=0.0)
    found.append(Verdict("worker memory",
                         f"RSS growth < {RSS_GROWTH_LIMIT:.0%} per worker (after the first window → end)",
                         ", ".join(f"pid {pid}: {g:+.1%}" for pid, g in growth.items()) or "no workers",
                         bool(growth) and worst < RSS_GROWTH_LIMIT))
    return found


def render(result: dict[str, Any], checks: list[Verdict]) -> str:
    lines = [f"soak: {result['seconds']:.0f} s, {result['concurrency']} clients, {result['workers']} workers, "
             f"store {result['database']}; {result['calls']} calls ({result['calls'] / result['seconds']:.1f}/s); "
             f"{result['cpus']} CPUs, load average {result['load_average'][0]} → {result['load_average'][1]}", "",
             "| window (s) | calls | errors | calls/s | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|---|"]
    for w in result["windows"]:
        lines.append(f"| {w['start_s']:g}–{w['end_s']:g} | {w['calls']} | {w['errors']} | {w['per_second']} | "
                     f"{w['p50_ms']} | {w['p95_ms']} | {w['p99_ms']} | {w['max_ms']} |")
    lines += ["", "| call | calls | errors | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|---|"]
    for kind, k in result["by_kind"].items():
        lines.append(f"| {kind} | {k['calls']} | {k['errors']} | {k['p50_ms']} | {k['p95_ms']} | {k['p99_ms']} |")
    memory = result["memory"]
    lines += ["", "| worker | RSS ready (MiB) | after window 1 (MiB) | end (MiB) | growth |", "|---|---|---|---|---|"]
    for pid in memory["end"]:
        def mib(stage: str, pid: str = pid) -> str:
            value = memory[stage].get(pid)
            return f"{value / 1024:.1f}" if value else "–"
        lines.append(f"| {pid} | {mib('ready')} | {mib('warm')} | {mib('end')} | {memory['growth'].get(pid, 0):+.1%} |")
    lines += ["", "| check | target | measured | met |", "|---|---|---|---|"]
    lines += [f"| {c.name} | {c.target} | {c.measured} | {'yes' if c.met else 'NO'} |" for c in checks]
    if result["failures"]:
        lines += ["", "first failures:", *(f"  {f}" for f in result["failures"])]
    return "\n".join(lines)


def write(result: dict[str, Any], checks: list[Verdict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**result, "checks": [asdict(c) for c in checks]}, indent=2) + "\n")
