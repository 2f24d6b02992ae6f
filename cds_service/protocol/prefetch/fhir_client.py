"""HTTP access to the client's FHIR server for the prefetch fallback, on httpx's `AsyncClient`.

Why asyncio: one total deadline per request. A socket timeout bounds each read, not a whole response,
so a server dripping its headers or body a byte at a time holds any blocking client for ever. A task
is cancelled wherever it waits (`asyncio.timeout`), and its connection is closed with it: no thread
is left reading a dripping server after the deadline.

One `FhirClient` per process. Its event loop runs on one daemon thread (`fhir-client`) and holds one
pooled `httpx.AsyncClient`, so a call reuses the connections (and TLS sessions) of the calls before
it. Both are built on first use by the process that uses them: a gunicorn worker forked from a
master that had used the client builds its own. Request threads hand work to the loop with `run`.

Every GET carries `Accept: application/fhir+json` and, only when a token is given,
`Authorization: Bearer <token>`; cookies are never kept, redirects never followed, and the
environment (proxies, `.netrc`, certificate variables) is ignored. Which URLs may receive the token
is the resolver's rule (the `fhirServer`'s origin only).

Failures become one exception, `FhirFetchError`, whose `reason` is short and safe to log and to
report (`unauthorized`, `timeout`, `server-error 503`, ...). Tokens, URLs and response bodies are
never logged; log lines carry the resource type, status code and timing.

Retries: at most `retries` more attempts, on connection failures before any response (refused,
dropped, connect timeout) and on 502/503/504. A server's `Retry-After` is honoured up to
`max_retry_after_seconds`; a retry that could not start before the deadline is not attempted, and
a read timeout is final (the time is spent).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import ssl
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from enum import StrEnum
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

__all__ = ["FHIR_JSON", "FailureKind", "FhirClient", "FhirClientSettings", "FhirFetchError", "RequestLimits"]

log = logging.getLogger(__name__)
# httpx logs every request's full URL at INFO: patient ids and search parameters. Quiet by default.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

FHIR_JSON = "application/fhir+json"
_JSON_MEDIA_TYPES = {"application/fhir+json", "application/json+fhir", "application/json"}
_RETRY_STATUSES = frozenset({502, 503, 504})
_MIN_RETRY_BUDGET_SECONDS = 0.05  # no retry is started with less time left than this
_CONNECTION_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadError, httpx.WriteError,
                        httpx.RemoteProtocolError)
T = TypeVar("T")


class FailureKind(StrEnum):
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    TIMEOUT = "timeout"
    SERVER_ERROR = "server-error"
    HTTP_ERROR = "http-error"
    CONNECTION_ERROR = "connection-error"
    TOO_LARGE = "too-large"
    BAD_RESPONSE = "bad-response"
    INVALID_URL = "invalid-url"
    INVALID_TOKEN = "invalid-token"  # noqa: S105 - a failure name, not a secret


class FhirFetchError(Exception):
    """A FHIR request failed. `reason` is e.g. `server-error 503`; `detail` is for the log only."""

    def __init__(self, kind: FailureKind, status: int | None = None, detail: str = "") -> None:
        self.kind = kind
        self.status = status
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)

    @property
    def reason(self) -> str:
        with_status = {FailureKind.SERVER_ERROR, FailureKind.HTTP_ERROR}
        return f"{self.kind} {self.status}" if self.kind in with_status and self.status else str(self.kind)


@dataclass(frozen=True)
class FhirClientSettings:
    """Process-wide connection settings (the per-call limits are in `RequestLimits`)."""

    max_connections: int = 64  # open at once, all FHIR servers together
    max_keepalive_connections: int = 16  # idle connections kept for the next calls
    keepalive_expiry_seconds: float = 4.0  # under the 5 s after which many servers (Node) drop idle ones
    retries: int = 2
    backoff_seconds: float = 0.2  # the wait before the 2nd and later retries; the 1st is immediate
    max_retry_after_seconds: float = 1.0
    user_agent: str = "neuroblastoma-cds (CDS Hooks prefetch)"


@dataclass(frozen=True)
class RequestLimits:
    """Limits for one call: an absolute deadline (`time.monotonic()`), timeouts and a body cap."""

    deadline: float
    connect_timeout: float = 1.0
    read_timeout: float = 2.5
    max_bytes: int = 10 * 1024 * 1024

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class _LoopThread:
    """An asyncio event loop running on a daemon thread of this process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fhir-client", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        if not self.thread.is_alive():
            self.loop.close()


