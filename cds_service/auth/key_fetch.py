"""Fetching a trusted issuer's JWK Set over HTTP: one total deadline, whatever the key endpoint does.

A socket timeout bounds each read, not a whole response, so a key endpoint dripping its body a byte at a
time held a blocking fetch (and every request waiting for it) for ever. Here each fetch runs on an asyncio
event loop under ``asyncio.timeout(deadline)``, the FHIR client's approach
(``cds_service/protocol/prefetch/fhir_client.py``): when the deadline passes, the fetch is cancelled
wherever it waits (connecting, headers, body) and its connection closed.

One loop per process, on a daemon thread (``jwks-fetch``), with one pooled ``httpx.AsyncClient``; both are
built on first use by the process that uses them, so a gunicorn worker forked from a master that had used
them builds its own. ``start(url, deadline)`` returns at once with a ``concurrent.futures.Future``: the
caller decides how long to wait for it (``jwks_cache`` lets a bounded number of requests wait, never beyond
the fetch's own deadline).

No redirects, no cookies, nothing from the environment (proxies, ``.netrc``); the body is capped. A failure
is a ``JwksFetchError`` whose ``reason`` is a short code, safe to log (``timeout``, ``http_503``,
``too_large``, ``not_json``, ``connection``).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import ssl
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any, Protocol

import httpx

__all__ = ["DEFAULT_FETCHER", "MAX_JWKS_BYTES", "JwksFetchError", "KeySetFetcher", "KeySetSource"]

MAX_JWKS_BYTES = 512 * 1024
_ACCEPT = "application/jwk-set+json, application/json"


class JwksFetchError(Exception):
    """A JWK Set could not be fetched; ``reason`` is a short code for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeySetSource(Protocol):
    """Anything that can start fetching a JWK Set that ends by ``deadline_seconds`` (tests pass fakes)."""

    def start(self, url: str, deadline_seconds: float) -> Future[Mapping[str, Any]]: ...


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=False)


class KeySetFetcher:
    """GETs JWK Sets on its own event loop; any thread may call ``start``."""

    def __init__(self, max_bytes: int = MAX_JWKS_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        self._pid: int | None = None

    def _started(self) -> tuple[asyncio.AbstractEventLoop, httpx.AsyncClient]:
        with self._lock:
            if self._loop is None or self._http is None or self._pid != os.getpid():
                # First use, or first use in a forked child: the parent's loop thread does not exist here.
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="jwks-fetch", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
                self._http = httpx.AsyncClient(
                    verify=_tls_context(), follow_redirects=False, trust_env=False,
                    headers={"Accept": _ACCEPT, "User-Agent": "neuroblastoma-cds (JWKS)"},
                    limits=httpx.Limits(max_connections=16, max_keepalive_connections=4, keepalive_expiry=4.0))
            return self._loop, self._http

    def start(self, url: str, deadline_seconds: float) -> Future[Mapping[str, Any]]:
        """Start fetching ``url``; the future holds the decoded JSON, or raises ``JwksFetchError``, by the deadline."""
        loop, http = self._started()
        return asyncio.run_coroutine_threadsafe(self._fetch(http, url, deadline_seconds), loop)

    async def _fetch(self, http: httpx.AsyncClient, url: str, deadline_seconds: float) -> Mapping[str, Any]:
        try:
            async with asyncio.timeout(deadline_seconds):
                request = http.build_request("GET", url, timeout=httpx.Timeout(deadline_seconds))
                response = await http.send(request, stream=True)
                try:
                    if response.status_code != 200:
                        raise JwksFetchError(f"http_{response.status_code}")
                    body = await self._read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise JwksFetchError("timeout") from None
        except httpx.TimeoutException:
            raise JwksFetchError("timeout") from None
        except httpx.HTTPError:
            raise JwksFetchError("connection") from None
        try:
            value = json.loads(body)
        except (ValueError, RecursionError):
            raise JwksFetchError("not_json") from None
        if not isinstance(value, dict):
            raise JwksFetchError("not_json")
        return value

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise JwksFetchError("too_large")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.max_bytes:
                raise JwksFetchError("too_large")
        return bytes(body)


#: The process's fetcher, shared by every key cache of the process (one loop thread, built lazily).
DEFAULT_FETCHER = KeySetFetcher()
