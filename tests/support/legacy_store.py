"""The store's schema as the pre-Alembic code created it, frozen, with some data: to test upgrading in place.

`LEGACY_METADATA` is a copy of cds_service/store/schema.py as it was before Alembic (schema version 1,
with its hand-rolled `schema_version` table); `create_legacy_store(url)` creates those tables as that
code did (tables, then `schema_version` = 1) and fills them with `LEGACY_AUDIT_ROWS`, two cards and
feedback on one of them. `EXPECTED_RESULTS` is what each audit row's `results` must be after upgrading.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cds_service.store.tables import UTCDateTime

__all__ = [
    "CARD_UUIDS",
    "EXPECTED_RESULTS",
    "LEGACY_AUDIT_ROWS",
    "LEGACY_METADATA",
    "create_legacy_store",
    "legacy_audit_rows",
]

LEGACY_METADATA = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

schema_version = sa.Table(
    "schema_version",
    LEGACY_METADATA,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

cards = sa.Table(
    "cards",
    LEGACY_METADATA,
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
    LEGACY_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("idempotency_key", sa.String(64), nullable=False),
    sa.Column("service_id", sa.String(128), nullable=False),
    sa.Column("card_uuid", sa.String(36), nullable=False),
    sa.Column("card_known", sa.Boolean(create_constraint=False), nullable=False),
    sa.Column("card_id", sa.Integer, sa.ForeignKey(cards.c.id), nullable=True),
    sa.Column("hook_instance", sa.String(128), nullable=True),
    sa.Column("card_kind", sa.String(64), nullable=True),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("accepted_suggestions", sa.JSON, nullable=False),
    sa.Column("override_reason_system", sa.String(512), nullable=True),
    sa.Column("override_reason_code", sa.String(256), nullable=True),
    sa.Column("override_reason_display", sa.String(1024), nullable=True),
    sa.Column("user_comment", sa.Text, nullable=True),
    sa.Column("outcome_timestamp", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("idempotency_key"),
    sa.CheckConstraint("outcome IN ('accepted', 'overridden')", name="outcome"),
    sa.Index(None, "card_uuid"),
    sa.Index(None, "service_id", "card_kind"),
)

audit_log = sa.Table(
    "audit_log",
    LEGACY_METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("hook_instance", sa.String(128), nullable=True),
    sa.Column("service_id", sa.String(128), nullable=False),
    sa.Column("hook", sa.String(128), nullable=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
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
    sa.Index(None, "hook_instance"),
    sa.Index(None, "received_at"),
)

SERVICE = "neuroblastoma-staging"
T0 = datetime(2025, 1, 15, 9, 30, tzinfo=UTC)
CARD_UUIDS = ("5b0c8f3e-2a71-4c1b-9e55-0d3f6a7b8c91", "a7e1d2c3-4b5f-4e6a-8b9c-0d1e2f3a4b5c")
SUGGESTION_UUID = "0f1e2d3c-4b5a-4968-8776-655443322110"

# (stage, stage_candidates, inrg2009_group, inrg2009_risk, cog2021_risk) of each call, and its results after.
_RESULTS_BY_CALL: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (("L2", ["L2"], "H", "intermediate", "intermediate"),  # determinate everywhere
     {"stages": {"inrgss": {"stage": "L2", "candidates": ["L2"]}},
      "risks": {"inrg2009": {"risk": "intermediate", "group": "H", "candidates": []},
                "cog2021": {"risk": "intermediate", "group": None, "candidates": []}}}),
    ((None, ["M", "MS"], None, None, None),  # an indeterminate stage: its candidates, no risk
     {"stages": {"inrgss": {"stage": None, "candidates": ["M", "MS"]}}, "risks": {}}),
    (("MS", ["MS"], "C", "very low", None),  # a group without a COG risk
     {"stages": {"inrgss": {"stage": "MS", "candidates": ["MS"]}},
      "risks": {"inrg2009": {"risk": "very low", "group": "C", "candidates": []}}}),
    ((None, [], None, None, None),  # a call rejected before its body was read: no results at all
     {"stages": {}, "risks": {}}),
]


def legacy_audit_rows() -> list[dict[str, Any]]:
    rows = []
    for number, ((stage, candidates, group, inrg_risk, cog_risk), _) in enumerate(_RESULTS_BY_CALL):
        rejected = number == len(_RESULTS_BY_CALL) - 1
        rows.append({
            "hook_instance": None if rejected else f"hook-{number}",
            "service_id": SERVICE,
            "hook": None if rejected else "patient-view",
            "received_at": T0 + timedelta(minutes=number),
            "ruleset_version": "inrgss-2009+cog-2021.1",
            "inputs_digest": None if rejected else f"{number:064x}",
            "patient_ref": None if rejected else f"nb-patient-{number}",
            "stage": stage,
            "stage_candidates": candidates,
            "inrg2009_group": group,
            "inrg2009_risk": inrg_risk,
            "cog2021_risk": cog_risk,
            "card_uuids": [] if rejected or number else list(CARD_UUIDS),
            "latency_ms": 10.0 + number,
            "http_status": 401 if rejected else 200,
            "prefetch": {} if rejected else {"patient": "supplied", "conditions": "fetched", "observations": "missing"},
        })
    return rows


LEGACY_AUDIT_ROWS = legacy_audit_rows()
EXPECTED_RESULTS = [results for _, results in _RESULTS_BY_CALL]


def create_legacy_store(url: str) -> None:
    """A database as the pre-Alembic store left it: its tables, `schema_version` 1, some calls and feedback."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            LEGACY_METADATA.create_all(conn)
            conn.execute(sa.insert(schema_version).values(version=1, applied_at=T0))
            conn.execute(sa.insert(audit_log), LEGACY_AUDIT_ROWS)
            card_ids = [
                conn.execute(sa.insert(cards).values(
                    card_uuid=card, hook_instance="hook-0", service_id=SERVICE, card_kind=kind,
                    suggestion_uuids=[SUGGESTION_UUID] if kind == "stage-risk" else [], created_at=T0,
                )).inserted_primary_key[0]
                for card, kind in zip(CARD_UUIDS, ("stage-risk", "work-up"), strict=True)
            ]
            conn.execute(sa.insert(feedback).values(
                idempotency_key="f" * 64, service_id=SERVICE, card_uuid=CARD_UUIDS[0], card_known=True,
                card_id=card_ids[0], hook_instance="hook-0", card_kind="stage-risk", outcome="accepted",
                accepted_suggestions=[SUGGESTION_UUID], outcome_timestamp=T0 + timedelta(minutes=5),
                received_at=T0 + timedelta(minutes=5),
            ))
    finally:
        engine.dispose()
