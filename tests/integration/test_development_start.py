"""A friendlier start (issue 17): ``nbcds serve`` honours NBCDS_HOST/NBCDS_PORT and greets when it answers.

``make run`` used to pass ``--host 127.0.0.1 --port 8080`` (so NBCDS_PORT was ignored) and printed only gunicorn's
"Listening at". Now the port comes from the settings, and in the development profile a greeting follows once
``/healthz`` answers: the URLs, the README's curl and the app link. Production does not greet.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from cds_service.greeting import greeting
from cds_service.server import gunicorn_options, probe_url
from cds_service.settings import Settings
from tests.support.nbcds_server import ROOT, free_port, nbcds_command, service_env

GREETING_TIMEOUT = 60.0


def _lines(stream: object, into: queue.Queue[str]) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        into.put(line)


@pytest.mark.integration
def test_the_port_comes_from_nbcds_port_and_a_greeting_follows(tmp_path: Path) -> None:
    port = free_port()
    env = service_env({"NBCDS_PROFILE": "development", "NBCDS_HOST": "127.0.0.1", "NBCDS_PORT": str(port),
                       "NBCDS_WORKERS": "1", "NBCDS_DATABASE_URL": f"sqlite:///{tmp_path / 'nbcds.sqlite3'}"})
    (tmp_path / "examples" / "requests").mkdir(parents=True)  # as in a checkout: the curl names the example
    shutil.copy(ROOT / "examples" / "requests" / "patient-view-nb-l2-infant.json", tmp_path / "examples" / "requests")
    process = subprocess.Popen(nbcds_command("serve"), env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + GREETING_TIMEOUT
        while time.monotonic() < deadline and not any(line.startswith("Stop with Ctrl-C") for line in seen):
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                assert process.poll() is None, "".join(seen)[-3000:]
        output = "".join(seen)
        assert "Stop with Ctrl-C" in output, output[-3000:]
        base = f"http://127.0.0.1:{port}"
        assert f"Landing page   {base}/" in output and f"Discovery      {base}/cds-services" in output
        assert f"curl -s -X POST {base}/cds-services/neuroblastoma-staging" in output
        assert "--data @examples/requests/patient-view-nb-l2-infant.json" in output
        assert f"SMART app      {base}/app/launch" in output
        # ... and the greeting is true: the README's curl gives the README's card on that port.
        body = (tmp_path / "examples" / "requests" / "patient-view-nb-l2-infant.json").read_bytes()
        reply = requests.post(f"{base}/cds-services/neuroblastoma-staging", data=body,
                              headers={"Content-Type": "application/json"}, timeout=10)
        assert reply.status_code == 200
        assert reply.json()["cards"][0]["summary"].startswith("INRG stage L2")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_gunicorn_binds_the_configured_host_and_port() -> None:
    assert gunicorn_options(Settings(profile="development", host="127.0.0.1", port=9123))["bind"] == "127.0.0.1:9123"
    assert gunicorn_options(Settings(profile="development", host="::1", port=9123))["bind"] == "[::1]:9123"
    assert probe_url(Settings(profile="development", host="0.0.0.0", port=9123)) == "http://127.0.0.1:9123"  # noqa: S104


def test_only_the_development_profile_greets() -> None:
    from cds_service.server import _post_worker_init
    assert gunicorn_options(Settings(profile="production"))["post_worker_init"] is _post_worker_init  # no greeting
    assert gunicorn_options(Settings(profile="development"))["post_worker_init"] is not _post_worker_init


def test_the_greeting_gives_absolute_links_and_the_readme_curl() -> None:
    landing = {"version": "1.2.3", "ruleset": "2026.1.0", "links": [
        {"rel": "discovery", "href": "/cds-services", "title": ""},
        {"rel": "docs", "href": "https://docs.example.net/", "title": ""}]}
    text = greeting(landing, "https://cds.example.net", Path("examples/requests/x.json"))
    assert "nbcds 1.2.3 is ready (rule set 2026.1.0" in text
    assert "Discovery      https://cds.example.net/cds-services" in text
    assert "Docs           https://docs.example.net/" in text and "SMART app" not in text
    assert "--data @examples/requests/x.json" in text
    assert "curl" not in greeting(landing, "https://cds.example.net", None)  # no example at hand: no curl


def test_make_run_passes_no_host_or_port_and_make_shell_exists() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    dry = subprocess.run(["make", "-n", "-B", "run", "shell"], cwd=ROOT, capture_output=True, text=True,
                         timeout=30, check=True).stdout
    [serve] = [line for line in dry.splitlines() if "nbcds serve" in line]
    assert "--port" not in serve and "--host" not in serve  # NBCDS_HOST / NBCDS_PORT decide
    assert "NBCDS_PROFILE=${NBCDS_PROFILE:-development}" in serve
    assert "[3/3] installing" in dry  # progress while installing
    assert '/.venv/bin:$PATH' in dry  # make shell: nbcds on PATH
