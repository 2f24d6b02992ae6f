"""How busy the shared machine was during a run: the load average, and the CPU other jobs took.

Sampled every few seconds by a background thread (it sleeps in between): the 1-minute load average,
the machine's busy CPU time (``/proc/stat``), and this benchmark's own CPU time — this process, the
children it has reaped, and its live descendants (servers, gunicorn workers, the FHIR engine) with the
children they have reaped. The difference is the CPU **other jobs** used, reported as a share of the
machine (2 cores = 100 %), for the whole run and for each scenario. The load average counts the
benchmark's own busy processes too (about 3 during an HTTP load run); the other jobs' share does not.
A server that detaches itself (PostgreSQL's postmaster) counts as another job.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.measure import median

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Sample:
    at: float  # time.monotonic()
    load_1min: float
    busy_seconds: float  # the whole machine's, all CPUs
    own_seconds: float  # this process and its descendants'


def _machine_busy_seconds() -> float:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return float("nan")
    values = [int(value) for value in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(values) - values[3] - values[4]) / _TICKS


def _process_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, utime + stime + cutime + cstime in seconds) for every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / _TICKS)
    return table


def _own_seconds() -> float:
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in table.items():
        children.setdefault(parent, []).append(pid)
    me = os.getpid()
    total = 0.0
    stack = list(children.get(me, []))
    while stack:
        pid = stack.pop()
        total += table[pid][1]
        stack.extend(children.get(pid, []))
    own = os.times()  # this process, and the children it has waited for
    return total + own.user + own.system + own.children_user + own.children_system


def _sample() -> Sample:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return Sample(time.monotonic(), load, _machine_busy_seconds(), _own_seconds())


class MachineSampler:
    """Samples every ``every`` seconds between ``start()`` and ``stop()``; ``mark()`` names time windows."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.samples: list[Sample] = []
        self.windows: list[tuple[str, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-machine-sampler", daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(_sample())
            if self._stop.wait(self.every):
                return

    def start(self) -> MachineSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every + 5)
        self.samples.append(_sample())

    def window(self, name: str, started: float, ended: float) -> None:
        self.windows.append((name, started, ended))

    def _others_share(self, started: float, ended: float) -> float | None:
        # The smallest sampled interval that encloses the window.
        before = [s for s in self.samples if s.at <= started]
        after = [s for s in self.samples if s.at >= ended]
        first = before[-1] if before else self.samples[0]
        last = after[0] if after else self.samples[-1]
        wall = (last.at - first.at) * (os.cpu_count() or 1)
        if wall <= 0:
            return None
        others = (last.busy_seconds - first.busy_seconds) - (last.own_seconds - first.own_seconds)
        return round(max(0.0, others / wall), 3)

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        loads = [s.load_1min for s in self.samples]
        return {
            "every_seconds": self.every, "samples": len(self.samples),
            "load_average_1min": {"min": round(min(loads), 2), "median": round(median(loads), 2),
                                  "max": round(max(loads), 2)},
            "other_jobs_cpu_share": self._others_share(self.samples[0].at, self.samples[-1].at),
            "other_jobs_cpu_share_by_scenario": {name: self._others_share(start, end)
                                                 for name, start, end in self.windows},
        }
