"""GroupCommit's own rules, with a recording writer (the database side is in tests/integration/test_store.py)."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import pytest

from cds_service.store import GroupCommit, StoreUnavailable


class Recorder:
    """A batch writer that can be held (to let callers queue up) and told to fail on some items."""

    def __init__(self, fail_on: frozenset[str] = frozenset(), unavailable: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.fail_on = fail_on
        self.unavailable = unavailable

    def __call__(self, items: Sequence[str]) -> None:
        self.entered.set()
        assert self.release.wait(10)
        if self.unavailable:
            raise StoreUnavailable("database down")
        if self.fail_on & set(items):
            raise ValueError(f"bad item in {sorted(items)}")
        self.batches.append(list(items))


def _hold_first_batch(writer: GroupCommit[str], recorder: Recorder) -> threading.Thread:
    """Start a write that blocks inside the writer, so that what is submitted next queues up."""
    recorder.release.clear()
    first = threading.Thread(target=writer.write, args=("first", 10))
    first.start()
    assert recorder.entered.wait(10)
    return first


def test_items_queued_during_a_commit_share_the_next_one() -> None:
    recorder = Recorder()
    writer = GroupCommit(recorder)
    first = _hold_first_batch(writer, recorder)
    futures = [writer.submit(f"item-{i}") for i in range(5)]
    recorder.release.set()
    first.join(10)
    for future in futures:
        assert future.result(10) is None
    assert recorder.batches == [["first"], [f"item-{i}" for i in range(5)]]


def test_batches_are_capped() -> None:
    recorder = Recorder()
    writer = GroupCommit(recorder, max_batch=2)
    first = _hold_first_batch(writer, recorder)
    futures = [writer.submit(f"item-{i}") for i in range(5)]
    recorder.release.set()
    first.join(10)
    for future in futures:
        future.result(10)
    assert [len(batch) for batch in recorder.batches] == [1, 2, 2, 1]


def test_a_bad_item_fails_alone() -> None:
    recorder = Recorder(fail_on=frozenset({"bad"}))
    writer = GroupCommit(recorder)
    first = _hold_first_batch(writer, recorder)
    good, bad, other = writer.submit("good"), writer.submit("bad"), writer.submit("other")
    recorder.release.set()
    first.join(10)
    assert good.result(10) is None and other.result(10) is None
    with pytest.raises(ValueError, match="bad item"):
        bad.result(10)
    assert ["good"] in recorder.batches and ["other"] in recorder.batches


def test_store_unavailable_fails_the_whole_batch_without_retrying_item_by_item() -> None:
    recorder = Recorder(unavailable=True)
    writer = GroupCommit(recorder)
    recorder.release.clear()
    futures = [writer.submit(f"item-{i}") for i in range(3)]
    assert recorder.entered.wait(10)
    recorder.release.set()
    for future in futures:
        with pytest.raises(StoreUnavailable):
            future.result(10)
    assert recorder.batches == []


def test_write_raises_timeout_when_the_commit_does_not_come_and_the_item_is_written_later() -> None:
    recorder = Recorder()
    writer = GroupCommit(recorder)
    first = _hold_first_batch(writer, recorder)
    with pytest.raises(TimeoutError):
        writer.write("late", timeout=0.05)
    recorder.release.set()
    first.join(10)
    writer.write("after", timeout=10)
    assert ["late"] in recorder.batches or ["late", "after"] in recorder.batches


def test_the_writer_thread_is_started_again_in_a_forked_child() -> None:
    recorder = Recorder()
    writer = GroupCommit(recorder)
    writer.write("parent", timeout=10)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's writer thread does not exist here
        try:
            writer.write("child", timeout=10)
            os.write(write_end, b"ok" if recorder.batches[-1] == ["child"] else b"no")
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read_end, 2) == b"ok" and status == 0
    os.close(read_end)


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_batch and max_pending"):
        GroupCommit(Recorder(), max_batch=0)


def test_close_writes_what_is_queued_and_ends_the_thread_and_a_later_write_starts_another() -> None:
    recorder = Recorder()
    writer = GroupCommit(recorder, name="test-writer")
    first = _hold_first_batch(writer, recorder)
    queued = writer.submit("queued")
    closing = threading.Thread(target=writer.close)
    closing.start()
    recorder.release.set()
    first.join(10)
    closing.join(10)
    assert queued.result(0) is None
    assert not any(t.name == "test-writer" for t in threading.enumerate())
    writer.write("again", timeout=10)
    assert recorder.batches[-1] == ["again"]
    writer.close()


def test_a_hung_database_cannot_queue_writes_without_bound() -> None:
    recorder = Recorder()
    writer = GroupCommit(recorder, max_pending=2)
    first = _hold_first_batch(writer, recorder)
    waiting = [writer.submit("a"), writer.submit("b")]
    with pytest.raises(StoreUnavailable, match="already waiting"):
        writer.submit("c")
    recorder.release.set()
    first.join(10)
    for future in waiting:
        future.result(10)
