"""Timing helpers: bounded loops, medians of runs, interleaved scenario/baseline pairs, percentiles."""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; NaN for none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Batch:
    """One timed run: how many operations, how long, and the seconds per operation."""

    operations: int
    seconds: float

    @property
    def per_op(self) -> float:
        return self.seconds / self.operations if self.operations else math.nan


def time_batch(operation: Callable[[Any], object], items: Sequence[Any], *, min_seconds: float,
               max_operations: int, min_operations: int = 1) -> Batch:
    """Run ``operation`` over ``items`` (cycled) until ``min_seconds`` have passed (and ``min_operations``
    are done), never more than ``max_operations``. The garbage collector runs before, not during."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        count = 0
        started = time.perf_counter()
        deadline = started + min_seconds
        while count < max_operations:
            operation(items[count % len(items)])
            count += 1
            if count >= min_operations and time.perf_counter() >= deadline:
                break
        return Batch(count, time.perf_counter() - started)
    finally:
        if was_enabled:
            gc.enable()


def interleaved(runs: int, scenario: Callable[[], T], baseline: Callable[[], T]) -> list[tuple[T, T]]:
    """``runs`` (scenario, baseline) pairs measured back to back, the order alternating between runs,
    so the machine's noise hits both sides of a ratio alike."""
    pairs = []
    for index in range(runs):
        if index % 2 == 0:
            measured = scenario()
            base = baseline()
        else:
            base = baseline()
            measured = scenario()
        pairs.append((measured, base))
    return pairs


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan
