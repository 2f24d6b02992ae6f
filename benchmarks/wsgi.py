"""The WSGI application of the benchmark server: the production app, plus the floor endpoint when
``NBCDS_BENCHMARK_FLOOR=1`` (see ``benchmarks.floor``). Never used outside the benchmarks."""

from __future__ import annotations

import os

from benchmarks.service_api import create_app

application = create_app()

if os.environ.get("NBCDS_BENCHMARK_FLOOR") == "1":
    from benchmarks.floor import floor

    application.register_blueprint(floor)
