"""The results: one row per scenario, printed as one table and written as JSON for comparing runs."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# 2: every hook call carries a client JWT; row 3 is the first-sight call (the headline), 3b the repeat call
# (format 1: no JWT, row 3 the repeat call and 3b first sight).
FORMAT_VERSION = 2
_FORMAT_1_IDS = {"3": "3b", "3b": "3"}  # format 1's row id -> the same scenario's id now


@dataclass(frozen=True)
class Target:
    text: str  # e.g. "p99 ≤ 25 ms"
    met: bool | None  # None: could not be measured

    @property
    def mark(self) -> str:
        return {True: "met", False: "NOT MET", None: "not measured"}[self.met]


@dataclass
class Row:
    """One scenario. ``ratio`` is the headline ratio to the baseline measured in the same run."""

    id: str
    scenario: str
    result: str
    baseline: str
    ratio: float
    ratio_label: str
    targets: list[Target] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)  # the numbers behind the row (JSON only)
    note: str = ""


def fmt(value: float, digits: int = 3) -> str:
    """A number with ``digits`` significant digits, thousands grouped (NaN as "n/a")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 10 ** digits:
        return f"{value:,.0f}"
    return f"{value:,.{max(0, digits - 1 - math.floor(math.log10(abs(value))) if value else 0)}f}"


def fmt_ratio(value: float) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{fmt(value)}×"


def render_table(rows: list[Row]) -> str:
    """A Markdown table (readable in a terminal, pasted as is into docs/performance.md)."""
    header = ["#", "Scenario", "Result (median of runs)", "Baseline (same run)", "Ratio", "Targets"]
    lines = [header]
    for row in rows:
        targets = "; ".join(f"{t.text}: **{t.mark}**" for t in row.targets) or "—"
        ratio = f"{fmt_ratio(row.ratio)} {row.ratio_label}".strip()
        lines.append([row.id, row.scenario, row.result, row.baseline, ratio, targets])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        out.append("| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)) + " |")
        if index == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def _git_revision() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    return done.stdout.strip() + ("+dirty" if dirty else "")


def environment(options: dict[str, Any]) -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": _git_revision(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load,
        "options": options,
    }


def write_json(path: Path, rows: list[Row], env: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": FORMAT_VERSION, "environment": env, "rows": [asdict(row) for row in rows]}
    path.write_text(json.dumps(_plain(document), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")


def _plain(value: Any) -> Any:
    """JSON-ready: NaN and infinities become null, tuples lists."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def render_comparison(previous_path: Path, rows: list[Row]) -> str:
    """Each row's headline ratio now against the same row of an earlier run's JSON."""
    previous = json.loads(previous_path.read_text(encoding="utf-8"))
    old_format = previous.get("format", 1) < 2
    before = {(_FORMAT_1_IDS.get(row["id"], row["id"]) if old_format else row["id"]): row
              for row in previous.get("rows", [])}
    lines = [f"Compared with {previous_path} ({previous.get('environment', {}).get('time', '?')}, "
             f"git {previous.get('environment', {}).get('git', '?')}):"]
    if old_format:
        lines.append("  (an earlier format: its hook calls carried no client JWT, and its rows 3 and 3b are "
                     "compared with rows 3b and 3 here)")
    for row in rows:
        old = before.get(row.id)
        old_ratio = old.get("ratio") if old else None
        if old_ratio is None or math.isnan(row.ratio):
            lines.append(f"  {row.id:<8} {row.scenario}: no earlier figure")
            continue
        change = (row.ratio / old_ratio - 1) * 100 if old_ratio else math.nan
        lines.append(f"  {row.id:<8} {row.scenario}: {fmt_ratio(old_ratio)} → {fmt_ratio(row.ratio)} "
                     f"({change:+.0f} %)")
    return "\n".join(lines)
