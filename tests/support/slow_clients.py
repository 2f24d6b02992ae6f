"""Slow clients for the tests: connections that send a request line, then their headers a byte at a time.

Every byte arrives well within any per-read timeout, so only a total deadline (the service's read deadline,
or a buffering proxy's header timeout) ends them. ``closed_at`` records when the server closed one.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator


class SlowClient:
    """A connection that sends a request line and then its headers one byte every `interval` seconds."""

    def __init__(self, port: int, interval: float = 0.3) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        self.closed_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, args=(interval,), daemon=True)
        self._thread.start()

    def _drip(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.sock.sendall(b"x")
            except OSError:  # the server closed the connection
                self.closed_at = time.monotonic()
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


@contextlib.contextmanager
def slow_clients(port: int, count: int) -> Iterator[list[SlowClient]]:
    clients = [SlowClient(port) for _ in range(count)]
    try:
        yield clients
    finally:
        for client in clients:
            client.close()
