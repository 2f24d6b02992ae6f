"""``nbcds serve``: gunicorn with N workers, metrics aggregated across them, graceful shutdown.

It refuses to start a production profile that is missing what production needs (``Settings.production_problems``:
the public base URL, trusted issuers, the FHIR-server allow-list, the audit hash key). Workers are gthread with
a deadline for reading each request and no ``Server`` banner (``server_worker.py``). In production it runs
behind a buffering reverse proxy (docker/nginx/, docs/security.md).
"""

from __future__ import annotations

import gc
import ipaddress
import os
import tempfile
import threading
from typing import Any

from gunicorn.app.base import BaseApplication

from cds_service.server_worker import hide_server_banner, thread_worker_with_read_deadline
from cds_service.settings import Settings, require_complete_production


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from cds_service.wsgi import application

        return application


def _child_exit(_server: Any, worker: Any) -> None:
    """Tell prometheus_client a worker is gone so its live gauges are dropped (multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _post_worker_init(_worker: Any) -> None:
    """Recreate a missing metrics directory, and freeze what the worker built at start-up out of the GC.

    A ``/tmp`` cleaner may have removed ``PROMETHEUS_MULTIPROC_DIR`` since the master made it: a restarted
    worker recreates it (the metrics module also does, on the first metric it cannot write).

    A full collection walks every tracked object: about 110,000 after start-up, 30-40 ms per pass, which
    then lands on whichever request triggered it. Frozen objects are never scanned again.
    """
    from cds_service.http.metrics import ensure_multiprocess_directory

    ensure_multiprocess_directory()
    gc.collect()
    gc.freeze()


def _worker_tmp_dir() -> str | None:
    """gunicorn's heartbeat touches a file per request; on a disk-backed /tmp that can stall (gunicorn docs)."""
    shm = "/dev/shm"  # noqa: S108 - a directory for gunicorn's heartbeat file, not data
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def probe_url(settings: Settings) -> str:
    """Where a local process reaches the service: the bind address, or loopback when it binds every interface."""
    host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(settings.host, settings.host)  # noqa: S104
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:  # a host name
        pass
    return f"http://{host}:{settings.port}"


def _post_worker_init_greeting(settings: Settings) -> Any:
    """Development: ``post_worker_init`` that also greets from the first worker (cds_service/greeting.py).

    ``worker.age`` counts the workers the arbiter has spawned: only the first greets (a restarted worker does not).
    The greeting waits on a thread of that worker's own — a worker never forks, so a thread is safe there — until
    ``/healthz`` answers, prints once and ends.
    """
    def post_worker_init(worker: Any) -> None:
        _post_worker_init(worker)
        if getattr(worker, "age", None) == 1:
            from cds_service.greeting import greet_when_ready

            probe = probe_url(settings)
            threading.Thread(target=greet_when_ready, args=(probe, settings.public_base_url or probe),
                             name="nbcds-greeting", daemon=True).start()
    return post_worker_init


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn's configuration for these settings (the bind address and port are NBCDS_HOST and NBCDS_PORT)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host  # an IPv6 literal
    options: dict[str, Any] = {
        "bind": f"{host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": thread_worker_with_read_deadline(settings.request_read_deadline_seconds),
        "threads": 4,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": None,  # the app writes its own PHI-free request log
        "child_exit": _child_exit,
        "post_worker_init": _post_worker_init,
        "worker_tmp_dir": _worker_tmp_dir(),
        "limit_request_line": 8190,
    }
    if settings.profile == "development":  # production logs, it does not greet
        options["post_worker_init"] = _post_worker_init_greeting(settings)
    return options


def serve(settings: Settings) -> None:
    """Run the service under gunicorn; settings come from NBCDS_* variables, as in every worker.

    Raises ``ProductionConfigError`` before binding anything if the production profile is incomplete.
    """
    require_complete_production(settings)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="nbcds-metrics-")
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], mode=0o700, exist_ok=True)
    hide_server_banner()
    # Import now (after the variable is set, so values are multiprocess), never first inside the SIGCHLD
    # handler: two workers exiting together re-entered a half-done import and crashed the master on SIGTERM.
    import prometheus_client.multiprocess  # noqa: F401
    _Gunicorn(gunicorn_options(settings)).run()
