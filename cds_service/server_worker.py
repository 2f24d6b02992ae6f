"""The gunicorn worker ``nbcds serve`` runs: gthread, with one deadline for reading each request, and no banner.

Slow clients. gthread hands a connection to a thread as soon as its first byte arrives; the thread then reads
the rest with blocking reads, each of which waits as long as the client likes. Ten connections sending their
headers a byte at a time held every thread of both workers, and ``/healthz`` stopped answering (issue 16).
Here all the reads of one request (its headers and its body) share one deadline, counted from its first byte
(``NBCDS_REQUEST_READ_DEADLINE_SECONDS``): past it the read ends as if the client had closed, and gunicorn
closes the connection. That bounds how long a slow client holds a thread; it does not make gunicorn a
buffering server, and a flood of slow connections still fills the threads for that long. In production a
buffering reverse proxy reads each request whole before it reaches gunicorn (``docker/nginx/``); it is
required (docs/security.md).

The banner. gunicorn writes ``Server: gunicorn`` on every response; ``hide_server_banner()`` leaves the header
out (a software name helps only someone choosing an exploit).
"""

from __future__ import annotations

import socket
import time
from typing import Any

from gunicorn.http import wsgi
from gunicorn.workers.gthread import ThreadWorker

__all__ = ["hide_server_banner", "thread_worker_with_read_deadline"]


class _DeadlineSocket:
    """A client socket whose ``recv`` calls share one deadline per request; everything else is the socket's."""

    def __init__(self, sock: socket.socket, seconds: float) -> None:
        self._sock = sock
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds

    def start_request(self) -> None:
        self._deadline = time.monotonic() + self._seconds

    def recv(self, size: int, *flags: int) -> bytes:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return b""  # gunicorn reads this as the client closing: NoMoreData, the connection is closed
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv(size, *flags)
        except TimeoutError:
            return b""
        finally:
            self._sock.settimeout(None)  # blocking again, as gunicorn left it, for writing the response

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def thread_worker_with_read_deadline(seconds: float) -> type[ThreadWorker]:
    """A gthread worker class whose requests must arrive whole within ``seconds`` of their first byte."""

    class ReadDeadlineThreadWorker(ThreadWorker):
        def enqueue_req(self, conn: Any) -> None:
            # Called when a connection becomes readable: a new request starts (keep-alive ones too).
            if not isinstance(conn.sock, _DeadlineSocket):
                conn.sock = _DeadlineSocket(conn.sock, seconds)
            conn.sock.start_request()
            super().enqueue_req(conn)

    return ReadDeadlineThreadWorker


_original_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(self: wsgi.Response) -> list[str]:
    return [line for line in _original_default_headers(self) if not line.lower().startswith("server:")]


def hide_server_banner() -> None:
    """gunicorn's responses go out without a ``Server`` header (this process and the workers it forks)."""
    wsgi.Response.default_headers = _default_headers_without_server
