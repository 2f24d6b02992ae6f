"""The used-JWT table (cds_service/store/replay.py) on a SQLite file and a real PostgreSQL (issue 16, finding 8).

One statement decides first use or replay, atomically across processes; a token's row lives until its expiry;
expired rows are purged; while the database is down the verifier falls back to its process's memory.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from cds_service.auth import FallbackReplayCache, InMemoryReplayCache
from cds_service.store import Store, StoreError, StoreUnavailable, open_store
from cds_service.store.replay import SqlReplayCache, replay_key
from cds_service.store.tables import jwt_replay
from tests.cds_service.client_simulator import EPIC, running_service

pytestmark = pytest.mark.integration

ISS = "https://ehr.example.org"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}" if request.param == "sqlite" else \
        str(request.getfixturevalue("postgres_url"))
    with open_store(url) as opened:
        yield opened


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def rows(store: Store) -> list[tuple[str, object]]:
    with store.read() as conn:
        return [tuple(row) for row in conn.execute(sa.select(jwt_replay.c.token_key, jwt_replay.c.expires_at))]


def test_first_use_then_replay(store: Store) -> None:
    jti, expires = str(uuid.uuid4()), time.time() + 300
    assert store.replay.check_and_store(ISS, jti, expires) is True
    assert store.replay.check_and_store(ISS, jti, expires) is False
    assert store.replay.check_and_store(ISS, jti, expires + 60) is False  # a re-signed token with the same jti
    assert store.replay.check_and_store("https://other.example.org", jti, expires) is True  # per issuer
    assert {key for key, _ in rows(store)} == {replay_key(ISS, jti), replay_key("https://other.example.org", jti)}


def test_the_table_holds_no_token_material(store: Store) -> None:
    jti = "jti-" + uuid.uuid4().hex
    store.replay.check_and_store(ISS, jti, time.time() + 300)
    [(key, _)] = rows(store)
    assert len(key) == 64 and jti not in key and ISS not in key


def test_an_expired_use_is_forgotten_and_purged(store: Store) -> None:
    clock = Clock()
    replay = SqlReplayCache(store.database, store.initialize, clock=clock)
    assert replay.check_and_store(ISS, "a", clock.now + 10) is True
    assert replay.check_and_store(ISS, "b", clock.now + 1000) is True
    assert replay.check_and_store(ISS, "gone", clock.now - 1) is True  # already unusable: not even stored
    assert len(rows(store)) == 2
    clock.now += 11
    assert replay.check_and_store(ISS, "a", clock.now + 10) is True  # its earlier use has expired
    assert replay.check_and_store(ISS, "a", clock.now + 10) is False
    clock.now += 11
    assert replay.purge() == 1 and [key for key, _ in rows(store)] == [replay_key(ISS, "b")]


def test_expired_rows_are_purged_as_tokens_arrive(store: Store) -> None:
    clock = Clock()
    replay = SqlReplayCache(store.database, store.initialize, clock=clock)
    for index in range(5):
        replay.check_and_store(ISS, f"old-{index}", clock.now + 5)
    clock.now += 3600  # past the expiries and the purge interval
    replay.check_and_store(ISS, "new", clock.now + 5)
    assert [key for key, _ in rows(store)] == [replay_key(ISS, "new")]


def test_concurrent_uses_of_one_token_let_exactly_one_through(store: Store) -> None:
    jti, expires, results = str(uuid.uuid4()), time.time() + 300, []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        results.append(store.replay.check_and_store(ISS, jti, expires))

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 7 + [True]


def test_while_the_store_is_down_the_process_memory_refuses_replays(caplog) -> None:
    class Down:
        def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
            raise StoreUnavailable("database unavailable: test")

    caplog.set_level(logging.WARNING)
    replay = FallbackReplayCache(Down(), InMemoryReplayCache(), failures=(StoreError,))
    assert replay.check_and_store(ISS, "j", time.time() + 60) is True
    assert replay.check_and_store(ISS, "j", time.time() + 60) is False
    assert any("replay cache is unavailable" in record.getMessage() for record in caplog.records)


def test_a_store_that_does_not_answer_is_asked_once_per_interval(caplog) -> None:
    class Down:
        calls = 0

        def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
            self.calls += 1
            raise StoreUnavailable("database unavailable: connection timed out")

    class Clock:
        now = 100.0

        def __call__(self) -> float:
            return self.now

    caplog.set_level(logging.WARNING)
    shared, clock = Down(), Clock()
    replay = FallbackReplayCache(shared, InMemoryReplayCache(), failures=(StoreError,), retry_after_seconds=5,
                                 monotonic=clock)
    for index in range(10):
        assert replay.check_and_store(ISS, f"j{index}", time.time() + 60) is True
    assert shared.calls == 1  # one connect timeout, not ten
    clock.now += 6
    replay.check_and_store(ISS, "later", time.time() + 60)
    assert shared.calls == 2
    assert sum("replay cache is unavailable" in r.getMessage() for r in caplog.records) == 1  # once per outage


def test_other_failures_of_the_shared_cache_are_not_swallowed() -> None:
    class Broken:
        def check_and_store(self, issuer: str, jti: str, expires_at: float) -> bool:
            raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        FallbackReplayCache(Broken(), InMemoryReplayCache(), failures=(StoreError,)).check_and_store(ISS, "j", 1e12)


def test_with_the_database_down_tokens_are_still_verified_and_replays_refused_by_the_process(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once the probe is closed
    down = f"postgresql+psycopg://nbcds@127.0.0.1:{port}/nbcds?connect_timeout=2"
    with running_service(tmp_path, database_url=down) as svc:
        client = svc.client(EPIC)
        token = client.token_for("/cds-services")
        started = time.monotonic()
        assert client.discovery(token=token).status == 200
        assert client.discovery(token=token).status == 401
        assert time.monotonic() - started < 5
