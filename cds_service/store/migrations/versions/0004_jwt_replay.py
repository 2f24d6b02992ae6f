"""The `jwt_replay` table: the client JWTs (`iss`, `jti`) already used, shared by every worker and replica.

Revision ID: 0004
Revises: 0003

Before, each worker process remembered the `jti`s it had seen, so with two workers every token worked twice
(issue 16). One row per used token until it expires: a sha256 of the issuer and the `jti` (fixed width, no
token material) and the instant after which the token is refused on `exp` anyway. Expired rows are
purged by the service (`store/replay.py`). Nothing else changes; the way down drops the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jwt_replay",
        sa.Column("token_key", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_key", name="pk_jwt_replay"),
    )
    op.create_index("ix_jwt_replay_expires_at", "jwt_replay", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_jwt_replay_expires_at", table_name="jwt_replay")
    op.drop_table("jwt_replay")
