"""HTTP access to the client's FHIR server for the prefetch fallback.

One `FhirClient` per process holds one pooled `requests.Session` (re-created after a fork). Every
GET carries `Accept: application/fhir+json` and, only when a token is given,
`Authorization: Bearer <token>`; cookies are never stored, redirects never followed, and the
environment (proxies, `.netrc` credentials) is ignored.

Failures become one exception, `FhirFetchError`, whose `reason` is short and safe to log and to
report (`unauthorized`, `timeout`, `server-error 503`, ...). Tokens, URLs with query strings and
response bodies are never logged; log lines carry the resource type, status code and timing.

Retries (urllib3 `Retry`, GET only): at most `retries` more attempts, on connection failures
(refused, dropped before any response) and on 502/503/504. A server's `Retry-After` is honoured
up to `max_retry_after_seconds`; a retry that could not finish before the request's deadline is not
attempted, and a read timeout is final (the deadline is spent).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    DecodeError,
    InvalidHeader,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.exceptions import TimeoutError as Urllib3TimeoutError
from urllib3.util.retry import Retry

from .bundles import bundle_link, read_searchset
from .fhir_base import FhirBase, Origin

__all__ = [
    "FHIR_JSON",
    "FailureKind",
    "FhirClient",
    "FhirClientSettings",
    "FhirFetchError",
    "IncompletePaging",
    "RequestLimits",
]

log = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"
_JSON_MEDIA_TYPES = {"application/fhir+json", "application/json+fhir", "application/json"}
_CHUNK_BYTES = 64 * 1024
_MIN_RETRY_BUDGET_SECONDS = 0.05
_RETRY_STATUSES = frozenset({502, 503, 504})
# The deadline of the request being sent by this thread, read by the Retry policy below.
_REQUEST_DEADLINE: ContextVar[float | None] = ContextVar("fhir_request_deadline", default=None)


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


class IncompletePaging(Exception):  # noqa: N818 - a signal, not an error: the pages so far are kept
    """Paging stopped before the last page: `max-pages`, `next-loop`, `next-off-origin`, `timeout`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FhirClientSettings:
    """Process-wide connection settings (the per-call limits are in `RequestLimits`)."""

    pool_connections: int = 8  # hosts whose connection pools are kept
    pool_maxsize: int = 16  # connections kept per host
    retries: int = 2
    backoff_factor: float = 0.1  # urllib3: no wait before the 1st retry, 0.2 s before the 2nd
    backoff_max_seconds: float = 0.5
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


