"""The gunicorn settings `nbcds serve` adds for speed: a frozen start-up heap and the heartbeat on tmpfs."""

from __future__ import annotations

import gc
import os

import pytest

from cds_service import server


def test_post_worker_init_moves_the_start_up_heap_out_of_the_collectors_reach() -> None:
    assert gc.get_freeze_count() == 0
    try:
        server._post_worker_init(object())
        assert gc.get_freeze_count() > 10_000  # the app and the imported libraries
    finally:
        gc.unfreeze()


def test_heartbeat_directory_is_dev_shm_when_usable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os.path, "isdir", lambda path: path == "/dev/shm")
    monkeypatch.setattr(os, "access", lambda path, mode: True)
    assert server._worker_tmp_dir() == "/dev/shm"
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert server._worker_tmp_dir() is None  # gunicorn's default temporary directory
