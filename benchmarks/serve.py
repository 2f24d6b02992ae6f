"""``python -m benchmarks.serve [nbcds serve options]``: ``nbcds serve`` serving ``benchmarks.wsgi``.

The command, its option handling, the gunicorn configuration (gthread workers, threads, keep-alive,
timeouts) and the per-worker app are those of ``nbcds serve`` (see ``benchmarks.service_api``); only the
WSGI application gunicorn loads is swapped for ``benchmarks.wsgi.application`` — the production app with
the benchmark floor endpoint added when ``NBCDS_BENCHMARK_FLOOR=1``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from benchmarks.service_api import run_nbcds_serve


def _load_benchmark_app() -> Any:
    return importlib.import_module("benchmarks.wsgi").application


def main(argv: list[str]) -> int:
    return run_nbcds_serve(argv, _load_benchmark_app)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