class FhirClient:
    """GETs FHIR resources and follows searchset `next` links, safely. Thread-safe."""

    def __init__(self, settings: FhirClientSettings | None = None) -> None:
        if settings is not None and not isinstance(settings, FhirClientSettings):
            raise TypeError(
                f"FhirClient takes FhirClientSettings, not {type(settings).__name__} "
                "(the FetchPolicy goes to resolve_prefetch)"
            )
        self.settings = settings or FhirClientSettings()
        self._lock = threading.Lock()
        self._session: requests.Session | None = None
        self._session_pid: int | None = None

    @property
    def session(self) -> requests.Session:
        """The pooled session of this process (a forked worker builds its own)."""
        with self._lock:
            if self._session is None or self._session_pid != os.getpid():
                self._session = _build_session(self.settings)
                self._session_pid = os.getpid()
            return self._session

    def close(self) -> None:
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    def __enter__(self) -> FhirClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get_resource(self, url: str, *, token: str | None, limits: RequestLimits) -> dict[str, Any]:
        """GET one FHIR resource (a Bundle for a search). Raises `FhirFetchError`."""
        headers = {"Accept": FHIR_JSON}
        if token is not None:
            if not token or not all("\x21" <= ch <= "\x7e" for ch in token):
                raise FhirFetchError(FailureKind.INVALID_TOKEN, detail="token is not printable ASCII")
            headers["Authorization"] = f"Bearer {token}"
        remaining = limits.remaining()
        if remaining <= 0:
            raise FhirFetchError(FailureKind.TIMEOUT, detail="deadline passed before the request")
        timeout = (min(limits.connect_timeout, remaining), min(limits.read_timeout, remaining))
        label = _resource_type_of(url)
        started = time.monotonic()
        deadline_marker = _REQUEST_DEADLINE.set(limits.deadline)
        try:
            response = self.session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
        except (requests.RequestException, Urllib3TimeoutError, ProtocolError, MaxRetryError) as exc:
            failure = _transport_failure(exc, limits)
            log.info("FHIR GET %s failed: %s after %.0f ms", label, failure, _ms_since(started))
            raise failure from None
        finally:
            _REQUEST_DEADLINE.reset(deadline_marker)
        with response:
            try:
                _raise_for_status(response)
                body = _read_capped(response, limits)
            except FhirFetchError as failure:
                log.info(
                    "FHIR GET %s -> %s: %s after %.0f ms",
                    label,
                    response.status_code,
                    failure.reason,
                    _ms_since(started),
                )
                raise
        log.debug("FHIR GET %s -> %s, %d bytes in %.0f ms", label, response.status_code, len(body), _ms_since(started))
        return _parse_fhir_json(body, response.headers.get("Content-Type"))

    def next_pages(
        self,
        page: Mapping[str, Any],
        page_url: str | None,
        *,
        base: FhirBase,
        token: str | None,
        limits: RequestLimits,
        max_pages: int,
    ) -> Iterator[dict[str, Any]]:
        """Yield the pages after `page` by following `link[next]`, `max_pages` in all (with `page`).

        A link is followed only when its origin is the FHIR server's (the token never goes to
        another host). Raises `IncompletePaging` when it has to stop while a `next` link remains
        (`max-pages`, `next-off-origin`, `next-loop`, `timeout`) and `FhirFetchError` when a page fails.
        """
        first_url = page_url or bundle_link(page, "self")
        seen = {base.resolve_link(first_url, None)} if first_url else set()
        pages = 1
        current, current_url = page, page_url
        while True:
            link = read_searchset(current).next_link
            if link is None:
                return
            next_url = base.resolve_link(link, current_url)
            if Origin.of(next_url) != base.origin:
                log.warning("not following a next link to another origin than the FHIR server")
                raise IncompletePaging("next-off-origin")
            if next_url in seen:
                raise IncompletePaging("next-loop")
            if pages >= max_pages:
                raise IncompletePaging("max-pages")
            if limits.remaining() <= 0:
                raise IncompletePaging("timeout")
            seen.add(next_url)
            current = self.get_resource(next_url, token=token, limits=limits)
            current_url = next_url
            if current.get("resourceType") != "Bundle":
                raise FhirFetchError(FailureKind.BAD_RESPONSE, detail="a next page is not a Bundle")
            pages += 1
            yield current


class _DeadlineRetry(Retry):
    """urllib3 `Retry` bound to the deadline of the request in flight (`_REQUEST_DEADLINE`).

    - a read timeout is final (never retried);
    - no retry is started without time left for it, nor when the server's `Retry-After` asks for
      more time than is left;
    - waits (Retry-After, back-off) are capped by `max_retry_after` and by the time left;
    - a malformed `Retry-After` is ignored instead of raising.
    """

    # urllib3 would also retry 413 and 429 when they carry Retry-After; we retry 502/503/504 only.
    RETRY_AFTER_STATUS_CODES = _RETRY_STATUSES

    def __init__(self, *args: Any, max_retry_after: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kw: Any) -> _DeadlineRetry:
        kw.setdefault("max_retry_after", self.max_retry_after)
        return super().new(**kw)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> _DeadlineRetry:
        if isinstance(error, ReadTimeoutError):
            raise error.with_traceback(_stacktrace)
        remaining = _time_left()
        out_of_time = remaining is not None and remaining < _MIN_RETRY_BUDGET_SECONDS
        if not out_of_time and response is not None and remaining is not None:
            asked = self._requested_wait(response)
            out_of_time = asked is not None and asked >= remaining
        if out_of_time:
            reason = error or ResponseError(f"no time left to retry ({getattr(response, 'status', '')})")
            raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_retry_after(self, response: Any) -> float | None:
        asked = self._requested_wait(response)
        return None if asked is None else _within_deadline(min(asked, self.max_retry_after))

    def get_backoff_time(self) -> float:
        return _within_deadline(super().get_backoff_time())

    def _requested_wait(self, response: Any) -> float | None:
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None


