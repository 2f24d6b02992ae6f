"""Override report: how clinicians responded to each kind of card.

Per card kind: cards issued, feedback entries stored, acceptance and override rates (as shares of
the feedback entries for that kind; ignored cards send no feedback, compare with cards issued),
and the override reasons with counts. Free-text comments are clinician text that may carry PHI:
the report counts them and never reads or prints their text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from .audit_log import CARD_KINDS
from .store import Store
from .tables import cards, feedback

__all__ = ["KindReport", "ReasonCount", "Report", "override_report", "render_report"]


@dataclass(frozen=True)
class ReasonCount:
    """An override reason (system/code None: overridden with a comment only or no reason at all)."""

    system: str | None
    code: str | None
    display: str | None
    count: int
    with_comment: int


@dataclass(frozen=True)
class KindReport:
    """Numbers for one card kind (`card_kind` None: feedback on cards the store never issued)."""

    card_kind: str | None
    cards_issued: int
    feedback_count: int
    accepted: int
    overridden: int
    comments: int
    reasons: tuple[ReasonCount, ...]

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.feedback_count if self.feedback_count else None

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.feedback_count if self.feedback_count else None


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    service_id: str | None
    since: datetime | None
    kinds: tuple[KindReport, ...]

    def kind(self, card_kind: str | None) -> KindReport | None:
        return next((k for k in self.kinds if k.card_kind == card_kind), None)


def _kind_order(kind: str | None) -> tuple[int, int, str]:
    if kind is None:
        return (2, 0, "")
    if kind in CARD_KINDS:
        return (0, CARD_KINDS.index(kind), kind)
    return (1, 0, kind)


def override_report(
    store: Store,
    *,
    service_id: str | None = None,
    since: datetime | None = None,
    reason_displays: Mapping[tuple[str, str], str] | None = None,
) -> Report:
    """Aggregate the store into a Report (SQL GROUP BYs; comment text is never selected).

    `since` filters cards by created_at and feedback by outcome timestamp. `reason_displays`
    maps (system, code) to a display for reasons whose feedback carried none (the sandbox omits it).
    """
    if since is not None and (since.tzinfo is None or since.utcoffset() is None):
        raise ValueError("since must be a timezone-aware datetime")
    displays = dict(reason_displays or {})
    has_comment = sa.case((feedback.c.user_comment.is_not(None), 1), else_=0)

    card_filter = []
    feedback_filter = []
    if service_id is not None:
        card_filter.append(cards.c.service_id == service_id)
        feedback_filter.append(feedback.c.service_id == service_id)
    if since is not None:
        card_filter.append(cards.c.created_at >= since)
        feedback_filter.append(feedback.c.outcome_timestamp >= since)

    with store.read() as conn:
        issued = {
            row.card_kind: int(row.n)
            for row in conn.execute(
                sa.select(cards.c.card_kind, sa.func.count().label("n"))
                .where(*card_filter)
                .group_by(cards.c.card_kind)
            )
        }
        outcomes: dict[str | None, dict[str, tuple[int, int]]] = {}
        for row in conn.execute(
            sa.select(
                feedback.c.card_kind,
                feedback.c.outcome,
                sa.func.count().label("n"),
                sa.func.coalesce(sa.func.sum(has_comment), 0).label("comments"),
            )
            .where(*feedback_filter)
            .group_by(feedback.c.card_kind, feedback.c.outcome)
        ):
            outcomes.setdefault(row.card_kind, {})[row.outcome] = (int(row.n), int(row.comments))
        reasons: dict[str | None, list[ReasonCount]] = {}
        for row in conn.execute(
            sa.select(
                feedback.c.card_kind,
                feedback.c.override_reason_system,
                feedback.c.override_reason_code,
                sa.func.max(feedback.c.override_reason_display).label("display"),
                sa.func.count().label("n"),
                sa.func.coalesce(sa.func.sum(has_comment), 0).label("comments"),
            )
            .where(feedback.c.outcome == "overridden", *feedback_filter)
            .group_by(
                feedback.c.card_kind, feedback.c.override_reason_system, feedback.c.override_reason_code
            )
        ):
            system, code = row.override_reason_system, row.override_reason_code
            display = row.display or (displays.get((system, code)) if system and code else None)
            reasons.setdefault(row.card_kind, []).append(
                ReasonCount(system, code, display, int(row.n), int(row.comments))
            )

    kinds = []
    for kind in sorted(set(issued) | set(outcomes), key=_kind_order):
        by_outcome = outcomes.get(kind, {})
        accepted, accepted_comments = by_outcome.get("accepted", (0, 0))
        overridden, overridden_comments = by_outcome.get("overridden", (0, 0))
        kind_reasons = sorted(
            reasons.get(kind, []),
            key=lambda r: (r.code is None, -r.count, r.system or "", r.code or ""),
        )
        kinds.append(
            KindReport(
                card_kind=kind,
                cards_issued=issued.get(kind, 0) if kind is not None else 0,
                feedback_count=accepted + overridden,
                accepted=accepted,
                overridden=overridden,
                comments=accepted_comments + overridden_comments,
                reasons=tuple(kind_reasons),
            )
        )
    return Report(generated_at=datetime.now(UTC), service_id=service_id, since=since, kinds=tuple(kinds))


def _percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def _clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_report(report: Report) -> str:
    """Plain-text rendering of a Report (counts only; no comment text)."""
    lines = [f"Override report, generated {report.generated_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"]
    scope = []
    if report.service_id is not None:
        scope.append(f"service {report.service_id}")
    if report.since is not None:
        scope.append(f"since {report.since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")
    if scope:
        lines.append("Scope: " + ", ".join(scope))
    lines.append("Rates are shares of the feedback entries for each card kind (ignored cards send none).")
    if not report.kinds:
        lines.append("")
        lines.append("No cards issued and no feedback received.")
    for kind in report.kinds:
        lines.append("")
        if kind.card_kind is None:
            lines.append("Card kind: (unknown card: feedback for card uuids this service never issued)")
        else:
            lines.append(f"Card kind: {kind.card_kind}")
            lines.append(f"  cards issued:     {kind.cards_issued}")
        lines.append(
            f"  feedback:         {kind.feedback_count} "
            f"(accepted {kind.accepted}, overridden {kind.overridden})"
        )
        lines.append(f"  acceptance rate:  {_percent(kind.acceptance_rate)}")
        lines.append(f"  override rate:    {_percent(kind.override_rate)}")
        lines.append(f"  comments:         {kind.comments} (text not shown)")
        if kind.reasons:
            lines.append("  override reasons:")
            for reason in kind.reasons:
                if reason.code is None:
                    label = "(no coded reason)"
                else:
                    label = _clip(f"{reason.system}|{reason.code}", 100)
                    if reason.display:
                        label += f' "{_clip(reason.display)}"'
                lines.append(f"    {reason.count:>5}  {label}  [{reason.with_comment} with comment]")
    return "\n".join(lines) + "\n"