class FhirClient:
    """GETs FHIR resources on its own event loop. Thread-safe: any thread may `run` work on it."""

    def __init__(self, settings: FhirClientSettings | None = None) -> None:
        if settings is not None and not isinstance(settings, FhirClientSettings):
            raise TypeError(
                f"FhirClient takes FhirClientSettings, not {type(settings).__name__} "
                "(the FetchPolicy goes to resolve_prefetch)"
            )
        self.settings = settings or FhirClientSettings()
        self._lock = threading.Lock()
        self._loop_thread: _LoopThread | None = None
        self._http: httpx.AsyncClient | None = None
        self._pid: int | None = None

    # -- the loop and the connection pool of this process ---------------------------------
    def _started(self) -> _LoopThread:
        with self._lock:
            if self._loop_thread is None or self._pid != os.getpid():
                # First use, or first use in a forked child: the parent's loop thread does not exist
                # here and its sockets are the parent's, so build anew and leave those untouched.
                self._http = _build_http_client(self.settings)
                self._loop_thread = _LoopThread()
                self._pid = os.getpid()
            return self._loop_thread

    def run(self, coroutine: Coroutine[Any, Any, T], *, timeout: float) -> T:
        """Run `coroutine` on the client's loop and wait for its result. After `timeout` seconds it is
        cancelled and `TimeoutError` raised (a last resort: fetches keep their own deadline)."""
        loop_thread = self._started()
        if threading.current_thread() is loop_thread.thread:
            coroutine.close()
            raise RuntimeError("FhirClient.run was called from the client's own loop; await instead")
        future = asyncio.run_coroutine_threadsafe(coroutine, loop_thread.loop)
        try:
            return future.result(timeout=max(0.0, timeout))
        except TimeoutError:
            future.cancel()
            raise

    def get_resource(self, url: str, *, token: str | None, limits: RequestLimits) -> dict[str, Any]:
        """`fetch` from a thread that has no event loop (scripts, benchmarks). Raises `FhirFetchError`."""
        try:
            return self.run(self.fetch(url, token=token, limits=limits), timeout=limits.remaining() + 1.0)
        except TimeoutError:
            raise FhirFetchError(FailureKind.TIMEOUT, detail="the client's loop did not answer") from None

    def tasks_in_flight(self) -> int:
        """Tasks running on the client's loop (0 once every fetch has ended): for tests and health checks."""
        with self._lock:
            started = self._loop_thread is not None and self._pid == os.getpid()
        if not started:
            return 0

        async def others() -> int:
            return len(asyncio.all_tasks()) - 1

        return self.run(others(), timeout=5)

    def close(self) -> None:
        """Close the connections and stop the loop thread; a later use starts them again."""
        with self._lock:
            loop_thread, http, own = self._loop_thread, self._http, self._pid == os.getpid()
            self._loop_thread = self._http = self._pid = None
        if loop_thread is None or http is None or not own:
            return
        try:
            asyncio.run_coroutine_threadsafe(http.aclose(), loop_thread.loop).result(timeout=5)
        except Exception as exc:  # closing must not fail a shutdown
            log.warning("closing the FHIR connections failed: %s", type(exc).__name__)
        loop_thread.stop()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one GET, on the loop -------------------------------------------------------------
    async def fetch(self, url: str, *, token: str | None, limits: RequestLimits) -> dict[str, Any]:
        """GET one FHIR resource (a Bundle for a search), all of it by `limits.deadline`: retries,
        waits, headers and body included. Must run on the client's loop. Raises `FhirFetchError`."""
        headers = {"Accept": FHIR_JSON}
        if token is not None:
            if not token or not all("\x21" <= ch <= "\x7e" for ch in token):
                raise FhirFetchError(FailureKind.INVALID_TOKEN, detail="token is not printable ASCII")
            headers["Authorization"] = f"Bearer {token}"
        label, started = _resource_type_of(url), time.monotonic()
        status: int | str = "-"
        try:
            if limits.remaining() <= 0:
                raise FhirFetchError(FailureKind.TIMEOUT, detail="deadline passed before the request")
            async with asyncio.timeout(limits.remaining()):
                response = await self._send(url, headers, limits)
                status = response.status_code
                try:
                    _raise_for_status(response)
                    body = await _read_capped(response, limits)
                finally:
                    await response.aclose()
        except TimeoutError:
            log.info("FHIR GET %s -> %s: timeout (deadline) after %.0f ms", label, status, _ms_since(started))
            raise FhirFetchError(FailureKind.TIMEOUT, detail="deadline") from None
        except FhirFetchError as failure:
            log.info("FHIR GET %s -> %s: %s after %.0f ms", label, status, failure.reason, _ms_since(started))
            raise
        log.debug("FHIR GET %s -> %s, %d bytes in %.0f ms", label, status, len(body), _ms_since(started))
        return _parse_fhir_json(body, response.headers.get("Content-Type"))

    async def _send(self, url: str, headers: dict[str, str], limits: RequestLimits) -> httpx.Response:
        """The response, its body not yet read, after the retries the rules allow."""
        http = self._http
        if http is None:
            raise RuntimeError("the FhirClient was closed")
        timeout = httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout)
        attempt = 0
        while True:
            try:
                request = http.build_request("GET", url, headers=headers, timeout=timeout)
                response = await http.send(request, stream=True)
            except _CONNECTION_FAILURES as exc:  # no response at all: safe to send the GET again
                kind = FailureKind.TIMEOUT if isinstance(exc, httpx.TimeoutException) else FailureKind.CONNECTION_ERROR
                failure = FhirFetchError(kind, detail=type(exc).__name__)
                wait = 0.0 if attempt == 0 else self.settings.backoff_seconds
            except httpx.TimeoutException as exc:  # read, write or pool timeout: the time is spent
                raise FhirFetchError(FailureKind.TIMEOUT, detail=type(exc).__name__) from None
            except httpx.InvalidURL:
                raise FhirFetchError(FailureKind.INVALID_URL) from None
            except httpx.HTTPError as exc:
                raise FhirFetchError(FailureKind.CONNECTION_ERROR, detail=type(exc).__name__) from None
            else:
                if response.status_code not in _RETRY_STATUSES:
                    return response
                await response.aclose()
                failure = FhirFetchError(FailureKind.SERVER_ERROR, response.status_code)
                asked = _retry_after_seconds(response.headers.get("Retry-After"))
                if asked is not None and asked >= limits.remaining():
                    raise failure  # the server asks for more time than this call has
                if asked is None:
                    wait = 0.0 if attempt == 0 else self.settings.backoff_seconds
                else:
                    wait = min(asked, self.settings.max_retry_after_seconds)
            if attempt >= self.settings.retries or wait + _MIN_RETRY_BUDGET_SECONDS > limits.remaining():
                raise failure
            attempt += 1
            log.debug("FHIR GET %s: %s, retry %d in %.2f s", _resource_type_of(url), failure.reason, attempt, wait)
            await asyncio.sleep(wait)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CAs), built once per process: loading the CAs takes
    30-60 ms, which each new client (each test's app, each forked worker) would pay again."""
    return httpx.create_ssl_context(trust_env=False)


def _build_http_client(settings: FhirClientSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=_tls_context(),
        headers={"User-Agent": settings.user_agent},
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # never keeps a cookie
        follow_redirects=False,
        trust_env=False,  # no proxies, .netrc or certificate paths from the environment
        limits=httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_keepalive_connections,
            keepalive_expiry=settings.keepalive_expiry_seconds,
        ),
    )