def _time_left() -> float | None:
    deadline = _REQUEST_DEADLINE.get()
    return None if deadline is None else deadline - time.monotonic()


def _within_deadline(seconds: float) -> float:
    remaining = _time_left()
    if remaining is None:
        return seconds
    return max(0.0, min(seconds, remaining - _MIN_RETRY_BUDGET_SECONDS))


@contextlib.contextmanager
def _socket_deadline(connection: HTTPConnection) -> Iterator[None]:
    """Shut the connection's socket down if the request's deadline passes while inside the block.

    Socket timeouts bound each read, not a whole phase: a server dripping its status line and
    headers a byte at a time (or its TLS handshake) would hold the fetch thread for ever.
    """
    deadline = _REQUEST_DEADLINE.get()
    if deadline is None:
        yield
        return
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), _shut_down, (connection,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _shut_down(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _DeadlineConnection:
    """Connect and read the response head under the call's deadline (mixed into the HTTP and HTTPS classes)."""

    def connect(self) -> None:
        with _socket_deadline(self):
            super().connect()  # type: ignore[misc]

    def getresponse(self) -> Any:
        with _socket_deadline(self):
            return super().getresponse()  # type: ignore[misc]


class _DeadlineHTTPConnection(_DeadlineConnection, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    """Connections whose connect and response-header phases end at the request's deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


def _build_session(settings: FhirClientSettings) -> requests.Session:
    retry = _DeadlineRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,  # a connection dropped before the response; read timeouts are final
        status=settings.retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET"}),
        status_forcelist=_RETRY_STATUSES,
        backoff_factor=settings.backoff_factor,
        backoff_max=settings.backoff_max_seconds,
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
        max_retry_after=settings.max_retry_after_seconds,
    )
    adapter = _DeadlineAdapter(
        pool_connections=settings.pool_connections, pool_maxsize=settings.pool_maxsize, max_retries=retry
    )
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # never keep cookies
    session.headers["User-Agent"] = settings.user_agent
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _transport_failure(exc: BaseException, limits: RequestLimits) -> FhirFetchError:
    if limits.remaining() <= 0 or _is_timeout(exc):
        return FhirFetchError(FailureKind.TIMEOUT, detail=type(exc).__name__)
    return FhirFetchError(FailureKind.CONNECTION_ERROR, detail=type(exc).__name__)


def _is_timeout(exc: BaseException, depth: int = 0) -> bool:
    """Whether a (possibly wrapped) requests/urllib3 error is a timeout; a refused connection isn't."""
    if depth > 5 or isinstance(exc, NewConnectionError):
        return False
    if isinstance(exc, requests.Timeout | Urllib3TimeoutError | TimeoutError):
        return True
    inner = [getattr(exc, "reason", None), *getattr(exc, "args", ())]
    return any(isinstance(e, BaseException) and _is_timeout(e, depth + 1) for e in inner)


def _raise_for_status(response: requests.Response) -> None:
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


def _read_capped(response: requests.Response, limits: RequestLimits) -> bytes:
    """The decoded body, refusing more than `limits.max_bytes` and stopping at the deadline.

    `read1` returns after at most one socket read, so a server trickling bytes cannot hold the
    thread past the deadline by more than one read timeout.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise FhirFetchError(FailureKind.TOO_LARGE, response.status_code, detail="Content-Length over cap")
    raw = response.raw
    read = getattr(raw, "read1", None) or raw.read
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            chunk = read(_CHUNK_BYTES, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.max_bytes:
                raise FhirFetchError(FailureKind.TOO_LARGE, response.status_code, detail="body over cap")
            if limits.remaining() <= 0:
                raise FhirFetchError(FailureKind.TIMEOUT, response.status_code, detail="body not read in time")
            chunks.append(chunk)
    except (ReadTimeoutError, Urllib3TimeoutError, TimeoutError) as exc:
        raise FhirFetchError(FailureKind.TIMEOUT, response.status_code, detail=type(exc).__name__) from None
    except (ProtocolError, DecodeError, OSError) as exc:
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
    segments = [s for s in urlsplit(url).path.split("/") if s]
    types = [s for s in segments if s[:1].isupper() and s.isalpha()]
    return types[-1] if types else "?"


def _ms_since(started: float) -> float:
    return (time.monotonic() - started) * 1000
