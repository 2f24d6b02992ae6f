"""Prefetch resolution and the FHIR fallback, against a misbehaving local FHIR server.

Needs the `faulty_fhir_server` plugin (tests/support/faulty_fhir_server.py).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from cds_service.protocol.origins import Origin
from cds_service.protocol.prefetch import (
    FetchPolicy,
    FhirClient,
    FhirClientSettings,
    PrefetchRequest,
    PrefetchResolver,
    PrefetchStatus,
    UnsafeTokenValueError,
    resolve_prefetch,
)
from tests.support.faulty_fhir_server import FaultyFhirServer, Reply, searchset

TOKEN = "secret-token-abc"
BEARER = f"Bearer {TOKEN}"
CONTEXT = {"patientId": "p1", "userId": "Practitioner/doc1"}
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "2022-03-01"}
CONDITION = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"}}
OBS = [{"resourceType": "Observation", "id": f"o{i}", "status": "final"} for i in range(6)]
ERROR_OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "forbidden"}]}
WARNING_OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "warning", "code": "informational"}]}

PATIENT_T = {"patient": "Patient/{{context.patientId}}"}
CONDITIONS_T = {"conditions": "Condition?patient={{context.patientId}}"}
OBSERVATIONS_T = {"observations": "Observation?patient={{context.patientId}}&_count=2"}
TEMPLATES = {**PATIENT_T, **CONDITIONS_T, **OBSERVATIONS_T}

# Short limits keep the suite fast; the production defaults are FetchPolicy().
POLICY = FetchPolicy(deadline_seconds=2.0, connect_timeout_seconds=0.5, read_timeout_seconds=1.5)


@pytest.fixture
def client() -> Iterator[FhirClient]:
    with FhirClient(FhirClientSettings(max_retry_after_seconds=0.2)) as fhir_client:
        yield fhir_client


@pytest.fixture
def server(faulty_fhir_server: FaultyFhirServer) -> FaultyFhirServer:
    return faulty_fhir_server


def resolve(
    client, server, templates=TEMPLATES, prefetch=None, token=TOKEN, policy=POLICY, fhir_server=None, context=CONTEXT
):
    request = PrefetchRequest(
        context=context,
        prefetch=prefetch,
        fhir_server=fhir_server if fhir_server is not None else server.base_url,
        access_token=token,
    )
    return resolve_prefetch(templates, request, client, policy)


def ids(result, key):
    return [r["id"] for r in result[key].resources]


def wait_until(condition: Callable[[], bool], within: float) -> bool:
    ends = time.monotonic() + within
    while not condition():
        if time.monotonic() > ends:
            return False
        time.sleep(0.02)
    return True


# -- values supplied by the client -----------------------------------------------------------------
def test_supplied_values_are_used_without_any_request(client, server):
    prefetch = {
        "patient": PATIENT,
        "conditions": searchset([CONDITION]),
        "observations": {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {"resource": OBS[0], "search": {"mode": "match"}},
                {"resource": OBS[1], "search": {"mode": "include"}},
                {"resource": WARNING_OUTCOME, "search": {"mode": "outcome"}},
                {"fullUrl": "urn:uuid:no-resource"},
            ],
        },
    }
    result = resolve(client, server, prefetch=prefetch)
    assert result.status_by_key() == {"patient": "supplied", "conditions": "supplied", "observations": "supplied"}
    assert ids(result, "patient") == ["p1"]
    assert ids(result, "conditions") == ["c1"]
    assert ids(result, "observations") == ["o0", "o1"]  # the outcome entry is dropped
    assert all(r.source == "prefetch" for r in result)
    assert server.requests == []


@pytest.mark.parametrize(
    ("value", "status", "reason"),
    [
        (None, "empty", "null"),
        (searchset([]), "empty", None),
        ({"resourceType": "Bundle", "type": "searchset", "total": 0}, "empty", None),
        (searchset([WARNING_OUTCOME]), "empty", None),  # warnings only: a search without hits
        (ERROR_OUTCOME, "unavailable", "operation-outcome: forbidden"),
        ({"resourceType": "OperationOutcome"}, "unavailable", "operation-outcome"),
        (searchset([ERROR_OUTCOME]), "unavailable", "operation-outcome: forbidden"),
    ],
)
def test_null_empty_and_outcome_values_are_never_refetched(client, server, value, status, reason):
    server.route("/fhir/Condition", Reply.json(searchset([CONDITION])))
    result = resolve(client, server, templates=CONDITIONS_T, prefetch={"conditions": value})
    assert (result["conditions"].status, result["conditions"].reason) == (status, reason)
    assert result["conditions"].resources == ()
    assert server.requests == []


def test_absent_keys_are_fetched_with_the_token(client, server):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    server.route("/fhir/Condition", Reply.json(searchset([CONDITION])))
    server.route("/fhir/Observation", Reply.json(searchset(OBS[:2])))
    result = resolve(client, server, prefetch={"patient": PATIENT})  # partial prefetch (notes §3.2 item 1)
    assert result.status_by_key() == {"patient": "supplied", "conditions": "fetched", "observations": "fetched"}
    assert result["conditions"].source == "fhir-server"
    assert [r["id"] for r in result.all_resources()] == ["p1", "c1", "o0", "o1"]
    seen = server.requests
    assert sorted(r.path for r in seen) == ["/fhir/Condition", "/fhir/Observation"]
    assert {r.authorization for r in seen} == {BEARER}
    assert {r.method for r in seen} == {"GET"}
    condition_query = next(r.query for r in seen if r.path == "/fhir/Condition")
    assert condition_query == "patient=p1"


def test_a_value_that_is_not_a_resource_is_treated_as_absent(client, server):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    result = resolve(client, server, templates=PATIENT_T, prefetch={"patient": "Patient/p1"})
    assert result["patient"].status == "fetched"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_fhir_server_with_or_without_trailing_slash(client, server, suffix):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    result = resolve(client, server, templates=PATIENT_T, fhir_server=server.base_url + suffix)
    assert result["patient"].status == "fetched"
    assert [r.path for r in server.requests] == ["/fhir/Patient/p1"]


@pytest.mark.parametrize(
    "content_type",
    ["application/fhir+json", "application/json+fhir", "application/json", "application/fhir+json; charset=utf-8", ""],
)
def test_fhir_json_media_types_are_accepted(client, server, content_type):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT, content_type=content_type))
    assert resolve(client, server, templates=PATIENT_T)["patient"].status == "fetched"


def test_a_read_answering_404_is_empty_but_a_search_404_fails(client, server):
    result = resolve(client, server, templates={**PATIENT_T, **CONDITIONS_T})  # nothing routed: 404s
    assert (result["patient"].status, result["patient"].reason) == ("empty", "not-found")
    assert (result["conditions"].status, result["conditions"].reason) == ("failed", "not-found")


def test_an_empty_search_result_is_empty(client, server):
    server.route("/fhir/Condition", Reply.json(searchset([])))
    result = resolve(client, server, templates=CONDITIONS_T)
    assert (result["conditions"].status, result["conditions"].source) == ("empty", "fhir-server")


def test_unresolved_token_skips_the_key(client, server):
    templates = {"encounter": "Encounter/{{context.encounterId}}", "me": "Patient/{{userPatientId}}"}
    result = resolve(client, server, templates=templates)
    assert result.status_by_key() == {"encounter": "skipped: unresolved-token", "me": "skipped: unresolved-token"}
    assert server.requests == []


def test_unsafe_context_value_raises_before_any_request(client, server):
    with pytest.raises(UnsafeTokenValueError):
        resolve(client, server, context={"patientId": "../Patient", "userId": "Practitioner/1"})
    assert server.requests == []


# -- HTTP failures ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reply", "reason", "attempts"),
    [
        (Reply.error(401), "unauthorized", 1),
        (Reply.error(403), "forbidden", 1),
        (Reply.error(500), "server-error 500", 1),  # not retried
        (Reply.error(400), "http-error 400", 1),
        (Reply.error(429, retry_after="0"), "http-error 429", 1),
        (Reply.error(503), "server-error 503", 3),  # 1 + 2 retries
        (Reply.error(502), "server-error 502", 3),
        (Reply.error(504, retry_after="1"), "server-error 504", 3),  # Retry-After capped at 0.2 s
        (Reply.error(503, retry_after="soon"), "server-error 503", 3),  # malformed: back-off instead
        (Reply.error(503, retry_after="120"), "server-error 503", 1),  # longer than the deadline: give up
        (Reply.error(302, headers={"Location": "http://elsewhere.example/"}), "bad-response", 1),
        (Reply.close(), "connection-error", 3),  # dropped before any answer: retried
        (Reply.reset_mid_body(), "connection-error", 1),  # a broken body is not retried
        (Reply.json("{not json"), "bad-response", 1),
        (Reply.json({"hello": "world"}), "bad-response", 1),  # JSON, but not FHIR
        (Reply.json([PATIENT]), "bad-response", 1),
        (Reply.json("<html/>", content_type="text/html"), "bad-response", 1),
        (Reply.json(searchset([PATIENT])), "bad-response", 1),  # a read answered with a Bundle
        (Reply.json(ERROR_OUTCOME), "operation-outcome: forbidden", 1),
    ],
)
def test_failures_have_a_reason_and_bounded_retries(client, server, reply, reason, attempts):
    server.route("/fhir/Patient/p1", reply)
    started = time.monotonic()
    result = resolve(client, server, templates=PATIENT_T)
    assert (result["patient"].status, result["patient"].reason) == ("failed", reason)
    assert result.failed_keys() == ["patient"]
    assert result["patient"].resources == ()
    assert server.count("/fhir/Patient/p1") == attempts
    assert time.monotonic() - started < 1.5


def test_a_transient_502_is_retried_then_succeeds(client, server):
    server.route("/fhir/Patient/p1", Reply.error(502), Reply.json(PATIENT))
    result = resolve(client, server, templates=PATIENT_T)
    assert result["patient"].status == "fetched"
    assert server.count("/fhir/Patient/p1") == 2
    assert {r.authorization for r in server.requests} == {BEARER}


def test_only_get_is_retried(client, server):
    """The client has no other method to send: every request, retries included, is a GET."""
    server.route("/fhir/Patient/p1", Reply.error(503))
    result = resolve(client, server, templates=PATIENT_T)
    assert result["patient"].reason == "server-error 503"
    assert [r.method for r in server.requests] == ["GET"] * 3
    assert not any(hasattr(client, name) for name in ("post", "put", "delete", "patch", "request", "session"))


def test_a_refused_connection_is_a_connection_error(client, server):
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    result = resolve(client, server, templates=PATIENT_T, fhir_server=f"http://127.0.0.1:{closed_port}/fhir")
    assert (result["patient"].status, result["patient"].reason) == ("failed", "connection-error")


@pytest.mark.parametrize("declare_length", [False, True])
def test_an_enormous_response_is_cut_off(client, server, declare_length):
    server.route("/fhir/Condition", Reply.enormous(3_000_000, declare_length=declare_length))
    policy = FetchPolicy(deadline_seconds=3.0, max_response_bytes=200_000)
    result = resolve(client, server, templates=CONDITIONS_T, policy=policy)
    assert (result["conditions"].status, result["conditions"].reason) == ("failed", "too-large")


def test_the_size_cap_leaves_normal_bundles_alone(client, server):
    server.route("/fhir/Condition", Reply.enormous(150_000))
    policy = FetchPolicy(deadline_seconds=3.0, max_response_bytes=200_000)
    result = resolve(client, server, templates=CONDITIONS_T, policy=policy)
    assert result["conditions"].status == "fetched"
    assert len(result["conditions"].resources) > 1000


# -- deadline and concurrency --------------------------------------------------------------------------
def test_a_slow_key_times_out_and_the_call_returns_on_time(client, server):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    server.route("/fhir/Condition", Reply.json(searchset([CONDITION]), delay=5))
    policy = FetchPolicy(deadline_seconds=0.6)
    started = time.monotonic()
    result = resolve(client, server, templates={**PATIENT_T, **CONDITIONS_T}, policy=policy)
    elapsed = time.monotonic() - started
    assert result.status_by_key() == {"patient": "fetched", "conditions": "failed: timeout"}
    assert 0.5 < elapsed < 0.6 + 0.5
    assert result["conditions"].elapsed_ms >= 500


def test_slow_keys_are_fetched_concurrently(client, server):
    for path in ("/fhir/Patient/p1", "/fhir/Condition", "/fhir/Observation"):
        body = PATIENT if path.endswith("p1") else searchset([CONDITION])
        server.route(path, Reply.json(body, delay=0.5))
    started = time.monotonic()
    result = resolve(client, server, policy=FetchPolicy(deadline_seconds=3.0))
    elapsed = time.monotonic() - started
    assert set(result.status_by_key().values()) == {"fetched"}
    assert elapsed < 1.2  # sequentially it would take 1.5 s


def test_a_resolver_reuses_its_pool_across_calls(client, server):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    resolver = PrefetchResolver(client, POLICY)
    try:
        request = PrefetchRequest(context=CONTEXT, fhir_server=server.base_url, access_token=TOKEN)
        for _ in range(3):
            assert resolver.resolve(PATIENT_T, request)["patient"].status == "fetched"
    finally:
        resolver.close()


# -- one total deadline: a server dripping its answer ---------------------------------------------------
@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_dripping_server_is_cut_at_the_deadline_and_leaves_nothing_running(client, server, part):
    """Each byte arrives well within the read timeout, so only the total deadline can stop the read."""
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    server.route("/fhir/Condition", Reply.drip(part, interval=0.05))
    resolve(client, server, templates=PATIENT_T)  # the client's loop thread is running from here on
    assert wait_until(lambda: client.tasks_in_flight() == 0, within=1.0)
    threads_before = set(threading.enumerate())
    policy = FetchPolicy(deadline_seconds=0.6, read_timeout_seconds=1.5)
    started = time.monotonic()
    result = resolve(client, server, templates={**PATIENT_T, **CONDITIONS_T}, policy=policy)
    elapsed = time.monotonic() - started
    assert result.status_by_key() == {"patient": "fetched", "conditions": "failed: timeout"}
    assert 0.5 < elapsed < 0.6 + 0.4
    assert client.tasks_in_flight() == 0  # no fetch task outlives its call
    assert wait_until(lambda: server.dripping == 0, within=1.0)  # the client hung up on the drip
    assert wait_until(lambda: set(threading.enumerate()) <= threads_before, within=1.0)  # no new thread lives on


def test_a_page_dripping_at_the_deadline_keeps_the_pages_that_came(client, server):
    route_pages(server, 2)
    server.route("/fhir/Observation?page=2", Reply.drip("body"))
    started = time.monotonic()
    result = resolve(client, server, templates=OBSERVATIONS_T, policy=FetchPolicy(deadline_seconds=0.6))
    assert time.monotonic() - started < 1.0
    observations = result["observations"]
    assert (observations.status, observations.reason, observations.pages) == ("partial", "timeout", 1)
    assert len(observations.resources) == 2
    assert client.tasks_in_flight() == 0
    assert wait_until(lambda: server.dripping == 0, within=1.0)


def test_retries_stop_at_the_deadline(client, server):
    server.route("/fhir/Patient/p1", Reply.error(503, retry_after="1"))
    slow_retries = FhirClient(FhirClientSettings(max_retry_after_seconds=1.0))
    try:
        started = time.monotonic()
        result = resolve(slow_retries, server, templates=PATIENT_T, policy=FetchPolicy(deadline_seconds=1.5))
        elapsed = time.monotonic() - started
    finally:
        slow_retries.close()
    assert result["patient"].status == "failed"
    assert result["patient"].reason in {"server-error 503", "timeout"}
    assert elapsed < 1.5 + 0.3
    assert server.count("/fhir/Patient/p1") == 2  # the 2nd retry would start after the deadline


# -- connections: reuse, cookies, environment, fork ------------------------------------------------------
def test_calls_reuse_the_connections_of_the_calls_before():
    """One pool per process: no new TCP (and TLS) handshake per call to the same FHIR server."""
    keep_alive = FaultyFhirServer(keep_alive=True).start()
    try:
        keep_alive.route("/fhir/Patient/p1", Reply.json(PATIENT))
        with FhirClient() as fhir_client:
            for _ in range(3):
                assert resolve(fhir_client, keep_alive, templates=PATIENT_T)["patient"].status == "fetched"
        assert keep_alive.count("/fhir/Patient/p1") == 3
        assert keep_alive.connections == 1
    finally:
        keep_alive.stop()


def test_cookies_are_never_kept(client, server):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT, headers={"Set-Cookie": "session=abc; Path=/"}))
    for _ in range(2):
        assert resolve(client, server, templates=PATIENT_T)["patient"].status == "fetched"
    assert [r.cookie for r in server.requests] == [None, None]


def test_environment_proxies_and_netrc_are_ignored(client, server, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password secret-pw\n")
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nobody listens: a proxied request would fail
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    open_server = FetchPolicy(allow_tokenless_servers=(server.root_url,))
    result = resolve(client, server, templates=PATIENT_T, token=None, policy=open_server)
    assert result["patient"].status == "fetched"
    assert [r.authorization for r in server.requests] == [None]  # no Basic credentials from .netrc


def test_a_forked_worker_builds_its_own_loop_and_connections(client, server):
    """gunicorn forks workers: a child must not use the parent's loop thread (it does not exist there)."""
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    assert resolve(client, server, templates=PATIENT_T)["patient"].status == "fetched"  # the parent's loop
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running any of pytest's teardown
        try:
            status = str(resolve(client, server, templates=PATIENT_T)["patient"].status)
        except BaseException as exc:
            status = f"raised {type(exc).__name__}"
        os.write(write_end, json.dumps(status).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child_status = json.loads(pipe.read() or '"nothing"')
    os.waitpid(pid, 0)
    assert child_status == "fetched"
    assert resolve(client, server, templates=PATIENT_T)["patient"].status == "fetched"  # the parent's still works
    assert server.count("/fhir/Patient/p1") == 3


def test_the_tokenless_list_compares_origins():
    policy = FetchPolicy(allow_tokenless_servers=("https://Open.Example:443/fhir",))
    assert policy.allows_tokenless(Origin.of("https://open.example/r4"))
    assert not policy.allows_tokenless(Origin.of("http://open.example"))
    assert not policy.allows_tokenless(Origin.of("https://open.example:8443"))


# -- paging ----------------------------------------------------------------------------------------------
def route_pages(server: FaultyFhirServer, count: int, per_page: int = 2) -> None:
    """Page 1 at the search URL, page n at `?page=n`."""
    for n in range(1, count + 1):
        page_obs = [{"resourceType": "Observation", "id": f"o{n}-{i}"} for i in range(per_page)]
        next_url = f"{server.base_url}/Observation?page={n + 1}" if n < count else None
        target = "/fhir/Observation?patient=p1&_count=2" if n == 1 else f"/fhir/Observation?page={n}"
        server.route(target, Reply.json(searchset(page_obs, next_url)))


def test_next_links_are_followed_with_the_token(client, server):
    route_pages(server, 3)
    result = resolve(client, server, templates=OBSERVATIONS_T)
    observations = result["observations"]
    assert (observations.status, observations.pages, len(observations.resources)) == ("fetched", 3, 6)
    assert [r.query for r in server.requests] == ["patient=p1&_count=2", "page=2", "page=3"]
    assert {r.authorization for r in server.requests} == {BEARER}


def test_paging_stops_at_max_pages(client, server):
    route_pages(server, 4)
    result = resolve(client, server, templates=OBSERVATIONS_T, policy=FetchPolicy(max_pages=2))
    observations = result["observations"]
    assert (observations.status, observations.reason, observations.pages) == ("partial", "max-pages", 2)
    assert len(observations.resources) == 4
    assert "partial" not in result.failed_keys() and result.incomplete_keys() == ["observations"]


def test_a_next_link_looping_to_itself_stops(client, server):
    loop_url = f"{server.base_url}/Observation?page=2"
    server.route("/fhir/Observation?patient=p1&_count=2", Reply.json(searchset(OBS[:2], loop_url)))
    server.route("/fhir/Observation?page=2", Reply.json(searchset(OBS[2:4], loop_url)))
    result = resolve(client, server, templates=OBSERVATIONS_T)
    observations = result["observations"]
    assert (observations.status, observations.reason, observations.pages) == ("partial", "next-loop", 2)
    assert server.count("/fhir/Observation") == 2


@pytest.mark.parametrize("other_host", ["second", "localhost", "https"])
def test_a_next_link_to_another_origin_is_never_followed(client, server, second_faulty_fhir_server, other_host):
    other = second_faulty_fhir_server
    other.route("/fhir/Observation", Reply.json(searchset(OBS[2:4])))
    next_url = {
        "second": f"{other.base_url}/Observation?page=2",
        "localhost": f"http://localhost:{server.port}/fhir/Observation?page=2",  # same port, other host name
        "https": f"https://127.0.0.1:{server.port}/fhir/Observation?page=2",
    }[other_host]
    server.route("/fhir/Observation", Reply.json(searchset(OBS[:2], next_url)))
    result = resolve(client, server, templates=OBSERVATIONS_T)
    observations = result["observations"]
    assert (observations.status, observations.reason) == ("partial", "next-off-origin")
    assert [r["id"] for r in observations.resources] == ["o0", "o1"]
    assert other.requests == []  # never contacted, so never given the token
    assert server.count("/fhir/Observation") == 1


def test_a_relative_next_link_resolves_against_the_page(client, server):
    server.route("/fhir/Observation?patient=p1&_count=2", Reply.json(searchset(OBS[:2], "Observation?page=2")))
    server.route("/fhir/Observation?page=2", Reply.json(searchset(OBS[2:4])))
    result = resolve(client, server, templates=OBSERVATIONS_T)
    assert (result["observations"].status, result["observations"].pages) == ("fetched", 2)


def test_a_failing_page_keeps_the_pages_that_came(client, server):
    route_pages(server, 3)
    server.route("/fhir/Observation?page=2", Reply.error(500))
    result = resolve(client, server, templates=OBSERVATIONS_T)
    observations = result["observations"]
    assert (observations.status, observations.reason, observations.pages) == ("partial", "server-error 500", 1)
    assert len(observations.resources) == 2


def test_a_slow_page_at_the_deadline_keeps_the_pages_that_came(client, server):
    route_pages(server, 2)
    server.route("/fhir/Observation?page=2", Reply.json(searchset(OBS), delay=5))
    started = time.monotonic()
    result = resolve(client, server, templates=OBSERVATIONS_T, policy=FetchPolicy(deadline_seconds=0.6))
    assert time.monotonic() - started < 1.1
    observations = result["observations"]
    assert (observations.status, observations.reason, observations.pages) == ("partial", "timeout", 1)
    assert len(observations.resources) == 2


def test_a_supplied_bundle_is_paged_with_the_token(client, server):
    server.route("/fhir/Observation?page=2", Reply.json(searchset(OBS[2:4])))
    first = searchset(OBS[:2], f"{server.base_url}/Observation?page=2")
    result = resolve(client, server, templates=OBSERVATIONS_T, prefetch={"observations": first})
    observations = result["observations"]
    assert (observations.status, observations.pages, observations.source) == ("supplied", 2, "prefetch")
    assert [r["id"] for r in observations.resources] == ["o0", "o1", "o2", "o3"]
    assert [r.authorization for r in server.requests] == [BEARER]


def test_a_supplied_bundle_is_not_paged_without_a_token(client, server):
    first = searchset(OBS[:2], f"{server.base_url}/Observation?page=2")
    result = resolve(client, server, templates=OBSERVATIONS_T, prefetch={"observations": first}, token=None)
    observations = result["observations"]
    assert (observations.status, observations.reason) == ("partial", "paging-not-allowed: token-required")
    assert len(observations.resources) == 2
    assert server.requests == []


# -- access: token, open servers, no server -----------------------------------------------------------
def test_tokenless_fetch_only_from_allowed_origins(client, server):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    refused = resolve(client, server, templates=PATIENT_T, token=None)
    assert refused.status_by_key() == {"patient": "failed: token-required"}
    assert server.requests == []

    elsewhere = FetchPolicy(allow_tokenless_servers=("http://127.0.0.1:1",))
    assert resolve(client, server, templates=PATIENT_T, token=None, policy=elsewhere)["patient"].status == "failed"

    open_server = FetchPolicy(allow_tokenless_servers=(server.root_url,))
    result = resolve(client, server, templates=PATIENT_T, token=None, policy=open_server)
    assert result["patient"].status == "fetched"
    assert [r.authorization for r in server.requests] == [None]


@pytest.mark.parametrize(
    ("fhir_server", "reason"),
    [
        ("", "no-fhir-server"),
        ("ftp://fhir.example.org/r4", "invalid-fhir-server"),
        ("http://user:pw@127.0.0.1:1/fhir", "invalid-fhir-server"),
        ("fhir.example.org/r4", "invalid-fhir-server"),
        ("http://127.0.0.1:1/fhir?x=1", "invalid-fhir-server"),
        ("http://[::1", "invalid-fhir-server"),  # urlsplit raises ValueError: still a clean refusal
        ("http://127.0.0.1:99999/fhir", "invalid-fhir-server"),
        ("http://127.0.0.1:1/f hir", "invalid-fhir-server"),
    ],
)
def test_no_usable_fhir_server(client, server, fhir_server, reason):
    request = PrefetchRequest(context=CONTEXT, fhir_server=fhir_server or None, access_token=TOKEN)
    result = resolve_prefetch(PATIENT_T, request, client, POLICY)
    assert result.status_by_key() == {"patient": f"failed: {reason}"}


def test_the_token_never_reaches_logs_or_reprs(client, server, caplog):
    server.route("/fhir/Patient/p1", Reply.error(401))
    server.route("/fhir/Condition", Reply.json(searchset([CONDITION])))
    with caplog.at_level(logging.DEBUG):
        result = resolve(client, server, templates={**PATIENT_T, **CONDITIONS_T})
    assert result["patient"].reason == "unauthorized"
    assert TOKEN not in caplog.text  # nobody's log, urllib3's included
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("cds_service.protocol.prefetch"))
    assert "c1" not in ours and "p1" not in ours  # no bodies, no ids from URLs
    assert "patient" in ours and "401" in ours
    request = PrefetchRequest(context=CONTEXT, fhir_server=server.base_url, access_token=TOKEN)
    assert TOKEN not in repr(request)


