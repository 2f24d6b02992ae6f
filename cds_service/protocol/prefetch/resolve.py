"""Prefetch resolution: the data per prefetch key, from the request or, if absent, from `fhirServer`.

The decision per key (CDS Hooks 2.0 § "Prefetch"; notes §1.4):

- a Resource → `supplied`;
- a Bundle → `supplied`, its `search.mode = outcome` entries dropped; its `next` pages are
  followed with the client's token (or on an allowed open server), else it is `partial`;
- `null`, a Bundle without entries, a Bundle of warnings only → `empty` (known: no data), never refetched;
- an OperationOutcome, or a Bundle of outcomes with an error → `unavailable`, never refetched;
- absent → fetched from `fhirServer` (`fetched`, `empty` for a read answering 404 or an empty
  search, or `failed` with a reason); a template whose token has no value → `skipped`.

Fetches run concurrently on a thread pool under one overall deadline: a key not done by then is
`failed: timeout` (or `partial: timeout` when some pages had arrived) and the call returns on time.
Which keys are essential, and when to answer 412, is the caller's decision.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from .bundles import is_bundle, is_operation_outcome, read_searchset
from .fhir_base import FhirBase, InvalidFhirServerError, Origin
from .fhir_client import FailureKind, FhirClient, FhirFetchError, IncompletePaging, RequestLimits
from .result import KeyResult, PrefetchResult, PrefetchStatus
from .templates import render_template

__all__ = ["FetchPolicy", "PrefetchRequest", "PrefetchResolver", "resolve_prefetch"]

log = logging.getLogger(__name__)

SOURCE_PREFETCH = "prefetch"
SOURCE_FHIR_SERVER = "fhir-server"
_OUTCOME_CODE = re.compile(r"[a-z][a-z-]{0,40}")


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
    """Resolves prefetch with one client (one connection pool) for the life of the application.

    Each call gets its own fetch threads (at most `policy.max_workers`) unless an `executor` is given:
    with one pool shared by all calls, concurrent calls to a slow FHIR server queued every other
    call's fetches behind theirs, and a healthy key came back `failed: timeout` (tests/robustness).
    """

    def __init__(self, client: FhirClient, policy: FetchPolicy, executor: Executor | None = None) -> None:
        self.client = client
        self.policy = policy
        self._executor = executor

    def resolve(self, templates: Mapping[str, str], request: PrefetchRequest) -> PrefetchResult:
        return resolve_prefetch(templates, request, self.client, self.policy, executor=self._executor)

    def close(self) -> None:
        """Nothing to release: a call's own fetch threads end with it (by its deadline)."""


def resolve_prefetch(
    templates: Mapping[str, str],
    request: PrefetchRequest,
    client: FhirClient,
    policy: FetchPolicy,
    *,
    executor: Executor | None = None,
) -> PrefetchResult:
    """The data for every template key. Returns by `policy.deadline_seconds` (plus scheduling noise).

    Raises `UnsafeTokenValueError` (→ 400) when a context value would alter a query, and
    `InvalidTemplateError` for a malformed template. Without an `executor`, a pool is made for
    this call.
    """
    run = _Resolution(request, client, policy)
    queries = {key: render_template(template, request.context) for key, template in templates.items()}
    prefetch = request.prefetch or {}
    results: dict[str, KeyResult] = {}
    jobs: dict[str, _Job] = {}
    for key, query in queries.items():
        value = prefetch.get(key, _ABSENT)
        if value is not _ABSENT and not _is_prefetch_value(value):
            log.warning("prefetch %s: the value is neither a FHIR resource nor null; treated as absent", key)
            value = _ABSENT
        outcome = run.from_prefetch(key, value) if value is not _ABSENT else run.from_server(key, query)
        if isinstance(outcome, _Job):
            jobs[key] = outcome
        else:
            results[key] = outcome
    results.update(run.run_jobs(jobs, executor))
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


