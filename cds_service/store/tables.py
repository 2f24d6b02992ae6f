"""Tables of the feedback and audit store (SQLAlchemy Core), portable across SQLite and PostgreSQL.

These are the tables as the newest migration leaves them (`migrations/versions/`): change a table here
and add a revision there; tests/integration/test_migrations.py checks that the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "audit_log", "cards", "feedback", "jwt_replay", "metadata"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `timestamptz`. SQLite has no time zones: values are stored as UTC wall time
    (fixed-width text, so ordering works) and come back tagged as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the store: pass a timezone-aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# One row per card per hook instance that issued it (a service may re-issue a card uuid).
cards = sa.Table(
    "cards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("card_uuid", sa.String(36), nullable=False),
    sa.Column("hook_instance", sa.String(128), nullable=False),
    sa.Column("service_id", sa.String(128), nullable=False),
    sa.Column("card_kind", sa.String(64), nullable=False),
    sa.Column("suggestion_uuids", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("card_uuid", "hook_instance"),
    sa.Index(None, "hook_instance"),
    sa.Index(None, "service_id", "card_kind"),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("service_id", sa.String(128), nullable=False),
    sa.Column("card_uuid", sa.String(36), nullable=False),
    # Link to the issuing card and hook instance; NULL with card_known = false for unknown cards.
    sa.Column("card_known", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("card_id", sa.Integer, sa.ForeignKey(cards.c.id), nullable=True),
    sa.Column("hook_instance", sa.String(128), nullable=True),
    sa.Column("card_kind", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("accepted_suggestions", sa.JSON, nullable=False),
    sa.Column("override_reason_system", sa.String(512), nullable=True),
    sa.Column("override_reason_code", sa.String(256), nullable=True),
    sa.Column("override_reason_display", sa.String(1024), nullable=True),
    # Clinician free text (may carry PHI): stored, never printed by the report.
    sa.Column("user_comment", sa.Text, nullable=True),
    sa.Column("outcome_timestamp", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("idempotency_key"),
    sa.CheckConstraint("outcome IN ('accepted', 'overridden')", name="outcome"),
    sa.Index(None, "card_uuid"),
    sa.Index(None, "service_id", "card_kind"),
)

# One row per service call. Identifiers and derived results only: no names, no tokens, no bodies.
# `results` holds every staging system's and risk schema's result, keyed by id (see audit_log.CallResults).
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("hook_instance", sa.String(128), nullable=True),
    sa.Column("service_id", sa.String(128), nullable=False),
    sa.Column("hook", sa.String(128), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("ruleset_version", sa.String(64), nullable=False),
    sa.Column("inputs_digest", sa.String(64), nullable=True),
    sa.Column("patient_ref", sa.String(128), nullable=True),
    sa.Column("card_uuids", sa.JSON, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("http_status", sa.Integer, nullable=False),
    sa.Column("prefetch", sa.JSON, nullable=False),
    sa.Column("results", sa.JSON, nullable=False),
    sa.Index(None, "hook_instance"),
    sa.Index(None, "received_at"),
)

# One row per client JWT already used (replay protection shared by every worker and replica), until it expires:
# a sha256 of its issuer and `jti`, never the token. See store/replay.py.
jwt_replay = sa.Table(
    "jwt_replay",
    metadata,
    sa.Column("token_key", sa.String(64), primary_key=True),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "expires_at"),
)
