"""A light HTTP/1.1 load generator: fixed concurrency, keep-alive, bounded in time and in requests.

Each of ``concurrency`` threads owns one keep-alive connection (raw socket, TCP_NODELAY; reopened every
25 requests, see ``run_load``) and sends POSTs back to back: the next request leaves when the previous
answer has been read in full (a closed loop). Request bytes are prepared before the run; per request only
the client JWT (the next token of a pool minted before the run, see ``benchmarks.client_jwt``), the
``hookInstance`` and, for "first sight" runs, a nonce in every resource are substituted. Responses are
read by ``Content-Length`` with a minimal parser. The generator's CPU per request is measured and
reported (about 0.2-0.3 ms here, mostly socket system calls): it runs on the same two cores as the server,
and that CPU is taken from the server (see docs/performance.md).
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.measure import percentile

HOOK_INSTANCE_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"
NONCE_PLACEHOLDER = "ZZZZZZZZZZZZ"  # 12 characters, replaced by a per-request nonce in "first sight" runs
# Nonces are unique across the runs of a process (run number, request number), so no resource of a "first
# sight" run was seen in an earlier one.
_RUN_NUMBERS = itertools.count(1)
READ_CHUNK = 256 * 1024


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class RequestTemplate:
    """One POST, ready to send but for the substitutions."""

    path: str
    body: bytes
    label: str = ""

    def head(self, host: str, port: int, *, authorized: bool) -> tuple[bytes, bytes]:
        """The request head, split where the bearer token goes (``(head, b"")`` when there is none)."""
        start = f"POST {self.path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        rest = (f"Content-Type: application/json\r\nAccept: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\n\r\n")
        if not authorized:
            return (start + rest).encode("ascii"), b""
        return (start + "Authorization: Bearer ").encode("ascii"), ("\r\n" + rest).encode("ascii")


class _Prepared:
    """A template split at its placeholders, so a request is a few concatenations."""

    def __init__(self, template: RequestTemplate, host: str, port: int, *, fresh_resources: bool,
                 authorized: bool, run_number: int = 0) -> None:
        self.head, self.head_rest = template.head(host, port, authorized=authorized)
        self.authorized = authorized
        self.fresh_resources = fresh_resources and NONCE_PLACEHOLDER.encode() in template.body
        self.run_number = run_number & 0xFFFF
        hook_marker = HOOK_INSTANCE_PLACEHOLDER.encode()
        self.hook_parts = template.body.split(hook_marker, 1)
        if len(self.hook_parts) != 2:
            self.hook_parts = [template.body]

    def build(self, counter: int, token: bytes | None = None) -> bytes:
        if len(self.hook_parts) == 2:
            body = self.hook_parts[0] + str(uuid.uuid4()).encode() + self.hook_parts[1]
        else:
            body = self.hook_parts[0]
        if self.fresh_resources:
            body = body.replace(NONCE_PLACEHOLDER.encode(), f"{self.run_number:04x}{counter & 0xFFFFFFFF:08x}".encode())
        if self.authorized:
            if token is None:
                raise LoadError("an authorized request needs a token")
            return b"".join((self.head, token, self.head_rest, body))
        return self.head + body


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # seconds, per completed request
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    response_bytes: int = 0
    sent: int = 0  # requests started (each used one token, if any)
    tokens_exhausted: bool = False  # the run ended because its token pool was used up

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def requests_per_second(self) -> float:
        return self.completed / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    def summary(self) -> dict[str, float]:
        return {"requests": self.completed, "errors": len(self.errors), "seconds": self.elapsed,
                "rps": self.requests_per_second, "p50_ms": self.percentile_ms(50),
                "p95_ms": self.percentile_ms(95), "p99_ms": self.percentile_ms(99),
                "max_ms": self.percentile_ms(100), "tokens_exhausted": self.tokens_exhausted}


class _Connection:
    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None

    def open(self) -> socket.socket:
        if self.sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = sock
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def exchange(self, request: bytes) -> tuple[int, int]:
        """Send one request, read one response; (status, body bytes)."""
        sock = self.open()
        sock.sendall(request)
        buffer = bytearray()
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = sock.recv(READ_CHUNK)
            if not chunk:
                raise LoadError("connection closed before the response headers")
            buffer += chunk
        head = bytes(buffer[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" not in headers:
            raise LoadError(f"response without Content-Length (status {status})")
        length = int(headers["content-length"])
        have = len(buffer) - end - 4
        while have < length:
            chunk = sock.recv(min(READ_CHUNK, length - have))
            if not chunk:
                raise LoadError("connection closed in the response body")
            have += len(chunk)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, length


def exchange_once(host: str, port: int, template: RequestTemplate, token: bytes | None = None,
                  timeout: float = 30.0) -> tuple[int, int]:
    """One request on a fresh connection (with ``token`` as its bearer token, if given): (status, body bytes)."""
    connection = _Connection(host, port, timeout)
    try:
        prepared = _Prepared(template, host, port, fresh_resources=False, authorized=token is not None)
        return connection.exchange(prepared.build(0, token))
    finally:
        connection.close()


def run_load(host: str, port: int, templates: Sequence[RequestTemplate], *, concurrency: int, seconds: float,
             tokens: Sequence[bytes] | None = None, max_requests: int = 200_000, fresh_resources: bool = False,
             timeout: float = 30.0, max_errors: int = 20, reconnect_every: int = 25) -> LoadResult:
    """Keep ``concurrency`` requests in flight for ``seconds`` (at most ``max_requests`` in all).

    With ``tokens``, request number *n* carries ``tokens[n]`` as its bearer token, and the run ends early
    (``tokens_exhausted``) if they run out. Every request must answer 200; the run stops early after
    ``max_errors`` failures. Each connection is reopened after ``reconnect_every`` requests: the kernel
    hands a new connection to whichever gunicorn worker accepts first, and a keep-alive connection stays
    with it, so with a few long-lived connections one unlucky run can put them all on one worker.
    Reconnecting averages that out.
    """
    run_number = next(_RUN_NUMBERS)
    authorized = tokens is not None
    prepared = [_Prepared(t, host, port, fresh_resources=fresh_resources, authorized=authorized,
                          run_number=run_number) for t in templates]
    if tokens is not None:
        max_requests = min(max_requests, len(tokens))
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(max_requests))
    drawn = [0]
    start = threading.Barrier(concurrency + 1)
    stop_at: list[float] = [0.0]

    def worker(offset: int) -> None:
        connection = _Connection(host, port, timeout)
        latencies: list[float] = []
        errors: list[str] = []
        received = 0
        index = offset
        try:
            start.wait(timeout=30)
            while time.perf_counter() < stop_at[0] and len(errors) < max_errors:
                with lock:
                    number = next(counter, None)
                    if number is not None:
                        drawn[0] += 1
                if number is None:
                    result.tokens_exhausted = authorized
                    break
                request = prepared[index % len(prepared)].build(number, tokens[number] if tokens else None)
                index += 1
                try:
                    connection.open()  # (re)connect outside the timed exchange
                    sent = time.perf_counter()
                    status, size = connection.exchange(request)
                except (OSError, LoadError, ValueError) as error:
                    errors.append(f"{type(error).__name__}: {error}")
                    connection.close()
                    continue
                if status != 200:
                    errors.append(f"HTTP {status}")
                    continue
                latencies.append(time.perf_counter() - sent)
                received += size
                if len(latencies) % reconnect_every == 0:
                    connection.close()
        finally:
            connection.close()
            with lock:
                result.latencies.extend(latencies)
                result.errors.extend(errors)
                result.response_bytes += received

    threads = [threading.Thread(target=worker, args=(i * 7,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait(timeout=30)
    for thread in threads:
        thread.join(timeout=seconds + timeout + 5)
    result.elapsed = time.perf_counter() - began
    result.sent = drawn[0]
    return result


def sequential(host: str, port: int, templates: Sequence[RequestTemplate], count: int,
               between: Callable[[int], None] | None = None, timeout: float = 30.0,
               tokens: Sequence[bytes] | None = None) -> list[float]:
    """``count`` requests one after another on one keep-alive connection; latencies in seconds.

    With ``tokens`` (at least ``count`` of them), request number *n* carries ``tokens[n]``."""
    if tokens is not None and len(tokens) < count:
        raise LoadError(f"{count} requests need {count} tokens, not {len(tokens)}")
    connection = _Connection(host, port, timeout)
    prepared = [_Prepared(t, host, port, fresh_resources=False, authorized=tokens is not None) for t in templates]
    latencies = []
    try:
        for number in range(count):
            if between is not None:
                between(number)
            request = prepared[number % len(prepared)].build(number, tokens[number] if tokens else None)
            sent = time.perf_counter()
            status, _ = connection.exchange(request)
            elapsed = time.perf_counter() - sent
            if status != 200:
                raise LoadError(f"HTTP {status} from {templates[number % len(templates)].path}")
            latencies.append(elapsed)
    finally:
        connection.close()
    return latencies
