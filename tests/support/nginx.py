"""A throw-away nginx running the shipped proxy configuration (docker/nginx/nbcds.conf.template) on loopback.

The template is rendered as the official nginx image renders it (``${NAME}`` from the environment, nginx's own
``$variables`` untouched) with the test's ports, and included in a minimal main configuration that plays the
image's ``nginx.conf``: everything (pid, logs, temporary files) in a temporary directory, one process
(``master_process off``, so nothing switches user), in the foreground. Stopped and removed whatever happens.
Its TLS listener uses a certificate made for the test by ``nbcds tls-cert``'s code (``ca_file`` trusts it).

nginx comes from Debian (``make system-packages`` installs it); the tests that need it skip only when no
``nginx`` binary can be found.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cds_service.cli.tls_cert import ensure_certificate

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "docker" / "nginx" / "nbcds.conf.template"
_PLACEHOLDER = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


def find_nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                          if Path(p).is_file()), None)


def render(template: str, values: Mapping[str, str]) -> str:
    """``${NAME}`` → its value (every placeholder must have one); ``$name`` (nginx's variables) untouched."""
    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"the template needs {match.group(1)}")
        return values[match.group(1)]
    return _PLACEHOLDER.sub(value, template)


@dataclass
class RunningNginx:
    process: subprocess.Popen[bytes]
    port: int
    directory: Path
    tls_port: int
    ca_file: Path  # the self-signed certificate nginx serves: trust it to verify the TLS listener

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"https://localhost:{self.tls_port}"

    def error_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.directory / "error.log").read_text(errors="replace")
        return ""


def _main_configuration(directory: Path, server_block: Path) -> str:
    return f"""
daemon off;
master_process off;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {server_block};
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nginx did not listen on {port} within {timeout} s")


@contextlib.contextmanager
def running_nginx(nginx: str, *, port: int, upstream: str, tls_port: int | None = None) -> Iterator[RunningNginx]:
    """nginx with the shipped configuration on 127.0.0.1:``port`` (and TLS on ``tls_port``), proxying to
    ``upstream`` (host:port)."""
    directory = Path(tempfile.mkdtemp(prefix="nginx-test-"))
    tls_port = tls_port or _free_port()
    try:
        ca_file, _ = ensure_certificate(directory / "tls")
        server_block = directory / "nbcds.conf"
        server_block.write_text(render(TEMPLATE.read_text(), {
            "NGINX_PORT": f"127.0.0.1:{port}", "NGINX_TLS_PORT": f"127.0.0.1:{tls_port}",
            "NGINX_TLS_DIR": str(directory / "tls"), "NBCDS_UPSTREAM": upstream}))
        main = directory / "nginx.conf"
        main.write_text(_main_configuration(directory, server_block))
        checked = subprocess.run([nginx, "-t", "-p", str(directory), "-c", str(main), "-e", str(directory / "error.log")],
                                 capture_output=True, text=True, timeout=30, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t refused the shipped configuration:\n{checked.stderr}")
        process = subprocess.Popen([nginx, "-p", str(directory), "-c", str(main), "-e", str(directory / "error.log")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        try:
            _wait_listening(port, process)
            _wait_listening(tls_port, process)
            yield RunningNginx(process, port, directory, tls_port, ca_file)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
