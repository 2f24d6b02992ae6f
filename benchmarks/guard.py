"""The performance guard of the shell redesign: the figures a run after it is checked against.

The redesign issue sets, all measured in ``make bench`` (2 workers, concurrency 4, one run):

* the first-sight hook call (row 3) at **p50 ≤ 6.5× the floor** and **p99 ≤ 40 ms** (row 3's targets,
  absolute, in ``benchmarks.hooks``);
* the repeat-call row (3b) **no worse than 1.2× its ratio before the redesign** (p50 service/floor).

The "before" figures are a run of the pre-redesign code kept as ``benchmarks/results/before-redesign.json``
(tracked by git; see docs/performance.md, "Before the shell redesign"). Every run reads it when it exists
(``--guard PATH`` for another file, ``--no-guard`` for none) and adds the 1.2× target to row 3b.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.report import ROOT, Row, fmt, fmt_ratio

DEFAULT_GUARD = ROOT / "benchmarks" / "results" / "before-redesign.json"
REPEAT_GUARD_FACTOR = 1.2
HEADLINE_ROW = "3"
REPEAT_ROW = "3b"
MIN_FORMAT = 2  # format 1 runs had no client JWT and another row numbering: not comparable


class GuardError(ValueError):
    pass


@dataclass(frozen=True)
class Guard:
    """The before-redesign figures a run is checked against."""

    path: Path
    repeat_ratio: float  # row 3b: p50 service/floor, before
    first_sight_ratio: float | None  # row 3: p50 service/floor, before (for the report only)
    first_sight_p99_ms: float | None
    time: str | None
    git: str | None
    load_average: Any

    def describe(self) -> dict[str, Any]:
        return {"file": str(self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path),
                "time": self.time, "git": self.git, "load_average_at_start": self.load_average,
                "repeat_ratio_before": self.repeat_ratio, "first_sight_ratio_before": self.first_sight_ratio,
                "first_sight_p99_ms_before": self.first_sight_p99_ms, "factor": REPEAT_GUARD_FACTOR}


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def load_guard(path: Path) -> Guard:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise GuardError(f"cannot read the guard file {path}: {error}") from None
    if not isinstance(document, dict) or document.get("format", 1) < MIN_FORMAT:
        raise GuardError(f"{path} is a format-1 run (no client JWT, old row numbers): not a guard")
    rows = {row.get("id"): row for row in document.get("rows", []) if isinstance(row, dict)}
    repeat = rows.get(REPEAT_ROW) or {}
    repeat_ratio = _finite(repeat.get("ratio"))
    if repeat.get("metrics", {}).get("kind") != "repeat_call" or repeat_ratio is None:
        raise GuardError(f"{path} has no repeat-call figure (row {REPEAT_ROW})")
    headline = rows.get(HEADLINE_ROW) or {}
    environment = document.get("environment", {})
    return Guard(path=path, repeat_ratio=repeat_ratio, first_sight_ratio=_finite(headline.get("ratio")),
                 first_sight_p99_ms=_finite(headline.get("metrics", {}).get("p99_ms")),
                 time=environment.get("time"), git=environment.get("git"),
                 load_average=environment.get("load_average_at_start"))


def guard_summary(rows: list[Row], guard: Guard | None) -> str:
    """Three lines: the redesign's guard, this run's figures against it."""
    by_id = {row.id: row for row in rows}
    headline, repeat = by_id.get(HEADLINE_ROW), by_id.get(REPEAT_ROW)
    if headline is None or repeat is None or repeat.metrics.get("kind") != "repeat_call":
        return ""
    lines = ["Shell-redesign guard:"]
    for target in headline.targets:
        lines.append(f"  row 3 (first sight) {target.text}: **{target.mark}** (p50 {fmt_ratio(headline.ratio)} "
                     f"the floor, p99 {fmt(headline.metrics.get('p99_ms', math.nan))} ms)")
    if guard is None:
        lines.append(f"  row 3b (repeat call) ≤ {REPEAT_GUARD_FACTOR:g}× its ratio before the redesign: no before "
                     f"figure (--guard)")
    else:
        for target in repeat.targets:
            lines.append(f"  row 3b (repeat call) {target.text}: **{target.mark}** (now {fmt_ratio(repeat.ratio)}; "
                         f"before: {guard.describe()['file']}, {guard.time}, git {guard.git})")
    return "\n".join(lines)
