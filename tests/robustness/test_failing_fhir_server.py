"""Failing neighbour: a FHIR server that misbehaves on purpose, through the whole service over HTTP.

The service runs on a loopback port (werkzeug's threaded server, so each call is a real HTTP request
with real sockets); every call has an empty prefetch and `fhirServer` pointing at the faulty server
(tests/support/faulty_fhir_server.py), so all three keys are fetched. One key at a time misbehaves.

What must hold, for every fault:
- the service answers within its FHIR deadline (plus a margin), with a 412 naming exactly the keys it
  could not get (`prefetch.<key>`) — all keys are essential — or with valid cards;
- it retries only GETs, only for connection failures and 502/503/504, at most twice, and never past the
  deadline or a long `Retry-After`;
- it never sends the access token anywhere but the `fhirServer`'s origin (a `next` link elsewhere is not
  followed);
- no worker thread or fetch task is left hanging: right after the faults, a healthy call still answers.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import BaseWSGIServer, make_server

from cds_service.http.app import create_app
from tests.robustness.contract import assert_service_contract, example_request, robustness_settings
from tests.support.faulty_fhir_server import FaultyFhirServer, Reply, searchset

pytestmark = pytest.mark.integration

DEADLINE = 1.0
MARGIN = 1.0  # scheduling, the loopback round trips and the card building
TOKEN = "secret-fhir-token-0123456789"
EXAMPLE = example_request("patient-view-nb-m-older")
PATIENT_ID = EXAMPLE["context"]["patientId"]
HEALTHY = {
    "patient": EXAMPLE["prefetch"]["patient"],
    "conditions": EXAMPLE["prefetch"]["conditions"],
    "observations": EXAMPLE["prefetch"]["observations"],
}
PATHS = {"patient": f"/fhir/Patient/{PATIENT_ID}", "conditions": "/fhir/Condition", "observations": "/fhir/Observation"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service over HTTP on 127.0.0.1; its base URL."""
    database = tmp_path_factory.mktemp("faulty") / "nbcds.sqlite3"
    app = create_app(robustness_settings(database, fhir_deadline_seconds=DEADLINE, fhir_read_timeout_seconds=0.8,
                                         fhir_connect_timeout_seconds=0.5, fhir_max_pages=5,
                                         fhir_max_response_bytes=1_000_000))
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def healthy_routes(server: FaultyFhirServer, **faults: Reply | tuple[Reply, ...]) -> None:
    for key, path in PATHS.items():
        fault = faults.get(key)
        replies = fault if isinstance(fault, tuple) else (fault,) if fault is not None else (Reply.json(HEALTHY[key]),)
        server.route(path, *replies)


def call(service: str, fhir_server: str, *, token: str | None = TOKEN, timeout: float = 15) -> tuple[int, Any, float]:
    body: dict[str, Any] = {
        "hook": "patient-view", "hookInstance": str(uuid.uuid4()), "fhirServer": fhir_server,
        "context": {"userId": "Practitioner/example-oncologist", "patientId": PATIENT_ID}, "prefetch": {},
    }
    if token is not None:
        body["fhirAuthorization"] = {"access_token": token, "token_type": "Bearer", "expires_in": 300,
                                     "scope": "patient/*.read", "subject": "nbcds", "patient": PATIENT_ID}
    started = time.monotonic()
    response = requests.post(f"{service}/cds-services/neuroblastoma-staging", json=body, timeout=timeout)
    elapsed = time.monotonic() - started
    return response.status_code, assert_service_contract(response.status_code, response.content), elapsed


def failed_keys(status: int, body: dict[str, Any]) -> set[str]:
    if status == 200:
        return set()
    assert status == 412, body
    return {e.removeprefix("prefetch.") for issue in body["issue"] for e in issue.get("expression", ())}


def test_a_healthy_server_gives_the_same_cards_as_full_prefetch(service: str, faulty_fhir_server: FaultyFhirServer) -> None:
    healthy_routes(faulty_fhir_server)
    status, body, _ = call(service, faulty_fhir_server.base_url)
    assert status == 200
    prefetched = requests.post(f"{service}/cds-services/neuroblastoma-staging", json=EXAMPLE, timeout=15).json()
    assert [c["summary"] for c in body["cards"]] == [c["summary"] for c in prefetched["cards"]]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in faulty_fhir_server.requests)


