"""The audit log's results in one JSON column, keyed by staging system and risk schema id.

Revision ID: 0002
Revises: 0001

Before: five fixed columns (`stage`, `stage_candidates`, `inrg2009_group`, `inrg2009_risk`,
`cog2021_risk`). After: `results` =
`{"stages": {system_id: {"stage", "candidates"}}, "risks": {schema_id: {"risk", "group", "candidates"}}}`.

A system or schema appears in `results` only when one of its old columns held something, so the
downgrade gives every row back the values it had. SQLite cannot drop columns in place everywhere:
the table is rebuilt (Alembic's batch mode); PostgreSQL alters it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH_ROWS = 1000

# The audit log as this revision sees it (never the live tables, which move on).
_audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("stage", sa.String),
    sa.column("stage_candidates", sa.JSON),
    sa.column("inrg2009_group", sa.String),
    sa.column("inrg2009_risk", sa.String),
    sa.column("cog2021_risk", sa.String),
    sa.column("results", sa.JSON),
)
_OLD_COLUMNS = ("stage", "stage_candidates", "inrg2009_group", "inrg2009_risk", "cog2021_risk")


def results_from_columns(row: Any) -> dict[str, Any]:
    """The `results` value of a row that had the five fixed columns."""
    stages: dict[str, Any] = {}
    risks: dict[str, Any] = {}
    candidates = list(row.stage_candidates or [])
    if row.stage is not None or candidates:
        stages["inrgss"] = {"stage": row.stage, "candidates": candidates}
    if row.inrg2009_group is not None or row.inrg2009_risk is not None:
        risks["inrg2009"] = {"risk": row.inrg2009_risk, "group": row.inrg2009_group, "candidates": []}
    if row.cog2021_risk is not None:
        risks["cog2021"] = {"risk": row.cog2021_risk, "group": None, "candidates": []}
    return {"stages": stages, "risks": risks}


def columns_from_results(row: Any) -> dict[str, Any]:
    """The five fixed columns of a row that had `results` (systems and schemas the columns cannot hold are
    left out: a downgrade keeps what the old code could read)."""
    results = row.results or {}
    stage = (results.get("stages") or {}).get("inrgss") or {}
    risks = results.get("risks") or {}
    inrg, cog = risks.get("inrg2009") or {}, risks.get("cog2021") or {}
    return {
        "stage": stage.get("stage"),
        "stage_candidates": list(stage.get("candidates") or []),
        "inrg2009_group": inrg.get("group"),
        "inrg2009_risk": inrg.get("risk"),
        "cog2021_risk": cog.get("risk"),
    }


def _rows_in_batches(conn: sa.Connection, *columns: sa.ColumnClause[Any]) -> Iterator[Sequence[sa.Row[Any]]]:
    last_id = None
    while True:
        query = sa.select(_audit_log.c.id, *columns).order_by(_audit_log.c.id).limit(_BATCH_ROWS)
        if last_id is not None:
            query = query.where(_audit_log.c.id > last_id)
        rows = conn.execute(query).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id


def _rewrite(read: Sequence[str], write: Sequence[str], convert: Callable[[Any], dict[str, Any]]) -> None:
    """Set each row's `write` columns to `convert(row)` of its `read` columns, a batch of rows per UPDATE."""
    conn = op.get_bind()
    update = (
        sa.update(_audit_log)
        .where(_audit_log.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in write})
    )
    for rows in _rows_in_batches(conn, *(_audit_log.c[name] for name in read)):
        values = [{"row_id": row.id, **{f"new_{k}": v for k, v in convert(row).items()}} for row in rows]
        conn.execute(update, values)


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("results", sa.JSON, nullable=True))
    _rewrite(_OLD_COLUMNS, ["results"], lambda row: {"results": results_from_columns(row)})
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("results", existing_type=sa.JSON, nullable=False)
        for name in _OLD_COLUMNS:
            batch.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("stage", sa.String(32), nullable=True))
        batch.add_column(sa.Column("stage_candidates", sa.JSON, nullable=True))
        batch.add_column(sa.Column("inrg2009_group", sa.String(32), nullable=True))
        batch.add_column(sa.Column("inrg2009_risk", sa.String(32), nullable=True))
        batch.add_column(sa.Column("cog2021_risk", sa.String(32), nullable=True))
    _rewrite(["results"], _OLD_COLUMNS, columns_from_results)
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("stage_candidates", existing_type=sa.JSON, nullable=False)
        batch.drop_column("results")
