"""Where a hook call's time goes: the patient-view call in this process, its phases timed.

The benchmark server's app and settings (development profile, client JWTs verified as in production, SQLite
store in the given directory), driven through Flask's test client (no gunicorn, no sockets), one call at a
time over every example patient's realistic prefetch, repeat calls, each with its own client JWT (minted
before the timed rounds). Each phase is a function of the request path, wrapped with a timer
for the measurement and restored afterwards; a phase missing from the code (renamed) is left out. The
figures are CPU-bound medians per call; "other" is Flask, routing, the request log and everything
not listed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks import client_jwt
from benchmarks.data import example_names, patient_data
from benchmarks.hooks import hook_body
from benchmarks.load import HOOK_INSTANCE_PLACEHOLDER
from benchmarks.measure import median
from benchmarks.service_api import BREAKDOWN_PHASES, SERVICE_PATH, create_app, dispose_app, import_attribute

IN_PROCESS_BASE_URL = "http://localhost"  # Flask's test client's


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _timed_phases(totals: dict[str, float]) -> Iterator[None]:
    patched: list[tuple[Any, str, Any]] = []
    for label, module_name, attribute in BREAKDOWN_PHASES:
        found = import_attribute(module_name, attribute)
        if found is None:
            continue
        module, original = found
        attribute = attribute.rpartition(".")[2]  # a method: patched on its class

        def timed(*args: Any, _original: Any = original, _label: str = label, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                totals[_label] = totals.get(_label, 0.0) + time.perf_counter() - started

        setattr(module, attribute, timed)
        patched.append((module, attribute, original))
    try:
        yield
    finally:
        for module, attribute, original in reversed(patched):
            setattr(module, attribute, original)


def hook_breakdown(workdir: Path, *, rounds: int) -> dict[str, Any]:
    """Median milliseconds per call and phase over ``rounds`` passes over every example patient."""
    env = {"NBCDS_PROFILE": "development", "NBCDS_LOG_LEVEL": "WARNING",
           "NBCDS_DATABASE_URL": f"sqlite:///{workdir / 'breakdown.sqlite3'}",
           **client_jwt.server_environment(workdir, IN_PROCESS_BASE_URL)}
    bodies = [hook_body(patient_data(name, 40), prefetch=True) for name in example_names()]
    tokens = iter(client_jwt.TokenMinter(IN_PROCESS_BASE_URL + SERVICE_PATH).mint(len(bodies) * (rounds + 1)))
    with _environment(env):
        logging.disable(logging.WARNING)  # the development profile's start-up warnings, known here
        try:
            app = create_app()
        finally:
            logging.disable(logging.NOTSET)
    client = app.test_client()
    counter = 0

    def call(body: bytes) -> None:
        nonlocal counter
        counter += 1
        unique = body.replace(HOOK_INSTANCE_PLACEHOLDER.encode(), f"00000000-0000-4000-8000-{counter:012d}".encode())
        response = client.post(SERVICE_PATH, data=unique, content_type="application/json",
                               headers={"Authorization": "Bearer " + next(tokens).decode("ascii")})
        if response.status_code != 200:
            raise RuntimeError(f"hook call answered {response.status_code}")

    per_round: list[dict[str, float]] = []
    try:
        for body in bodies:  # warm up: every resource seen once
            call(body)
        for _ in range(rounds):
            totals: dict[str, float] = {}
            started = time.perf_counter()
            with _timed_phases(totals):
                for body in bodies:
                    call(body)
            elapsed = time.perf_counter() - started
            row = {label: seconds * 1000 / len(bodies) for label, seconds in totals.items()}
            row["other (Flask, routing, request log, ...)"] = elapsed * 1000 / len(bodies) - sum(row.values())
            row["total"] = elapsed * 1000 / len(bodies)
            per_round.append(row)
    finally:
        dispose_app(app)
    return {label: median([r[label] for r in per_round]) for label in per_round[0]}
