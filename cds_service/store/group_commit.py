"""Group commit: many threads' writes in one transaction, each caller waiting for its own commit.

Why: every hook call writes its audit record and issued cards. One transaction per call cost more than
the rest of the call under load: SQLAlchemy's per-transaction work, the commit's round trips and WAL
flush, and on SQLite every gunicorn worker queuing on one file lock while SQLite's busy handler sleeps
1, 2, 5, 10 ... ms between attempts. Here one writer thread per process commits everything queued since
its last commit in one transaction; when calls arrive one at a time, each batch is one call and nothing
waits for company. Measured (tests/support/group_commit_benchmark.py): it pays on SQLite and with 16
threads per process, but not on PostgreSQL at a gunicorn worker's 4 threads (see docs/reliability.md).

The guarantee callers had is kept: ``write`` returns only once the transaction holding the item has
committed, and raises the store's error (or ``TimeoutError``) otherwise, so "answered" still means
"audited" and a card is in the store before the client can send feedback on it. A batch that fails
with anything but the store being unavailable is retried item by item, so one bad item fails alone.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any, Generic, TypeVar

from .audit_log import AuditedCall, AuditRecord, IssuedCard, SqlAuditLog
from .errors import StoreUnavailable

T = TypeVar("T")

_Pending = tuple[T, "Future[None]"]
_STOP: Any = object()  # put on the queue by close(): write what came before it, then end the thread


class GroupCommit(Generic[T]):
    """Feed ``write_batch`` from one background thread; ``write(item)`` waits for the item's commit."""

    def __init__(self, write_batch: Callable[[Sequence[T]], None], *, max_batch: int = 256,
                 max_pending: int = 10_000, name: str = "nbcds-group-commit") -> None:
        if max_batch < 1 or max_pending < 1:
            raise ValueError("max_batch and max_pending must be at least 1")
        self._write_batch = write_batch
        self._max_batch = max_batch
        self._max_pending = max_pending
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
        """Queue ``item``; StoreUnavailable at once if ``max_pending`` items already wait (a hung database)."""
        pending = self._pending_queue()
        if pending.qsize() >= self._max_pending:
            raise StoreUnavailable(f"{self._max_pending} writes are already waiting for the database")
        future: Future[None] = Future()
        pending.put((item, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop this process's writer thread (a later write starts a new one)."""
        with self._lock:
            thread, pending = self._thread, self._queue
            if thread is None or self._pid != os.getpid() or not thread.is_alive():
                return
            self._thread = None
            self._queue = queue.SimpleQueue()
        pending.put(_STOP)
        thread.join(timeout)

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
        stopping = False
        while not stopping:
            batch: list[_Pending[T]] = []
            entry = pending.get()
            while True:
                if entry is _STOP:
                    stopping = True
                else:
                    batch.append(entry)
                if len(batch) >= self._max_batch:
                    break
                try:
                    entry = pending.get_nowait()
                except queue.Empty:
                    break
            self._commit([entry for entry in batch if entry[1].set_running_or_notify_cancel()])
        while True:  # a write that raced close() onto this queue after the stop marker
            try:
                entry = pending.get_nowait()
            except queue.Empty:
                return
            if entry is not _STOP and entry[1].set_running_or_notify_cancel():
                self._commit([entry])

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


# How long an answered call waits for its audit record's commit before answering anyway (the record stays
# queued and is written when the database allows). Normally a commit takes milliseconds; this bounds what a
# hung or locked database adds to a clinical answer.
AUDIT_WAIT_SECONDS = 2.0


class GroupCommittedAuditLog:
    """The audit log as the service writes it: each call's record joins the next group commit (`ports.AuditLog`).

    `close()` (called by `Store.dispose()`, so by gunicorn's worker-exit hook) writes what is still queued.
    """

    def __init__(self, log: SqlAuditLog, *, wait_seconds: float = AUDIT_WAIT_SECONDS) -> None:
        self.log = log
        self.wait_seconds = wait_seconds
        self._writer: GroupCommit[AuditedCall] = GroupCommit(log.record_calls, name="nbcds-audit-writer")

    def record_call(self, record: AuditRecord, issued_cards: Iterable[IssuedCard] = ()) -> None:
        """Wait until the call's record and cards are committed; raise what the write raised.

        TimeoutError after `wait_seconds`: the record stays queued and is written when the database allows.
        """
        self._writer.write((record, tuple(issued_cards)), timeout=self.wait_seconds)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer thread (a later record starts another)."""
        self._writer.close(timeout)
