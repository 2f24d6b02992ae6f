"""Instructions per hook call, counted by callgrind: a figure other jobs on a shared machine cannot move.

Timed ratios on two shared cores drift by ±30 % with contention (docs/performance.md, "Before the shell
redesign"); an instruction count does not. This runs hook calls in process (Flask test client) with a verified
client JWT, first sight or repeat, and switches callgrind's instrumentation on around the measured loop only:

    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.%p \\
        .venv/bin/python -m benchmarks.instructions first 40

Divide valgrind's "Collected" line by the number of calls. Without valgrind it just runs the calls.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from benchmarks import client_jwt
from benchmarks.data import example_names, patient_data
from benchmarks.hooks import hook_body
from benchmarks.load import HOOK_INSTANCE_PLACEHOLDER, NONCE_PLACEHOLDER
from benchmarks.server import fast_tmp_dir
from benchmarks.service_api import SERVICE_PATH, create_app

BASE_URL = "https://bench.invalid"
OBSERVATIONS_PER_PATIENT = 40


def _callgrind(switch: str) -> None:
    """Turn instrumentation on or off for this process when it runs under callgrind (a no-op otherwise)."""
    if "vgpreload" not in os.environ.get("LD_PRELOAD", "") or shutil.which("callgrind_control") is None:
        return
    subprocess.run(["callgrind_control", "-i", switch, str(os.getpid())], check=True, capture_output=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("first", "repeat"), help="every resource new, or all seen before")
    parser.add_argument("calls", type=int, help="hook calls in the measured loop")
    options = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="nbcds-instructions-", dir=fast_tmp_dir()))
    os.environ.update({"NBCDS_PROFILE": "development", "NBCDS_LOG_LEVEL": "WARNING",
                       "NBCDS_DATABASE_URL": f"sqlite:///{work / 'store.sqlite3'}",
                       **client_jwt.server_environment(work, BASE_URL)})
    logging.disable(logging.WARNING)
    client = create_app().test_client()
    bodies = [hook_body(patient_data(name, OBSERVATIONS_PER_PATIENT), prefetch=True) for name in example_names()]
    tokens: Iterator[bytes] = iter(client_jwt.TokenMinter(BASE_URL + SERVICE_PATH).mint(
        2 * len(bodies) + options.calls + 8))
    count = 0

    def call(body: bytes, new_resources: bool) -> None:
        nonlocal count
        count += 1
        data = body.replace(HOOK_INSTANCE_PLACEHOLDER.encode(), f"00000000-0000-4000-8000-{count:012d}".encode())
        data = data.replace(NONCE_PLACEHOLDER.encode(), (str(count) if new_resources else "0").encode())
        answer = client.post(SERVICE_PATH, data=data, content_type="application/json",
                             headers={"Authorization": "Bearer " + next(tokens).decode("ascii")})
        assert answer.status_code == 200, answer.status_code

    for body in bodies:  # every resource seen once (the repeat calls' state); every code path warm
        call(body, new_resources=False)
    for body in bodies[:4]:
        call(body, new_resources=True)
    _callgrind("on")
    for index in range(options.calls):
        call(bodies[index % len(bodies)], new_resources=options.mode == "first")
    _callgrind("off")
    shutil.rmtree(work, ignore_errors=True)
    print(f"{options.calls} {options.mode} calls done")


if __name__ == "__main__":
    main()
