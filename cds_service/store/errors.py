"""What the store raises: callers map `StoreUnavailable` to 503 and treat any other `StoreError` as a fault."""

from __future__ import annotations

__all__ = ["SchemaVersionError", "StoreError", "StoreUnavailable"]


class StoreError(Exception):
    """Base class of the store's errors. Messages are short and never carry stored values."""


class StoreUnavailable(StoreError):  # noqa: N818 - the name the HTTP layer maps to 503
    """The database cannot be reached or used right now (answer 503, retry later)."""


class SchemaVersionError(StoreError):
    """The database schema is not one this code can use (e.g. written by a newer release)."""