def _retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in seconds (delay-seconds or an HTTP date); None when absent or malformed."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    if status == 401:
        raise FhirFetchError(FailureKind.UNAUTHORIZED, status)
    if status == 403:
        raise FhirFetchError(FailureKind.FORBIDDEN, status)
    if status in (404, 410):
        raise FhirFetchError(FailureKind.NOT_FOUND, status)
    if status >= 500:
        raise FhirFetchError(FailureKind.SERVER_ERROR, status)
    if 300 <= status < 400:
        raise FhirFetchError(FailureKind.BAD_RESPONSE, status, detail=f"redirect {status} not followed")
    raise FhirFetchError(FailureKind.HTTP_ERROR, status)


async def _read_capped(response: httpx.Response, limits: RequestLimits) -> bytes:
    """The decoded body, refusing more than `limits.max_bytes` (declared or received)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FhirFetchError(FailureKind.TOO_LARGE, response.status_code, detail="Content-Length over cap")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limits.max_bytes:
                raise FhirFetchError(FailureKind.TOO_LARGE, response.status_code, detail="body over cap")
            chunks.append(chunk)
    except httpx.TimeoutException as exc:
        raise FhirFetchError(FailureKind.TIMEOUT, response.status_code, detail=type(exc).__name__) from None
    except httpx.HTTPError as exc:  # reset, closed early, undecodable gzip
        raise FhirFetchError(
            FailureKind.CONNECTION_ERROR, response.status_code, detail=f"body cut: {type(exc).__name__}"
        ) from None
    return b"".join(chunks)


def _parse_fhir_json(body: bytes, content_type: str | None) -> dict[str, Any]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in _JSON_MEDIA_TYPES and not media_type.endswith("+json"):
        raise FhirFetchError(FailureKind.BAD_RESPONSE, detail=f"content type {media_type[:60]!r} is not JSON")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FhirFetchError(FailureKind.BAD_RESPONSE, detail=f"invalid JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        raise FhirFetchError(FailureKind.BAD_RESPONSE, detail="JSON is not a FHIR resource")
    return value


def _resource_type_of(url: str) -> str:
    """For the log: the last path segment that looks like a resource type, never ids or queries."""
    try:
        segments = [s for s in urlsplit(url).path.split("/") if s]
    except ValueError:
        return "?"
    types = [s for s in segments if s[:1].isupper() and s.isalpha()]
    return types[-1] if types else "?"


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
