"""Prefetch resolution: the data per prefetch key, from the request or, if absent, from `fhirServer`.

The decision per key (CDS Hooks 2.0 § "Prefetch"; notes §1.4):

- a Resource → `supplied`;
- a Bundle → `supplied`, its `search.mode = outcome` entries dropped; its `next` pages are
  followed with the client's token (or on an allowed open server), else it is `partial`;
- `null`, a Bundle without entries, a Bundle of warnings only → `empty` (known: no data), never refetched;
- an OperationOutcome, or a Bundle of outcomes with an error → `unavailable`, never refetched;
- absent → fetched from `fhirServer` (`fetched`, `empty` for a read answering 404 or an empty
  search, or `failed` with a reason); a template whose token has no value → `skipped`.

The keys that need the FHIR server are fetched concurrently, as tasks on the client's event loop,
under one deadline for the whole call: every request ends by it (`FhirClient.fetch`), so a key
not done by then is `failed: timeout`, or `partial: timeout` with the pages that had arrived, and
the call returns on time. Which keys are essential, and when to answer 412, is the caller's decision.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from cds_service.protocol.origins import Origin

from .bundles import bundle_link, is_bundle, is_operation_outcome, read_searchset
from .fhir_base import FhirBase, InvalidFhirServerError
from .fhir_client import FailureKind, FhirClient, FhirFetchError, RequestLimits
from .result import KeyResult, PrefetchResult, PrefetchStatus
from .templates import render_template

__all__ = ["FetchPolicy", "PrefetchRequest", "PrefetchResolver", "resolve_prefetch"]

log = logging.getLogger(__name__)

SOURCE_PREFETCH = "prefetch"
SOURCE_FHIR_SERVER = "fhir-server"
_OUTCOME_CODE = re.compile(r"[a-z][a-z-]{0,40}")
# How long past the deadline a request thread waits for the loop before giving up on it. Fetches end
# by the deadline on their own; this only matters if the loop itself is stalled.
_LOOP_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class PrefetchRequest:
    """The parts of a CDS Hooks request that prefetch resolution needs. The token is not in `repr`."""

    context: Mapping[str, object]
    prefetch: Mapping[str, object] | None = None
    fhir_server: str | None = None
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_hook_request(cls, body: Mapping[str, Any]) -> PrefetchRequest:
        """From a parsed (and already validated) CDS Hooks request body."""
        authorization = body.get("fhirAuthorization")
        token = authorization.get("access_token") if isinstance(authorization, Mapping) else None
        prefetch = body.get("prefetch")
        context = body.get("context")
        return cls(
            context=context if isinstance(context, Mapping) else {},
            prefetch=prefetch if isinstance(prefetch, Mapping) else None,
            fhir_server=body.get("fhirServer") if isinstance(body.get("fhirServer"), str) else None,
            access_token=token if isinstance(token, str) and token else None,
        )


@dataclass(frozen=True)
class FetchPolicy:
    """How far the FHIR fallback may go.

    `allow_tokenless_servers`: URLs or origins of open servers (test sandboxes) that may be queried
    without a token; any other server without a token gives `failed: token-required`.
    `max_workers`: keys fetched at once in one call (the others wait for a turn, within the deadline).
    """

    allow_tokenless_servers: tuple[str, ...] = ()
    deadline_seconds: float = 3.0
    max_pages: int = 10
    max_workers: int = 4
    max_response_bytes: int = 10 * 1024 * 1024
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 2.5

    def __post_init__(self) -> None:
        for name in ("deadline_seconds", "connect_timeout_seconds", "read_timeout_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchPolicy.{name} must be positive")
        for name in ("max_pages", "max_workers", "max_response_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchPolicy.{name} must be at least 1")
        if isinstance(self.allow_tokenless_servers, str):
            raise TypeError("FetchPolicy.allow_tokenless_servers must be a tuple of URLs, not a string")
        for url in self.allow_tokenless_servers:
            if Origin.of(url) is None:
                raise ValueError("FetchPolicy.allow_tokenless_servers must hold absolute http(s) URLs")

    def allows_tokenless(self, origin: Origin) -> bool:
        return any(Origin.of(url) == origin for url in self.allow_tokenless_servers)

    def limits(self, deadline: float) -> RequestLimits:
        return RequestLimits(
            deadline=deadline,
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            max_bytes=self.max_response_bytes,
        )


class PrefetchResolver:
    """Resolves prefetch with one client (one connection pool) for the life of the application."""

    def __init__(self, client: FhirClient, policy: FetchPolicy) -> None:
        self.client = client
        self.policy = policy

    def resolve(self, templates: Mapping[str, str], request: PrefetchRequest) -> PrefetchResult:
        return resolve_prefetch(templates, request, self.client, self.policy)

    def close(self) -> None:
        """Nothing to release: the client owns the connections, and no fetch outlives its call."""


def resolve_prefetch(
    templates: Mapping[str, str],
    request: PrefetchRequest,
    client: FhirClient,
    policy: FetchPolicy,
) -> PrefetchResult:
    """The data for every template key. Returns by `policy.deadline_seconds` (plus scheduling noise).

    Raises `UnsafeTokenValueError` (→ 400) when a context value would alter a query, and
    `InvalidTemplateError` for a malformed template, both before any request is sent.
    """
    run = _Resolution(request, client, policy)
    queries = {key: render_template(template, request.context) for key, template in templates.items()}
    prefetch = request.prefetch or {}
    results: dict[str, KeyResult] = {}
    fetches: dict[str, _KeyFetch] = {}
    for key, query in queries.items():
        value = prefetch.get(key, _ABSENT)
        if _is_prefetch_value(value):
            outcome = run.from_prefetch(key, value)
        else:
            if value is not _ABSENT:
                log.warning("prefetch %s: the value is neither a FHIR resource nor null; treated as absent", key)
            outcome = run.from_server(key, query)
        if isinstance(outcome, KeyResult):
            results[key] = outcome
        else:
            fetches[key] = outcome
    results.update(run.fetch_all(fetches))
    ordered = {key: results[key] for key in templates}
    for result in ordered.values():
        log.log(
            logging.DEBUG if result.is_complete else logging.INFO,
            "prefetch %s: %s%s (%d pages, %.0f ms)",
            result.key,
            result.status,
            f" ({result.reason})" if result.reason else "",
            result.pages,
            result.elapsed_ms,
        )
    return PrefetchResult(ordered)


class _Absent:
    pass


_ABSENT: Any = _Absent()
#: The network part of one key, run on the client's loop; it always returns the key's result.
_KeyFetch = Callable[[], Awaitable[KeyResult]]


def _is_prefetch_value(value: object) -> TypeGuard[Mapping[str, Any] | None]:
    """`null` or a FHIR resource: a value the client sent for the key (absent is `_ABSENT`)."""
    return value is None or (isinstance(value, Mapping) and isinstance(value.get("resourceType"), str))


@dataclass(frozen=True)
class _Access:
    """Whether and how we may query the FHIR server: `refusal` says why not."""

    base: FhirBase | None
    token: str | None
    refusal: str | None

    @classmethod
    def decide(cls, request: PrefetchRequest, policy: FetchPolicy) -> _Access:
        if not request.fhir_server:
            return cls(None, None, "no-fhir-server")
        try:
            base = FhirBase.parse(request.fhir_server)
        except InvalidFhirServerError:
            return cls(None, None, "invalid-fhir-server")
        if request.access_token:
            return cls(base, request.access_token, None)
        if policy.allows_tokenless(base.origin):
            return cls(base, None, None)
        return cls(base, None, "token-required")


@dataclass(frozen=True)
class _QueryShape:
    """What a rendered template asks for: a read of `resource_type`, or a search (a Bundle)."""

    is_read: bool
    resource_type: str | None

    @classmethod
    def of(cls, query: str) -> _QueryShape:
        segments = query.split("?", 1)[0].split("/")
        is_read = (
            "?" not in query
            and (len(segments) == 2 or (len(segments) == 4 and segments[2] == "_history"))
            and not segments[1].startswith(("_", "$"))
        )
        return cls(is_read, segments[0] if is_read else None)


@dataclass
class _Pages:
    """The resources of the search pages read so far for one key."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0

    def add(self, resources: tuple[dict[str, Any], ...]) -> None:
        self.resources.extend(resources)
        self.count += 1


