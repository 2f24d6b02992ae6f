"""Client JWTs against the real thing: ``nbcds serve`` (gunicorn workers) on loopback (issue 16, findings 1 and 8).

- A key endpoint that drips its body: 24 unauthenticated tokens naming that issuer at once must not delay a
  valid call from another issuer, and each must be answered (401) within the fetch deadline.
- A replayed token is refused wherever it lands: on the other worker of one instance (SQLite store), and on
  another instance sharing the PostgreSQL store.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.cds_service.client_simulator import EPIC_ISSUER, client_keys, mint_jwt
from tests.support.faulty_fhir_server import FaultyFhirServer, Reply
from tests.support.nbcds_server import ServedNbcds, free_port, served

pytestmark = pytest.mark.integration

SLOW_ISSUER = "https://slow-keys.example.org"
JWKS_DEADLINE = 2.0
ATTACKERS = 24


def jwt_env(port: int, database_url: str, trusted: list[dict[str, object]]) -> dict[str, str]:
    """Development profile with JWTs required (production would want TLS and an allow-list on loopback)."""
    return {
        "NBCDS_PROFILE": "development",
        "NBCDS_REQUIRE_JWT": "true",
        "NBCDS_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "NBCDS_TRUSTED_ISSUERS": json.dumps(trusted),
        "NBCDS_JWKS_FETCH_DEADLINE_SECONDS": str(JWKS_DEADLINE),
        "NBCDS_DATABASE_URL": database_url,
        "NBCDS_LOG_LEVEL": "INFO",
    }


def discovery(server: ServedNbcds, token: str, timeout: float = 15.0) -> int:
    """GET /cds-services with the token, on a fresh connection (the kernel picks the worker)."""
    return requests.get(f"{server.base_url}/cds-services", timeout=timeout,
                        headers={"Authorization": f"Bearer {token}", "Connection": "close"}).status_code


def valid_token(server: ServedNbcds) -> str:
    return mint_jwt(f"{server.base_url}/cds-services", iss=EPIC_ISSUER)


@pytest.fixture
def key_server() -> Iterator[FaultyFhirServer]:
    server = FaultyFhirServer(max_lifetime=120).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("fault", [Reply.drip("body", interval=0.05), Reply.json({"keys": []}, delay=2.5)],
                         ids=["dripping", "slow-2.5s"])
def test_a_stalling_key_endpoint_delays_no_valid_call(tmp_path: Path, key_server: FaultyFhirServer,
                                                      fault: Reply) -> None:
    key_server.route("/jwks.json", fault)
    port = free_port()
    trusted = [{"issuer": EPIC_ISSUER, "jwks": client_keys().jwks()},
               {"issuer": SLOW_ISSUER, "jwks_url": f"{key_server.root_url}/jwks.json"}]
    env = jwt_env(port, f"sqlite:///{tmp_path / 'nbcds.sqlite3'}", trusted)
    with served(tmp_path, env, workers=2, port=port) as server:
        assert discovery(server, valid_token(server)) == 200  # warm: both issuers' paths loaded
        baseline = statistics.median(_timed(lambda: discovery(server, valid_token(server)))[1] for _ in range(5))

        def attack(index: int) -> tuple[int, float]:
            token = mint_jwt(f"{server.base_url}/cds-services", iss=SLOW_ISSUER, kid=f"attacker-{index}",
                             key=client_keys().other_es384)
            return _timed(lambda: discovery(server, token, timeout=JWKS_DEADLINE + 20))

        with ThreadPoolExecutor(max_workers=ATTACKERS) as pool:
            attacks = [pool.submit(attack, index) for index in range(ATTACKERS)]
            time.sleep(0.3)  # every attacking request is in the service now
            during = [_timed(lambda: discovery(server, valid_token(server)))[1] for _ in range(5)]
            answered = [future.result(timeout=JWKS_DEADLINE + 25) for future in attacks]
    print(f"baseline {baseline * 1000:.1f} ms; during the attack {[round(s * 1000, 1) for s in during]} ms; "
          f"attackers answered in {max(s for _, s in answered):.2f} s at most")
    assert max(during) <= baseline + 0.1, (baseline, during)
    assert {status for status, _ in answered} == {401}
    assert max(seconds for _, seconds in answered) <= JWKS_DEADLINE + 1.5, answered
    assert key_server.connections <= 2  # one fetch per worker process, whatever the number of tokens


def _timed(call):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def test_a_replayed_token_is_refused_by_the_other_worker(tmp_path: Path) -> None:
    port = free_port()
    env = jwt_env(port, f"sqlite:///{tmp_path / 'nbcds.sqlite3'}",
                  [{"issuer": EPIC_ISSUER, "jwks": client_keys().jwks()}])
    with served(tmp_path, env, workers=2, port=port) as server:
        workers = set(server.worker_pids())
        refused_by: set[int | None] = set()
        for _ in range(6):  # rounds, until both workers have refused a replay (the kernel picks the worker)
            tokens = [valid_token(server)] * 16  # one token, sent 16 times at once
            with ThreadPoolExecutor(max_workers=8) as pool:
                statuses = list(pool.map(lambda token: discovery(server, token), tokens))
            assert statuses.count(200) == 1 and statuses.count(401) == 15, statuses
            refused_by = {line.get("pid") for line in server.log_lines() if line.get("auth_failure") == "replayed_jti"}
            if refused_by >= workers:
                break
    print(f"replays refused by workers {sorted(refused_by)} of {sorted(workers)}")
    assert len(workers) == 2 and refused_by == workers  # each worker refused a token another had accepted


def test_a_replayed_token_is_refused_by_another_instance_on_the_same_postgresql(tmp_path: Path,
                                                                                postgres_url: str) -> None:
    ports = free_port(), free_port()
    trusted = [{"issuer": EPIC_ISSUER, "jwks": client_keys().jwks()}]
    # Both instances are one service behind a load balancer: one public URL (the first instance's), one store.
    public = f"http://127.0.0.1:{ports[0]}"
    env = {**jwt_env(ports[0], postgres_url, trusted), "NBCDS_PUBLIC_BASE_URL": public}
    with served(tmp_path, env, workers=1, port=ports[0], name="a") as first, \
            served(tmp_path, env, workers=1, port=ports[1], name="b") as second:
        for landing, replayed_at in ((first, second), (second, first)):
            token = mint_jwt(f"{public}/cds-services", iss=EPIC_ISSUER)
            assert discovery(landing, token) == 200
            assert discovery(replayed_at, token) == 401
            assert discovery(landing, token) == 401
