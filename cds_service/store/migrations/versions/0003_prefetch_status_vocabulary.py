"""The audit log's prefetch outcomes use the pipeline's own status names (`PrefetchStatus`).

Revision ID: 0003
Revises: 0002

Before, a key whose template had a token without a value was recorded as `missing` while the pipeline
calls it `skipped`; every other name was already the same. One vocabulary now: `missing` becomes
`skipped` (and back on downgrade).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH_ROWS = 1000
_audit_log = sa.table("audit_log", sa.column("id", sa.Integer), sa.column("prefetch", sa.JSON))


def _rename(old: str, new: str) -> None:
    """Rename one outcome in every row's `prefetch`, a batch of rows at a time."""
    conn = op.get_bind()
    update = sa.update(_audit_log).where(_audit_log.c.id == sa.bindparam("row_id")).values(
        prefetch=sa.bindparam("new_prefetch"))
    last_id = 0
    while True:
        rows = conn.execute(sa.select(_audit_log.c.id, _audit_log.c.prefetch).where(_audit_log.c.id > last_id)
                            .order_by(_audit_log.c.id).limit(_BATCH_ROWS)).all()
        if not rows:
            return
        changed: list[dict[str, Any]] = [
            {"row_id": row.id, "new_prefetch": {key: new if value == old else value
                                                for key, value in row.prefetch.items()}}
            for row in rows if old in (row.prefetch or {}).values()]
        if changed:
            conn.execute(update, changed)
        last_id = rows[-1].id


def upgrade() -> None:
    _rename("missing", "skipped")


def downgrade() -> None:
    _rename("skipped", "missing")
