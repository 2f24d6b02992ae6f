"""Feedback and audit store of the CDS Hooks service (SQLAlchemy Core; SQLite or PostgreSQL)."""

from .feedback_entries import (
    Coding,
    FeedbackBatch,
    FeedbackEntry,
    FeedbackEntryError,
    OverrideReason,
    feedback_idempotency_key,
    parse_feedback,
    parse_rfc3339,
)
from .group_commit import GroupCommit
from .report import KindReport, ReasonCount, Report, override_report, render_report
from .schema import SCHEMA_VERSION
from .store import (
    CARD_KINDS,
    PREFETCH_OUTCOMES,
    AuditRecord,
    IssuedCard,
    PreparedCall,
    SavedFeedback,
    SchemaVersionError,
    Store,
    StoredFeedback,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "CARD_KINDS",
    "PREFETCH_OUTCOMES",
    "SCHEMA_VERSION",
    "AuditRecord",
    "Coding",
    "FeedbackBatch",
    "FeedbackEntry",
    "FeedbackEntryError",
    "GroupCommit",
    "IssuedCard",
    "KindReport",
    "OverrideReason",
    "PreparedCall",
    "ReasonCount",
    "Report",
    "SavedFeedback",
    "SchemaVersionError",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoredFeedback",
    "feedback_idempotency_key",
    "override_report",
    "parse_feedback",
    "parse_rfc3339",
    "render_report",
]