def test_from_hook_request_reads_the_cds_hooks_fields():
    body = {
        "hook": "patient-view",
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://ehr.example.org/fhir",
        "fhirAuthorization": {
            "access_token": TOKEN,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "patient/*.read",
            "subject": "cds",
        },
        "context": CONTEXT,
        "prefetch": {"patient": PATIENT},
    }
    request = PrefetchRequest.from_hook_request(body)
    assert (request.fhir_server, request.access_token, request.context) == (body["fhirServer"], TOKEN, CONTEXT)
    assert request.prefetch == {"patient": PATIENT}
    bare = PrefetchRequest.from_hook_request({"context": CONTEXT})
    assert (bare.fhir_server, bare.access_token, bare.prefetch) == (None, None, None)


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        FetchPolicy(deadline_seconds=0)
    with pytest.raises(ValueError):
        FetchPolicy(max_pages=0)
    with pytest.raises(TypeError):
        FetchPolicy(allow_tokenless_servers="http://open.example")  # a string, not a tuple
    with pytest.raises(ValueError):
        FetchPolicy(allow_tokenless_servers=("open.example",))


def test_a_bug_in_one_key_does_not_take_the_others_down(client, server, monkeypatch):
    server.route("/fhir/Patient/p1", Reply.json(PATIENT))
    real_fetch = client.fetch

    async def fetch(url, **kwargs):
        if "Condition" in url:
            raise RuntimeError("boom")
        return await real_fetch(url, **kwargs)

    monkeypatch.setattr(client, "fetch", fetch)
    result = resolve(client, server, templates={**PATIENT_T, **CONDITIONS_T})
    assert result.status_by_key() == {"patient": "fetched", "conditions": "failed: internal-error"}


def test_a_supplied_page_whose_next_is_itself_is_not_refetched_twice(client, server):
    self_url = f"{server.base_url}/Observation?page=1"
    server.route("/fhir/Observation?page=1", Reply.json(searchset(OBS[:2])))
    first = searchset(OBS[:2], self_url)
    first["link"].append({"relation": "self", "url": self_url})
    result = resolve(client, server, templates=OBSERVATIONS_T, prefetch={"observations": first})
    assert (result["observations"].status, result["observations"].reason) == ("partial", "next-loop")
    assert server.requests == []


def test_the_client_refuses_a_policy_for_its_settings():
    with pytest.raises(TypeError, match="FhirClientSettings"):
        FhirClient(POLICY)  # type: ignore[arg-type]


def test_statuses_are_strings_for_the_audit_log():
    assert PrefetchStatus.FETCHED == "fetched"
    assert str(PrefetchStatus.FAILED) == "failed"