# fault name → (the reply, the number of GETs allowed for that key: (at least, at most))
FAULTS: dict[str, tuple[Reply | tuple[Reply, ...], tuple[int, int]]] = {
    "slow beyond the deadline": (Reply.json(HEALTHY["observations"], delay=5.0), (1, 1)),
    "closed without an answer": (Reply.close(), (1, 3)),
    "reset mid-body": (Reply.reset_mid_body(), (1, 3)),
    "500": (Reply.error(500), (1, 1)),
    "501": (Reply.error(501), (1, 1)),
    "502": (Reply.error(502), (2, 3)),
    "503": (Reply.error(503), (2, 3)),
    "504": (Reply.error(504), (2, 3)),
    "503 Retry-After: 0": (Reply.error(503, retry_after="0"), (2, 3)),
    "503 Retry-After: 120": (Reply.error(503, retry_after="120"), (1, 1)),
    "503 Retry-After: an HTTP date": (Reply.error(503, retry_after="Wed, 21 Oct 2037 07:28:00 GMT"), (1, 1)),
    "503 Retry-After: garbage": (Reply.error(503, retry_after="soon"), (1, 3)),
    "429 Retry-After: 1": (Reply.error(429, retry_after="1"), (1, 1)),
    "401": (Reply.error(401), (1, 1)),
    "403": (Reply.error(403), (1, 1)),
    "malformed JSON": (Reply(body='{"resourceType": "Bundle", "entry": [', content_type="application/fhir+json"), (1, 1)),
    "JSON that is not FHIR": (Reply.json({"hello": "world"}), (1, 1)),
    "an HTML page": (Reply(body="<html><body>Login</body></html>", content_type="text/html"), (1, 1)),
    "a redirect": (Reply(status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"}), (1, 1)),
    "an enormous streamed Bundle": (Reply.enormous(50_000_000), (1, 1)),
    "an enormous Bundle with Content-Length": (Reply.enormous(50_000_000, declare_length=True), (1, 1)),
}


@pytest.mark.parametrize("key", ["patient", "observations"])
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_misbehaving_server_gets_a_timely_412_naming_the_key(
        service: str, faulty_fhir_server: FaultyFhirServer, fault: str, key: str) -> None:
    reply, (fewest, most) = FAULTS[fault]
    healthy_routes(faulty_fhir_server, **{key: reply})
    status, body, elapsed = call(service, faulty_fhir_server.base_url)
    assert elapsed < DEADLINE + MARGIN, f"{fault}: answered after {elapsed:.2f} s"
    assert failed_keys(status, body) == {key}, (fault, body)
    gets = faulty_fhir_server.count(PATHS[key])
    assert fewest <= gets <= most, f"{fault}: {gets} GETs of {key}, expected {fewest}..{most}"
    assert all(r.method == "GET" for r in faulty_fhir_server.requests)


def test_connection_refused_is_a_quick_412_for_every_key(service: str) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    status, body, elapsed = call(service, f"http://127.0.0.1:{port}/fhir")
    assert failed_keys(status, body) == set(PATHS)
    assert elapsed < DEADLINE + MARGIN
    # The same words as any other failure (a closed port must not look different from an open one).
    assert body["issue"][0]["diagnostics"] == ("required FHIR data could not be obtained. Send it as prefetch, or "
                                               "a reachable fhirServer with fhirAuthorization.")


def _pages(server: FaultyFhirServer, count: int, next_of: Any) -> tuple[Reply, ...]:
    observations = HEALTHY["observations"]["entry"]
    return tuple(Reply.json(searchset([observations[i % len(observations)]["resource"]], next_url=next_of(i)))
                 for i in range(count))


@pytest.mark.parametrize("shape", ["to itself", "between two pages", "never ending"])
def test_next_links_that_never_end_stop_at_the_page_limit(
        service: str, faulty_fhir_server: FaultyFhirServer, shape: str) -> None:
    base = faulty_fhir_server.base_url
    if shape == "to itself":
        pages = _pages(faulty_fhir_server, 1, lambda i: f"{base}/Observation?page=1")
        faulty_fhir_server.route("/fhir/Observation?page=1", *pages)
    elif shape == "between two pages":
        pages = _pages(faulty_fhir_server, 1, lambda i: f"{base}/Observation?page=2")
        faulty_fhir_server.route("/fhir/Observation?page=2", *_pages(faulty_fhir_server, 1,
                                                                     lambda i: f"{base}/Observation?page=1"))
        faulty_fhir_server.route("/fhir/Observation?page=1", *pages)
    else:
        pages = _pages(faulty_fhir_server, 50, lambda i: f"{base}/Observation?page={i + 2}")
    healthy_routes(faulty_fhir_server, observations=pages)
    status, body, elapsed = call(service, base)
    assert elapsed < DEADLINE + MARGIN
    assert failed_keys(status, body) == {"observations"}
    assert faulty_fhir_server.count("/fhir/Observation") <= 5  # NBCDS_FHIR_MAX_PAGES


@pytest.mark.parametrize("where", ["another port", "credentials in the URL", "https on the same host", "another host"])
def test_a_next_link_off_the_origin_is_not_followed_with_the_token(
        service: str, faulty_fhir_server: FaultyFhirServer, second_faulty_fhir_server: FaultyFhirServer,
        where: str) -> None:
    other = second_faulty_fhir_server
    other.route("/fhir/Observation", Reply.json(searchset([])))
    target = {
        "another port": f"{other.base_url}/Observation?page=2",
        "credentials in the URL": f"http://user:pw@127.0.0.1:{other.port}/fhir/Observation?page=2",
        "https on the same host": f"https://127.0.0.1:{faulty_fhir_server.port}/fhir/Observation?page=2",
        "another host": f"http://localhost:{other.port}/fhir/Observation?page=2",
    }[where]
    first = Reply.json(searchset([e["resource"] for e in HEALTHY["observations"]["entry"]], next_url=target))
    healthy_routes(faulty_fhir_server, observations=first)
    status, body, _ = call(service, faulty_fhir_server.base_url)
    assert other.requests == [], f"followed a next link to {where}"
    assert failed_keys(status, body) == {"observations"}  # partial: the pages past the link are missing
    assert all(r.authorization == f"Bearer {TOKEN}" for r in faulty_fhir_server.requests)


class TricklingServer:
    """Answers every request with a status line and headers dripped one byte at a time, for ever."""

    def __init__(self, interval: float = 0.2, lifetime: float = 30.0) -> None:
        self.interval = interval
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.connections = 0
        self.dripping = 0  # connections still being dripped to: each ends when the client hangs up
        self._count_lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.timer = threading.Timer(lifetime, self.stop)
        self.timer.daemon = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/fhir"

    def start(self) -> TricklingServer:
        self.thread.start()
        self.timer.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.timer.cancel()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()
        self.listener.close()

    def _drip(self, conn: socket.socket) -> None:
        with self._count_lock:
            self.dripping += 1
        try:
            with conn:
                conn.recv(65536)
                header = b"HTTP/1.1 200 OK\r\nContent-Type: application/fhir+json\r\nX-Padding: " + b"x" * 10_000
                for byte in header:
                    if self.stopping.wait(self.interval):
                        return
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        return
        finally:
            with self._count_lock:
                self.dripping -= 1


def _fetches_end(trickling: TricklingServer, within: float) -> bool:
    """Whether, within `within` seconds, the service has closed every connection to the dripping server:
    a fetch ends with its connection, so then nothing of the service is still reading it. (The FHIR
    client's own count of live tasks is checked in tests/cds_service/test_prefetch_resolve.py.)"""
    ends = time.monotonic() + within
    while time.monotonic() < ends:
        if trickling.dripping == 0:
            return True
        time.sleep(0.05)
    return False


def test_a_server_dripping_its_headers_leaves_no_fetch_running(
        service: str, faulty_fhir_server: FaultyFhirServer) -> None:
    trickling = TricklingServer().start()
    try:
        for _ in range(3):  # 9 fetches: more than the 4 fetches a call may run at once
            status, body, elapsed = call(service, trickling.base_url)
            assert elapsed < DEADLINE + MARGIN
            assert failed_keys(status, body) == set(PATHS)
        assert _fetches_end(trickling, within=MARGIN), "fetches still reading the dripping server"
        assert not [t for t in threading.enumerate() if t.name.startswith("prefetch")]  # no per-call threads
        healthy_routes(faulty_fhir_server)
        status, body, elapsed = call(service, faulty_fhir_server.base_url)
        assert status == 200, f"a healthy server after a dripping one: {body}"
        assert elapsed < DEADLINE + MARGIN
    finally:
        trickling.stop()


def test_many_concurrent_calls_to_a_slow_server_all_answer_in_time(
        service: str, faulty_fhir_server: FaultyFhirServer) -> None:
    healthy_routes(faulty_fhir_server, conditions=Reply.json(HEALTHY["conditions"], delay=5.0))
    results: list[tuple[int, Any, float]] = []
    threads = [threading.Thread(target=lambda: results.append(call(service, faulty_fhir_server.base_url)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(results) == 8
    for status, body, elapsed in results:
        assert failed_keys(status, body) == {"conditions"}
        assert elapsed < DEADLINE + 2 * MARGIN  # eight at once share the fetch threads
    healthy_routes(faulty_fhir_server)
    status, _, elapsed = call(service, faulty_fhir_server.base_url)
    assert status == 200 and elapsed < DEADLINE + MARGIN
