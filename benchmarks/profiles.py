"""``python -m benchmarks --profile DIR``: pyinstrument profiles of the hot paths, as text and HTML.

* ``mapping-first-sight``: scenario 2 (40-Observation Bundles, every resource new to the process);
* ``mapping-repeat``: scenario 2 as on a repeat call;
* ``hook-call``: the patient-view hook, full prefetch, through the Flask app in this process (the same
  app and settings as the benchmark server, client JWT verification included, without gunicorn and HTTP),
  repeat calls;
* ``scale-1000``: scenario 5's 1,000-Observation patients, first sight.

These are for finding causes, not for the figures: a profiler slows what it watches.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import client_jwt
from benchmarks.data import example_names, patient_data
from benchmarks.hooks import hook_body
from benchmarks.inprocess import SCALE_PATIENTS, clear_validation_cache
from benchmarks.load import HOOK_INSTANCE_PLACEHOLDER
from benchmarks.server import fast_tmp_dir
from benchmarks.service_api import SERVICE_PATH, create_app, dispose_app
from fhir_mappings.reading.case_reader import read_case
from fhir_mappings.writing.results_to_fhir import result_resources
from neuroblastoma.classification import classify

IN_PROCESS_BASE_URL = "http://localhost"  # Flask's test client's


def _profile(name: str, out_dir: Path, work: Callable[[], object], repeat: int) -> Path:
    from pyinstrument import Profiler

    work()  # warm up outside the profile
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(repeat):
        work()
    profiler.stop()
    text = out_dir / f"{name}.txt"
    text.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
    (out_dir / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    return text


@contextlib.contextmanager
def _benchmark_app(workdir: Path) -> Iterator[object]:
    """The benchmark server's app (production app + floor), with the server's settings, in this process."""
    env = {"NBCDS_PROFILE": "development", "NBCDS_LOG_LEVEL": "WARNING",
           "NBCDS_DATABASE_URL": f"sqlite:///{workdir / 'profile.sqlite3'}",
           **client_jwt.server_environment(workdir, IN_PROCESS_BASE_URL)}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        logging.disable(logging.WARNING)  # the development profile's start-up warnings, known here
        try:
            app = create_app()
        finally:
            logging.disable(logging.NOTSET)
        try:
            yield app
        finally:
            dispose_app(app)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def write_profiles(out_dir: Path, *, quick: bool) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    names = example_names()
    now = datetime.now(UTC)
    written = []

    def mapping(sizes: int, patients: list[str] | tuple[str, ...], first_sight: bool) -> Callable[[], None]:
        data = [(p.patient_id, p.bundle()) for p in (patient_data(name, sizes) for name in patients)]

        def work() -> None:
            for patient_id, bundle in data:
                if first_sight:
                    clear_validation_cache()
                reading = read_case([bundle], patient_id)
                result_resources(classify(reading.case), reading, now)
        return work

    rounds = 2 if quick else 10
    written.append(_profile("mapping-first-sight", out_dir, mapping(40, names, True), rounds))
    written.append(_profile("mapping-repeat", out_dir, mapping(40, names, False), rounds * 3))
    written.append(_profile("scale-1000", out_dir, mapping(1000, SCALE_PATIENTS, True), 1 if quick else 3))
    with tempfile.TemporaryDirectory(prefix="nbcds-profile-", dir=fast_tmp_dir()) as tmp, \
            _benchmark_app(Path(tmp)) as app:
        client = app.test_client()  # type: ignore[attr-defined]
        bodies = [hook_body(patient_data(name, 40), prefetch=True) for name in names]
        counter = iter(range(10**9))
        # Minted before profiling (the warm-up pass and the profiled rounds), one per call.
        tokens = iter(client_jwt.TokenMinter(IN_PROCESS_BASE_URL + SERVICE_PATH).mint(len(bodies) * (rounds + 1)))

        def hook_calls() -> None:
            for body in bodies:
                unique = body.replace(HOOK_INSTANCE_PLACEHOLDER.encode(),
                                      f"00000000-0000-4000-8000-{next(counter):012d}".encode())
                response = client.post(SERVICE_PATH, data=unique, content_type="application/json",
                                       headers={"Authorization": "Bearer " + next(tokens).decode("ascii")})
                if response.status_code != 200:
                    raise RuntimeError(f"hook call answered {response.status_code}")
        written.append(_profile("hook-call", out_dir, hook_calls, rounds))
    return written
