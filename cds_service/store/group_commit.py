"""Group commit: many threads' writes in one transaction, each caller waiting for its own commit.

Why: every hook call writes its audit record and issued cards. One transaction per call cost more than
the rest of the call under load (benchmark scenario 3: ~2.4 ms of CPU per call, and a p99 of ~100 ms):
SQLAlchemy's per-transaction work, a ``BEGIN IMMEDIATE`` per call, and on SQLite every gunicorn worker
queuing on one file lock while SQLite's busy handler sleeps 1, 2, 5, 10 ... ms between attempts. Here one
writer thread per process commits everything queued since its last commit in one transaction; when
calls arrive one at a time, each batch is one call and nothing waits for company.

The guarantee callers had is kept: ``write`` returns only once the transaction holding the item has
committed, and raises the store's error (or ``TimeoutError``) otherwise, so "answered" still means
"audited" and a card is in the store before the client can send feedback on it. A batch that fails
with anything but the store being unavailable is retried item by item, so one bad item fails alone.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

from .store import StoreUnavailable

T = TypeVar("T")

_Pending = tuple[T, "Future[None]"]


class GroupCommit(Generic[T]):
    """Feed ``write_batch`` from one background thread; ``write(item)`` waits for the item's commit."""

    def __init__(self, write_batch: Callable[[Sequence[T]], None], *, max_batch: int = 256,
                 name: str = "nbcds-group-commit") -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._name = name
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Pending[T]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def write(self, item: T, timeout: float) -> None:
        """Queue ``item`` and wait until it is committed; raise what the write raised, or TimeoutError.

        After a timeout the item may still be committed later: it stays queued.
        """
        self.submit(item).result(timeout)

    def submit(self, item: T) -> Future[None]:
        future: Future[None] = Future()
        self._pending_queue().put((item, future))
        return future

    def _pending_queue(self) -> queue.SimpleQueue[_Pending[T]]:
        """This process's queue, its writer thread started on first use (also after a fork)."""
        pid = os.getpid()
        thread = self._thread
        if thread is not None and self._pid == pid and thread.is_alive():
            return self._queue
        with self._lock:
            if self._pid != pid:  # a forked child: the parent's queue and thread are not ours
                self._queue = queue.SimpleQueue()
                self._pid = pid
                self._thread = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, args=(self._queue,), name=self._name,
                                                daemon=True)
                self._thread.start()
            return self._queue

    def _run(self, pending: queue.SimpleQueue[_Pending[T]]) -> None:
        while True:
            batch = [pending.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(pending.get_nowait())
                except queue.Empty:
                    break
            self._commit([entry for entry in batch if entry[1].set_running_or_notify_cancel()])

    def _commit(self, batch: list[_Pending[T]]) -> None:
        if not batch:
            return
        try:
            self._write_batch([item for item, _ in batch])
        except StoreUnavailable as error:  # the database is down: every item fails the same way
            for _, future in batch:
                future.set_exception(error)
        except BaseException as error:  # handed to the callers, never lost in this thread
            if len(batch) == 1:
                batch[0][1].set_exception(error)
            else:
                for entry in batch:
                    self._commit([entry])
        else:
            for _, future in batch:
                future.set_result(None)
