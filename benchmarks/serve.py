"""``python -m benchmarks.serve [nbcds serve options]``: ``nbcds serve`` serving ``benchmarks.wsgi``.

The command, its option handling, the gunicorn configuration (gthread workers, threads, keep-alive,
timeouts) and the per-worker app are those of ``nbcds serve`` (``cds_service.cli`` → ``cds_service.server``);
only the WSGI application gunicorn loads is swapped for ``benchmarks.wsgi.application`` — the production
app with the benchmark floor endpoint added when ``NBCDS_BENCHMARK_FLOOR=1``.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from cds_service import server
from cds_service.cli import main as nbcds_main


def _load_benchmark_app(_self: Any) -> Any:
    return importlib.import_module("benchmarks.wsgi").application


def main(argv: list[str]) -> int:
    server._Gunicorn.load = _load_benchmark_app  # type: ignore[method-assign]
    return nbcds_main(["serve", *argv])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
