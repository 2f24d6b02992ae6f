"""A slow or dripping key endpoint cannot hang the service (issue 16, finding 1).

A token only has to *name* a trusted issuer to make the verifier look up that issuer's keys. The issuer's
JWKS endpoint here is tests/support/faulty_fhir_server.py on loopback: dripping its body a byte at a time
(every read gets data in time, so only a total deadline ends it), or slow. Real threads, real sockets.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from cds_service.auth import (
    AuthFailureReason,
    ClientAuthError,
    ClientTokenVerifier,
    InMemoryReplayCache,
    TrustedIssuer,
)
from tests.cds_service.client_simulator import EPIC_ISSUER, client_keys, mint_jwt
from tests.support.faulty_fhir_server import FaultyFhirServer, Reply

SLOW_ISSUER = "https://slow-keys.example.org"
AUD = "https://cds.example.org/cds-services"
DEADLINE = 1.0
MARGIN = 0.5  # scheduling on a shared 2-CPU machine
ATTACKERS = 24


@pytest.fixture
def key_server() -> Iterator[FaultyFhirServer]:
    server = FaultyFhirServer(keep_alive=False).start()
    try:
        yield server
    finally:
        server.stop()


def verifier_for(key_server: FaultyFhirServer, **options: float) -> ClientTokenVerifier:
    """The slow issuer's keys at the faulty server; another issuer's keys inline (never fetched)."""
    return ClientTokenVerifier(
        [TrustedIssuer(issuer=SLOW_ISSUER, jwks_url=f"{key_server.root_url}/jwks.json"),
         TrustedIssuer(issuer=EPIC_ISSUER, jwks=client_keys().jwks())],
        jwks_fetch_deadline_seconds=DEADLINE, replay_cache=InMemoryReplayCache(), **options)


def attacker_token(index: int) -> str:
    """Names the slow issuer with a kid it never published: no valid signature needed to make us look."""
    return mint_jwt(AUD, iss=SLOW_ISSUER, kid=f"attacker-{index}", key=client_keys().other_es384)


def valid_call_seconds(verifier: ClientTokenVerifier) -> float:
    started = time.perf_counter()
    verifier.verify(f"Bearer {mint_jwt(AUD, iss=EPIC_ISSUER)}", AUD)
    return time.perf_counter() - started


def refused_within(verifier: ClientTokenVerifier, token: str) -> tuple[AuthFailureReason, float]:
    started = time.perf_counter()
    with pytest.raises(ClientAuthError) as refused:
        verifier.verify(f"Bearer {token}", AUD)
    return refused.value.reason, time.perf_counter() - started


@pytest.mark.parametrize("fault", [Reply.drip("body", interval=0.05), Reply.drip("headers", interval=0.05),
                                   Reply.json({"keys": []}, delay=2.5)], ids=["drip-body", "drip-headers", "slow-2.5s"])
def test_tokens_naming_an_issuer_with_a_stalling_key_endpoint_delay_no_one(key_server: FaultyFhirServer,
                                                                           fault: Reply) -> None:
    key_server.route("/jwks.json", fault)
    verifier = verifier_for(key_server)
    baseline = statistics.median(valid_call_seconds(verifier) for _ in range(5))
    with ThreadPoolExecutor(max_workers=ATTACKERS + 1) as pool:
        attacks = [pool.submit(refused_within, verifier, attacker_token(i)) for i in range(ATTACKERS)]
        time.sleep(0.2)  # the fetch is stalling now, with every attacker somewhere in the verifier
        during = [valid_call_seconds(verifier) for _ in range(5)]
        outcomes = [attack.result(timeout=DEADLINE + 5) for attack in attacks]  # never for ever
    assert max(during) <= baseline + 0.1, (baseline, during)  # another issuer's valid call: not delayed
    assert {reason for reason, _ in outcomes} == {AuthFailureReason.JWKS_UNAVAILABLE}
    assert max(seconds for _, seconds in outcomes) <= DEADLINE + MARGIN, outcomes  # each a prompt 401
    assert key_server.connections == 1  # one fetch in flight for the issuer, whatever the number of tokens
    ends = time.monotonic() + 2
    while key_server.dripping and time.monotonic() < ends:
        time.sleep(0.05)
    assert key_server.dripping == 0  # the deadline closed the dripped connection


def test_after_a_failed_fetch_the_issuer_is_not_asked_again_for_a_while(key_server: FaultyFhirServer) -> None:
    key_server.route("/jwks.json", Reply.drip("body", interval=0.05))
    verifier = verifier_for(key_server, jwks_min_refetch_seconds=30)
    reason, seconds = refused_within(verifier, attacker_token(0))
    assert reason is AuthFailureReason.JWKS_UNAVAILABLE and seconds <= DEADLINE + MARGIN
    for index in range(1, 20):  # the negative cache: prompt 401s, no new connection
        reason, seconds = refused_within(verifier, attacker_token(index))
        assert reason is AuthFailureReason.JWKS_UNAVAILABLE and seconds < 0.05, seconds
    assert key_server.connections == 1


def test_only_a_few_requests_wait_for_a_key_fetch_and_they_get_the_keys(key_server: FaultyFhirServer) -> None:
    """A legitimate cold start behind a slow (0.6 s) key endpoint: two requests wait and verify; the others are
    answered at once (401) instead of holding threads; every later token verifies without a fetch."""
    key_server.route("/jwks.json", Reply.json(client_keys().jwks(), delay=0.6, content_type="application/json"))
    verifier = verifier_for(key_server)
    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(lambda _: _verify(verifier), range(10)))
    waited = [seconds for ok, seconds in outcomes if ok]
    answered_at_once = [seconds for ok, seconds in outcomes if not ok]
    assert len(waited) == 2 and all(0.5 <= seconds <= DEADLINE + MARGIN for seconds in waited), outcomes
    assert len(answered_at_once) == 8 and max(answered_at_once) < 0.3, outcomes
    assert all(ok for ok, _ in (_verify(verifier) for _ in range(3)))
    assert key_server.connections == 1


def _verify(verifier: ClientTokenVerifier) -> tuple[bool, float]:
    started = time.perf_counter()
    try:
        verifier.verify(f"Bearer {mint_jwt(AUD, iss=SLOW_ISSUER)}", AUD)
    except ClientAuthError:
        return False, time.perf_counter() - started
    return True, time.perf_counter() - started
