"""How a bug is logged: the exception's type and where it happened, never its message.

An exception's message may quote the data that caused it (a ``KeyError`` names the key, a ``ValueError``
the value, a pydantic error the input): request content, so possibly PHI or a megabyte of text, would reach
the log. ``incident_fields(error)`` gives the type and the innermost frames as ``file:line function`` —
enough to find the bug, nothing of the request — for a log line's fields.
"""

from __future__ import annotations

import traceback
from pathlib import PurePath

__all__ = ["incident_fields"]

_FRAMES = 8


def incident_fields(error: BaseException) -> dict[str, str]:
    """``{"error": <type name>, "where": "<file:line function> < …"}``, innermost frame first."""
    frames = traceback.extract_tb(error.__traceback__)[-_FRAMES:]
    where = " < ".join(f"{PurePath(frame.filename).name}:{frame.lineno} {frame.name}" for frame in reversed(frames))
    return {"error": type(error).__name__, "where": where or "?"}
