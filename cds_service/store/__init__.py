"""Feedback and audit store of the CDS Hooks service (SQLAlchemy Core; SQLite or PostgreSQL; Alembic).

Callers wire `open_store(url)` and depend on the protocols in `ports`; the modules each do one job:
`engine` (connections, transactions, errors), `tables`, `migrate` (+ `migrations/`), `audit_log`,
`feedback` (+ `feedback_entries`, the validated entries it stores), `replay` (used client JWTs) and `report`.
"""

from .audit_log import (
    CARD_KINDS,
    PREFETCH_OUTCOMES,
    AuditedResults,
    AuditedRisk,
    AuditedStage,
    AuditRecord,
    IssuedCard,
    SqlAuditLog,
)
from .errors import SchemaVersionError, StoreError, StoreUnavailable
from .feedback import SavedFeedback, SqlFeedbackLog
from .feedback_entries import Coding, FeedbackEntry, OverrideReason, feedback_idempotency_key
from .ports import AuditLog, FeedbackLog, Readiness
from .replay import SqlReplayCache
from .report import KindReport, ReasonCount, Report, override_report, render_report
from .store import Store, open_store

__all__ = [
    "CARD_KINDS",
    "PREFETCH_OUTCOMES",
    "AuditLog",
    "AuditRecord",
    "AuditedResults",
    "AuditedRisk",
    "AuditedStage",
    "Coding",
    "FeedbackEntry",
    "FeedbackLog",
    "IssuedCard",
    "KindReport",
    "OverrideReason",
    "Readiness",
    "ReasonCount",
    "Report",
    "SavedFeedback",
    "SchemaVersionError",
    "SqlAuditLog",
    "SqlFeedbackLog",
    "SqlReplayCache",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "feedback_idempotency_key",
    "open_store",
    "override_report",
    "render_report",
]