def _is_prefetch_value(value: object) -> bool:
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


class _Progress:
    """The pages a job has read so far, so a job cut off by the deadline still yields them."""

    def __init__(self, resources: tuple[dict[str, Any], ...] = (), pages: int = 0) -> None:
        self._lock = threading.Lock()
        self._resources = list(resources)
        self._pages = pages

    def add_page(self, resources: tuple[dict[str, Any], ...]) -> None:
        with self._lock:
            self._resources.extend(resources)
            self._pages += 1

    def snapshot(self) -> tuple[tuple[dict[str, Any], ...], int]:
        with self._lock:
            return tuple(self._resources), self._pages


@dataclass(frozen=True)
class _Job:
    """Work for the pool: `work(progress)` returns the key's result."""

    key: str
    source: str
    work: Callable[[_Progress], KeyResult]
    progress: _Progress


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


class _Resolution:
    """One call of `resolve_prefetch`: its clock, access decision and per-key steps."""

    def __init__(self, request: PrefetchRequest, client: FhirClient, policy: FetchPolicy) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + policy.deadline_seconds
        self.client = client
        self.policy = policy
        self.limits = policy.limits(self.deadline)
        self.access = _Access.decide(request, policy)

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000

    def result(self, key: str, status: PrefetchStatus, **fields: Any) -> KeyResult:
        return KeyResult(key=key, status=status, elapsed_ms=self.elapsed_ms(), **fields)

    # -- the request supplied the key ------------------------------------------------------
    def from_prefetch(self, key: str, value: Mapping[str, Any] | None) -> KeyResult | _Job:
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
        progress = _Progress(page.resources, pages=1)
        if page.next_link is None:
            return self.finish(key, SOURCE_PREFETCH, progress, stopped=None)
        if self.access.refusal is not None:
            return self.finish(key, SOURCE_PREFETCH, progress, stopped=f"paging-not-allowed: {self.access.refusal}")

        def follow(progress: _Progress) -> KeyResult:
            return self.finish(key, SOURCE_PREFETCH, progress, self.follow_pages(value, None, progress))

        return _Job(key, SOURCE_PREFETCH, follow, progress)

    # -- the key is absent: the FHIR fallback ----------------------------------------------
    def from_server(self, key: str, query: str | None) -> KeyResult | _Job:
        if query is None:
            return self.result(key, PrefetchStatus.SKIPPED, reason="unresolved-token")
        if self.access.refusal is not None:
            return self.result(key, PrefetchStatus.FAILED, reason=self.access.refusal)
        assert self.access.base is not None  # noqa: S101 - implied by refusal is None
        url = self.access.base.join(query)
        shape = _QueryShape.of(query)

        def fetch(progress: _Progress) -> KeyResult:
            return self.fetch(key, url, shape, progress)

        return _Job(key, SOURCE_FHIR_SERVER, fetch, _Progress())

    def fetch(self, key: str, url: str, shape: _QueryShape, progress: _Progress) -> KeyResult:
        try:
            resource = self.client.get_resource(url, token=self.access.token, limits=self.limits)
        except FhirFetchError as failure:
            if shape.is_read and failure.kind is FailureKind.NOT_FOUND:
                return self.result(key, PrefetchStatus.EMPTY, reason="not-found", source=SOURCE_FHIR_SERVER)
            return self.result(key, PrefetchStatus.FAILED, reason=failure.reason)
        if is_operation_outcome(resource):
            return self.result(key, PrefetchStatus.FAILED, reason=_outcome_reason(resource))
        if shape.is_read:
            if resource["resourceType"] != shape.resource_type:
                return self.result(key, PrefetchStatus.FAILED, reason=FailureKind.BAD_RESPONSE.value)
            progress.add_page((resource,))
            return self.finish(key, SOURCE_FHIR_SERVER, progress, stopped=None, pages=0)
        if not is_bundle(resource):
            return self.result(key, PrefetchStatus.FAILED, reason=FailureKind.BAD_RESPONSE.value)
        page = read_searchset(resource)
        if page.is_error_only:
            return self.result(key, PrefetchStatus.FAILED, reason=_outcome_reason(page.outcomes[0]), pages=1)
        progress.add_page(page.resources)
        return self.finish(key, SOURCE_FHIR_SERVER, progress, self.follow_pages(resource, url, progress))

    # -- shared steps ----------------------------------------------------------------------
    def follow_pages(self, first: Mapping[str, Any], first_url: str | None, progress: _Progress) -> str | None:
        """Read the `next` pages into `progress`; the reason paging stopped early, or None."""
        assert self.access.base is not None  # noqa: S101 - callers checked the access
        pages = self.client.next_pages(
            first,
            first_url,
            base=self.access.base,
            token=self.access.token,
            limits=self.limits,
            max_pages=self.policy.max_pages,
        )
        try:
            for page in pages:
                progress.add_page(read_searchset(page).resources)
        except (IncompletePaging, FhirFetchError) as stop:
            return stop.reason
        return None

    def finish(
        self, key: str, source: str, progress: _Progress, stopped: str | None, pages: int | None = None
    ) -> KeyResult:
        resources, pages_read = progress.snapshot()
        pages = pages_read if pages is None else pages
        if stopped is not None:
            return self.result(
                key, PrefetchStatus.PARTIAL, resources=resources, reason=stopped, pages=pages, source=source
            )
        if not resources:
            return self.result(key, PrefetchStatus.EMPTY, pages=pages, source=source)
        status = PrefetchStatus.SUPPLIED if source == SOURCE_PREFETCH else PrefetchStatus.FETCHED
        return self.result(key, status, resources=resources, pages=pages, source=source)

    def run_jobs(self, jobs: Mapping[str, _Job], executor: Executor | None) -> dict[str, KeyResult]:
        if not jobs:
            return {}
        own_pool = None
        if executor is None:
            executor = own_pool = ThreadPoolExecutor(
                max_workers=min(self.policy.max_workers, len(jobs)), thread_name_prefix="prefetch"
            )
        try:
            futures: dict[Future[KeyResult], _Job] = {
                executor.submit(job.work, job.progress): job for job in jobs.values()
            }
            done, _ = wait(futures, timeout=max(0.0, self.deadline - time.monotonic()))
            return {job.key: self.collect(future, job, future in done) for future, job in futures.items()}
        finally:
            if own_pool is not None:
                own_pool.shutdown(wait=False, cancel_futures=True)

    def collect(self, future: Future[KeyResult], job: _Job, done: bool) -> KeyResult:
        if not done:
            future.cancel()
            resources, pages = job.progress.snapshot()
            if resources or job.source == SOURCE_PREFETCH:  # keep the pages that came
                return self.result(
                    job.key,
                    PrefetchStatus.PARTIAL,
                    resources=resources,
                    reason="timeout",
                    pages=pages,
                    source=job.source,
                )
            return self.result(job.key, PrefetchStatus.FAILED, reason=FailureKind.TIMEOUT.value, pages=pages)
        try:
            return future.result()
        except Exception as exc:  # a bug in one key must not take the others down
            log.error("prefetch %s: internal error %s", job.key, type(exc).__name__)
            return self.result(job.key, PrefetchStatus.FAILED, reason="internal-error")


def _outcome_reason(outcome: Mapping[str, Any]) -> str:
    """`operation-outcome`, plus the first issue's code when it is a plain FHIR code."""
    issues = outcome.get("issue")
    first = issues[0] if isinstance(issues, list) and issues and isinstance(issues[0], Mapping) else {}
    code = first.get("code")
    if isinstance(code, str) and _OUTCOME_CODE.fullmatch(code):
        return f"operation-outcome: {code}"
    return "operation-outcome"
