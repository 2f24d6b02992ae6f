"""The floor endpoint (benchmarks only): what a Flask service here costs when it does no work.

``POST /benchmark/floor?bytes=N`` reads and decodes the JSON body exactly as the CDS service does
(``read_json_body``: the same media-type check, ``request.get_data``, ``json.loads``), ignores the client
JWT the request carries (the benchmark sends it the same ``Authorization`` header bytes), and answers
``200`` with a JSON object of exactly ``N`` bytes (``{"cards": [], "padding": "…"}``, through ``jsonify``
like the service's answer, with the same ``Cache-Control``). It runs inside the production app, so it
shares the service's WSGI middleware, CORS, request log and error handlers: the difference between the
two endpoints is the service's work.

It is registered only by ``benchmarks.wsgi`` when ``NBCDS_BENCHMARK_FLOOR=1``; the production app
(``cds_service.wsgi``) never has it.
"""

from __future__ import annotations

from functools import cache

from flask import Blueprint, Response, jsonify, request

from benchmarks.service_api import read_json_body

FLOOR_PATH = "/benchmark/floor"
MAX_BYTES = 5_000_000

floor = Blueprint("benchmark_floor", __name__)


@cache
def _empty_size() -> int:
    return len(jsonify({"cards": [], "padding": ""}).get_data())


@floor.post(FLOOR_PATH)
def floor_endpoint() -> Response:
    read_json_body()  # decoded and dropped: the floor does nothing with the request
    wanted = min(max(request.args.get("bytes", default=0, type=int), 0), MAX_BYTES)
    padding = "x" * max(0, wanted - _empty_size())
    response = jsonify({"cards": [], "padding": padding})
    response.headers["Cache-Control"] = "no-store"
    return response
