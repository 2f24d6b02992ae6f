"""The tables as the store created them before Alembic (its hand-rolled `schema_version` 1).

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# UTC instants: `timestamptz` on PostgreSQL, fixed-width UTC text on SQLite (tables.UTCDateTime).
Instant = sa.DateTime(timezone=True)


def upgrade() -> None:
    # One row per card per hook instance that issued it (a service may re-issue a card uuid).
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("card_uuid", sa.String(36), nullable=False),
        sa.Column("hook_instance", sa.String(128), nullable=False),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("card_kind", sa.String(64), nullable=False),
        sa.Column("suggestion_uuids", sa.JSON, nullable=False),
        sa.Column("created_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cards"),
        sa.UniqueConstraint("card_uuid", "hook_instance", name="uq_cards_card_uuid_hook_instance"),
    )
    op.create_index("ix_cards_hook_instance", "cards", ["hook_instance"])
    op.create_index("ix_cards_service_id_card_kind", "cards", ["service_id", "card_kind"])

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("card_uuid", sa.String(36), nullable=False),
        sa.Column("card_known", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("card_id", sa.Integer, nullable=True),
        sa.Column("hook_instance", sa.String(128), nullable=True),
        sa.Column("card_kind", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.JSON, nullable=False),
        sa.Column("override_reason_system", sa.String(512), nullable=True),
        sa.Column("override_reason_code", sa.String(256), nullable=True),
        sa.Column("override_reason_display", sa.String(1024), nullable=True),
        sa.Column("user_comment", sa.Text, nullable=True),
        sa.Column("outcome_timestamp", Instant, nullable=False),
        sa.Column("received_at", Instant, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("idempotency_key", name="uq_feedback_idempotency_key"),
        sa.CheckConstraint("outcome IN ('accepted', 'overridden')", name="ck_feedback_outcome"),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name="fk_feedback_card_id_cards"),
    )
    op.create_index("ix_feedback_card_uuid", "feedback", ["card_uuid"])
    op.create_index("ix_feedback_service_id_card_kind", "feedback", ["service_id", "card_kind"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("hook_instance", sa.String(128), nullable=True),
        sa.Column("service_id", sa.String(128), nullable=False),
        sa.Column("hook", sa.String(128), nullable=True),
        sa.Column("received_at", Instant, nullable=False),
        sa.Column("ruleset_version", sa.String(64), nullable=False),
        sa.Column("inputs_digest", sa.String(64), nullable=True),
        sa.Column("patient_ref", sa.String(128), nullable=True),
        sa.Column("stage", sa.String(32), nullable=True),
        sa.Column("stage_candidates", sa.JSON, nullable=False),
        sa.Column("inrg2009_group", sa.String(32), nullable=True),
        sa.Column("inrg2009_risk", sa.String(32), nullable=True),
        sa.Column("cog2021_risk", sa.String(32), nullable=True),
        sa.Column("card_uuids", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("http_status", sa.Integer, nullable=False),
        sa.Column("prefetch", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_hook_instance", "audit_log", ["hook_instance"])
    op.create_index("ix_audit_log_received_at", "audit_log", ["received_at"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("feedback")
    op.drop_table("cards")
