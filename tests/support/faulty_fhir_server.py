"""A small, controllable, misbehaving FHIR server on 127.0.0.1 for the prefetch fallback tests.

Tell it per path (optionally `path?query`) what to answer, as a sequence of `Reply`s (the last one
repeats)::

    server.route("/fhir/Patient/1", Reply.error(503), Reply.json(patient))
    server.route("/fhir/Observation", Reply.close())

Faults: a delay, closing the socket without an answer, a reset in the middle of the body, any
status with or without `Retry-After`, malformed JSON, a non-FHIR JSON body, an enormous streamed
Bundle, headers or a body dripped a byte at a time. Every request is recorded (`server.requests`),
with its `Authorization` and `Cookie` headers; `server.dripping` counts the drips still being sent
(a drip ends when the client closes the connection).

Loaded as a pytest plugin (``-p tests.support.faulty_fhir_server``), it provides two
function-scoped fixtures, `faulty_fhir_server` and `second_faulty_fhir_server` (another port, so
another origin). Each instance stops itself after `max_lifetime` seconds at the latest, and delays
end at once when it stops.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

FHIR_JSON = "application/fhir+json"
MAX_DELAY_SECONDS = 10.0


@dataclass(frozen=True)
class Reply:
    """One answer. `fault` is None, "close", "reset-mid-body", "enormous", "drip-headers" or "drip-body"."""

    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes → sent as is; None → empty
    content_type: str = FHIR_JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    fault: str | None = None
    enormous_bytes: int = 0
    declare_length: bool = True
    drip_interval: float = 0.05

    @classmethod
    def json(cls, body: Any, status: int = 200, **kwargs: Any) -> Reply:
        return cls(status=status, body=body, **kwargs)

    @classmethod
    def error(
        cls, status: int, retry_after: str | None = None, headers: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Reply:
        headers = {**(headers or {}), **({"Retry-After": retry_after} if retry_after is not None else {})}
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "exception"}],
        }
        return cls(status=status, body=outcome, headers=headers, **kwargs)

    @classmethod
    def close(cls) -> Reply:
        """Read the request, then close the connection without answering."""
        return cls(fault="close")

    @classmethod
    def reset_mid_body(cls) -> Reply:
        """Announce a body, send part of it, then reset the connection (RST)."""
        return cls(fault="reset-mid-body")

    @classmethod
    def enormous(cls, size: int, declare_length: bool = False) -> Reply:
        """A searchset Bundle of about `size` bytes, streamed (without Content-Length by default)."""
        return cls(fault="enormous", enormous_bytes=size, declare_length=declare_length)

    @classmethod
    def drip(cls, part: str = "headers", interval: float = 0.05) -> Reply:
        """Send the status line and headers (`part="headers"`), or a long body after prompt headers
        (`part="body"`), one byte every `interval` seconds until the client hangs up: every read
        gets data well within any read timeout, so only a total deadline ends it."""
        if part not in ("headers", "body"):
            raise ValueError("drip part is 'headers' or 'body'")
        return cls(fault=f"drip-{part}", drip_interval=interval)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    query: str
    authorization: str | None
    cookie: str | None = None


class FaultyFhirServer:
    """One instance on an ephemeral port; FHIR base `{root_url}/fhir`."""

    def __init__(self, max_lifetime: float = 60.0, keep_alive: bool = False) -> None:
        """`keep_alive`: answer in HTTP/1.1 and keep connections open (by default each answer closes its
        connection, HTTP/1.0 style, so every request of a test is a fresh connection)."""
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._requests: list[SeenRequest] = []
        self._stopping = threading.Event()
        self._dripping = 0
        self._connections = 0
        self._httpd = _Server(("127.0.0.1", 0), _KeepAliveHandler if keep_alive else _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self._timer = threading.Timer(max_lifetime, self.stop)
        self._timer.daemon = True

    def start(self) -> FaultyFhirServer:
        self._thread.start()
        self._timer.start()
        return self

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/fhir"

    def route(self, path: str, *replies: Reply) -> None:
        """Answer `path` (e.g. `/fhir/Patient/1`, or with `?query` to match exactly) with `replies`."""
        if not replies:
            raise ValueError("route() needs at least one Reply")
        with self._lock:
            self._routes[path] = list(replies)

    @property
    def requests(self) -> list[SeenRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return self._connections

    @property
    def dripping(self) -> int:
        """Drip replies still being sent: each ends when its client closes the connection."""
        with self._lock:
            return self._dripping

    # -- used by the handler ---------------------------------------------------------------
    def _next_reply(self, method: str, target: str, authorization: str | None, cookie: str | None) -> Reply | None:
        parts = urlsplit(target)
        with self._lock:
            self._requests.append(SeenRequest(method, parts.path, parts.query, authorization, cookie))
            replies = self._routes.get(target) or self._routes.get(parts.path)
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _sleep(self, seconds: float) -> bool:
        """Wait; False when the server is stopping."""
        return not self._stopping.wait(min(seconds, MAX_DELAY_SECONDS))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog is 5: a burst of concurrent fetches (8 calls x 3 keys) overflowed it
    # and the dropped SYNs were resent a second later. Real servers accept more (nginx and Node: 511).
    request_queue_size = 128
    owner: FaultyFhirServer

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.owner._lock:
            self.owner._connections += 1
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 1 << 20))
        self._answer()

    def _answer(self) -> None:
        owner = self.server.owner
        reply = owner._next_reply(self.command, self.path, self.headers.get("Authorization"), self.headers.get("Cookie"))
        if reply is None:
            outcome = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
            self._send(404, json.dumps(outcome).encode(), FHIR_JSON, {})
            return
        if reply.delay and not owner._sleep(reply.delay):
            return
        try:
            if reply.fault == "close":
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
            elif reply.fault == "reset-mid-body":
                self._reset_mid_body()
            elif reply.fault == "enormous":
                self._enormous(reply)
            elif reply.fault in ("drip-headers", "drip-body"):
                self._drip(reply)
            else:
                self._send(reply.status, _encode(reply.body), reply.content_type, reply.headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up reading, as it should for an enormous body

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _reset_mid_body(self) -> None:
        body = json.dumps({"resourceType": "Bundle", "type": "searchset", "entry": []}).encode() * 100
        self.send_response(200)
        self.send_header("Content-Type", FHIR_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 3])
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _enormous(self, reply: Reply) -> None:
        entry = json.dumps({"resource": {"resourceType": "Observation", "id": "x" * 40, "status": "final"}})
        head, tail = b'{"resourceType": "Bundle", "type": "searchset", "entry": [', b"]}"
        count = max(1, (reply.enormous_bytes - len(head) - len(tail)) // (len(entry) + 1))
        chunk = (entry + ",").encode() * 100
        self.send_response(200)
        self.send_header("Content-Type", FHIR_JSON)
        if reply.declare_length:
            self.send_header("Content-Length", str(len(head) + len(tail) + count * (len(entry) + 1) - 1))
        self.end_headers()
        self.wfile.write(head)
        written = 0
        while written + 100 < count and not self.server.owner._stopping.is_set():
            self.wfile.write(chunk)
            written += 100
        self.wfile.write(",".join([entry] * (count - written)).encode() + tail)


    def _drip(self, reply: Reply) -> None:
        owner = self.server.owner
        head = f"HTTP/1.1 200 OK\r\nContent-Type: {FHIR_JSON}\r\n".encode()
        if reply.fault == "drip-headers":
            prompt, dripped = b"", head + b"X-Padding: " + b"x" * 100_000
        else:
            body = b'{"resourceType": "Bundle", "type": "searchset", "entry": [' + b" " * 100_000 + b"]}"
            prompt, dripped = head + f"Content-Length: {len(body)}\r\n\r\n".encode(), body
        with owner._lock:
            owner._dripping += 1
        try:
            self.wfile.write(prompt)
            for byte in dripped:
                if owner._stopping.wait(reply.drip_interval):
                    return
                self.wfile.write(bytes([byte]))
        except OSError:
            return  # the client hung up: the drip is over
        finally:
            self.close_connection = True
            with owner._lock:
                owner._dripping -= 1


class _KeepAliveHandler(_Handler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body would wait for the
    # client's delayed ACK (40 ms) on a kept-alive connection. Real servers (Node, nginx) set it too.
    disable_nagle_algorithm = True


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


# -- FHIR helpers for the tests -------------------------------------------------------------
def searchset(resources: list[dict[str, Any]], next_url: str | None = None, **extra: Any) -> dict[str, Any]:
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources],
        **extra,
    }
    if next_url is not None:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


# -- pytest fixtures --------------------------------------------------------------------------
def _running() -> Iterator[FaultyFhirServer]:
    server = FaultyFhirServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def faulty_fhir_server() -> Iterator[FaultyFhirServer]:
    """A misbehaving FHIR server on 127.0.0.1 (base `faulty_fhir_server.base_url`)."""
    yield from _running()


@pytest.fixture
def second_faulty_fhir_server() -> Iterator[FaultyFhirServer]:
    """Another instance on another port: another origin, e.g. the target of an off-origin `next`."""
    yield from _running()