class _Resolution:
    """One call of `resolve_prefetch`: its clock, access decision and per-key steps."""

    def __init__(self, request: PrefetchRequest, client: FhirClient, policy: FetchPolicy) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + policy.deadline_seconds
        self.client = client
        self.policy = policy
        self.limits = policy.limits(self.deadline)
        self.access = _Access.decide(request, policy)

    def result(self, key: str, status: PrefetchStatus, **fields: Any) -> KeyResult:
        return KeyResult(key=key, status=status, elapsed_ms=(time.monotonic() - self.started) * 1000, **fields)

    # -- the request supplied the key ------------------------------------------------------
    def from_prefetch(self, key: str, value: Mapping[str, Any] | None) -> KeyResult | _KeyFetch:
        if value is None:
            return self.result(key, PrefetchStatus.EMPTY, reason="null", source=SOURCE_PREFETCH)
        if is_operation_outcome(value):
            reason = _outcome_reason(value)
            return self.result(key, PrefetchStatus.UNAVAILABLE, reason=reason, source=SOURCE_PREFETCH)
        if not is_bundle(value):
            return self.result(key, PrefetchStatus.SUPPLIED, resources=(dict(value),), source=SOURCE_PREFETCH)
        page = read_searchset(value)
        if page.is_error_only:
            reason = _outcome_reason(page.outcomes[0])
            return self.result(key, PrefetchStatus.UNAVAILABLE, reason=reason, source=SOURCE_PREFETCH, pages=1)
        pages = _Pages()
        pages.add(page.resources)
        if page.next_link is None:
            return self.finish(key, SOURCE_PREFETCH, pages, stopped=None)
        if self.access.refusal is not None:
            return self.finish(key, SOURCE_PREFETCH, pages, stopped=f"paging-not-allowed: {self.access.refusal}")

        async def follow() -> KeyResult:
            return self.finish(key, SOURCE_PREFETCH, pages, await self.follow_pages(value, None, pages))

        return follow

    # -- the key is absent: the FHIR fallback ----------------------------------------------
    def from_server(self, key: str, query: str | None) -> KeyResult | _KeyFetch:
        if query is None:
            return self.result(key, PrefetchStatus.SKIPPED, reason="unresolved-token")
        if self.access.refusal is not None or self.access.base is None:
            return self.result(key, PrefetchStatus.FAILED, reason=self.access.refusal)
        url = self.access.base.join(query)

        async def fetch() -> KeyResult:
            return await self.fetch(key, url, _QueryShape.of(query))

        return fetch

    async def fetch(self, key: str, url: str, shape: _QueryShape) -> KeyResult:
        try:
            resource = await self.client.fetch(url, token=self.access.token, limits=self.limits)
        except FhirFetchError as failure:
            if shape.is_read and failure.kind is FailureKind.NOT_FOUND:
                return self.result(key, PrefetchStatus.EMPTY, reason="not-found", source=SOURCE_FHIR_SERVER)
            return self.result(key, PrefetchStatus.FAILED, reason=failure.reason)
        if is_operation_outcome(resource):
            return self.result(key, PrefetchStatus.FAILED, reason=_outcome_reason(resource))
        if shape.is_read:
            if resource["resourceType"] != shape.resource_type:
                return self.result(key, PrefetchStatus.FAILED, reason=FailureKind.BAD_RESPONSE.value)
            return self.result(
                key, PrefetchStatus.FETCHED, resources=(resource,), pages=0, source=SOURCE_FHIR_SERVER
            )
        if not is_bundle(resource):
            return self.result(key, PrefetchStatus.FAILED, reason=FailureKind.BAD_RESPONSE.value)
        page = read_searchset(resource)
        if page.is_error_only:
            return self.result(key, PrefetchStatus.FAILED, reason=_outcome_reason(page.outcomes[0]), pages=1)
        pages = _Pages()
        pages.add(page.resources)
        return self.finish(key, SOURCE_FHIR_SERVER, pages, await self.follow_pages(resource, url, pages))

    # -- shared steps ----------------------------------------------------------------------
    async def follow_pages(self, first: Mapping[str, Any], first_url: str | None, pages: _Pages) -> str | None:
        """Read the `next` pages into `pages`; the reason paging stopped before the last page, or None.

        A link is followed only to the FHIR server's origin (the token never goes to another host),
        never twice (`next-loop`) and never past `max_pages` (the first page included).
        """
        base = self.access.base
        if base is None:  # callers checked the access
            return "paging-not-allowed"
        known_url = first_url or bundle_link(first, "self")
        seen = {base.resolve_link(known_url, None)} if known_url else set()
        current, current_url = first, first_url
        while (link := read_searchset(current).next_link) is not None:
            next_url = base.resolve_link(link, current_url)
            if next_url is None or not base.is_same_origin(next_url):
                log.warning("not following a next link to another origin than the FHIR server")
                return "next-off-origin"
            if next_url in seen:
                return "next-loop"
            if pages.count >= self.policy.max_pages:
                return "max-pages"
            seen.add(next_url)
            try:
                current = await self.client.fetch(next_url, token=self.access.token, limits=self.limits)
            except FhirFetchError as failure:
                return failure.reason
            if not is_bundle(current):
                return FailureKind.BAD_RESPONSE.value
            pages.add(read_searchset(current).resources)
            current_url = next_url
        return None

    def finish(self, key: str, source: str, pages: _Pages, stopped: str | None) -> KeyResult:
        resources = tuple(pages.resources)
        if stopped is not None:
            status = PrefetchStatus.PARTIAL
            return self.result(key, status, resources=resources, reason=stopped, pages=pages.count, source=source)
        if not resources:
            return self.result(key, PrefetchStatus.EMPTY, pages=pages.count, source=source)
        status = PrefetchStatus.SUPPLIED if source == SOURCE_PREFETCH else PrefetchStatus.FETCHED
        return self.result(key, status, resources=resources, pages=pages.count, source=source)

    # -- running the fetches ---------------------------------------------------------------
    def fetch_all(self, fetches: Mapping[str, _KeyFetch]) -> dict[str, KeyResult]:
        """Run the keys' fetches concurrently on the client's loop; every one is over by the deadline."""
        if not fetches:
            return {}
        try:
            return self.client.run(self._fetch_all(fetches), timeout=self.limits.remaining() + _LOOP_GRACE_SECONDS)
        except TimeoutError:  # the loop did not finish them in time: it was stalled, not the server
            log.error("prefetch: the FHIR client's loop did not finish within the deadline")
            return {key: self.result(key, PrefetchStatus.FAILED, reason=FailureKind.TIMEOUT.value) for key in fetches}

    async def _fetch_all(self, fetches: Mapping[str, _KeyFetch]) -> dict[str, KeyResult]:
        turns = asyncio.Semaphore(self.policy.max_workers)

        async def one(key: str, fetch: _KeyFetch) -> KeyResult:
            async with turns:
                try:
                    return await fetch()
                except Exception as exc:  # a bug in one key must not take the others down
                    log.error("prefetch %s: internal error %s", key, type(exc).__name__)
                    return self.result(key, PrefetchStatus.FAILED, reason="internal-error")

        results = await asyncio.gather(*(one(key, fetch) for key, fetch in fetches.items()))
        return dict(zip(fetches, results, strict=True))


def _outcome_reason(outcome: Mapping[str, Any]) -> str:
    """`operation-outcome`, plus the first issue's code when it is a plain FHIR code."""
    issues = outcome.get("issue")
    first = issues[0] if isinstance(issues, list) and issues and isinstance(issues[0], Mapping) else {}
    code = first.get("code")
    if isinstance(code, str) and _OUTCOME_CODE.fullmatch(code):
        return f"operation-outcome: {code}"
    return "operation-outcome"
