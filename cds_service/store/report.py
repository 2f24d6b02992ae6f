"""Override report: how clinicians responded to each kind of card, counting each card once.

**One outcome per card: the latest wins.** A card uuid is issued once per hook instance, i.e. for one
practitioner's opening of one chart, so "per card" is "per card and practitioner". A clinician may click the
suggestion (``accepted``) and then dismiss the card (``overridden``): the client sends both, the store keeps
both (it is an audit trail), and the report counts the card once, with its latest outcome (latest
``outcomeTimestamp``; on a tie the later received, then the later stored). A card whose outcome changed is
counted in ``changed``.

Per card kind: cards issued, cards with feedback, acceptance and override rates (shares of the cards with
feedback; ignored cards send none, compare with cards issued), and the override reasons of the cards whose
latest outcome is ``overridden``. Reasons without a display (the sandbox omits it) are named from
``reason_displays``, by default every CDS Hooks 3.0 ballot reason code. Free-text comments are clinician text
that may carry PHI: the report counts them and never selects their text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from cds_service.protocol.override_reasons import REASON_DISPLAYS

from .audit_log import CARD_KINDS
from .store import Store
from .tables import cards, feedback

__all__ = ["CardOutcome", "KindReport", "PeriodCount", "ReasonCount", "Report", "override_report", "render_report"]


@dataclass(frozen=True)
class CardOutcome:
    """The latest feedback on one card, and how many entries the card received in all."""

    card_kind: str | None
    card_uuid: str
    outcome: str
    at: datetime
    reason_system: str | None
    reason_code: str | None
    reason_display: str | None
    has_comment: bool
    entries: int
    changed: bool  # an earlier entry had the other outcome


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
    cards_with_feedback: int
    accepted: int
    overridden: int
    comments: int
    reasons: tuple[ReasonCount, ...]
    entries: int = 0  # feedback entries received, all of them
    changed: int = 0  # cards whose outcome changed (e.g. accepted, then dismissed)

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.cards_with_feedback if self.cards_with_feedback else None

    @property
    def override_rate(self) -> float | None:
        return self.overridden / self.cards_with_feedback if self.cards_with_feedback else None


@dataclass(frozen=True)
class PeriodCount:
    """Cards of one kind whose latest outcome falls in the week starting ``start`` (a Monday)."""

    start: date
    card_kind: str | None
    accepted: int
    overridden: int

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / (self.accepted + self.overridden)


@dataclass(frozen=True)
class Report:
    generated_at: datetime
    service_id: str | None
    since: datetime | None
    kinds: tuple[KindReport, ...]
    outcomes: tuple[CardOutcome, ...] = ()

    def kind(self, card_kind: str | None) -> KindReport | None:
        return next((k for k in self.kinds if k.card_kind == card_kind), None)

    def weekly(self) -> tuple[PeriodCount, ...]:
        """Per week (Monday to Sunday, UTC) and card kind: the cards whose latest outcome fell in it."""
        counts: Counter[tuple[date, str | None, str]] = Counter()
        for outcome in self.outcomes:
            day = outcome.at.astimezone(UTC).date()
            counts[(day - timedelta(days=day.weekday()), outcome.card_kind, outcome.outcome)] += 1
        keys = sorted({(start, kind) for start, kind, _ in counts}, key=lambda k: (k[0], _kind_order(k[1])))
        return tuple(PeriodCount(start, kind, counts[(start, kind, "accepted")], counts[(start, kind, "overridden")])
                     for start, kind in keys)


def _kind_order(kind: str | None) -> tuple[int, int, str]:
    if kind is None:
        return (2, 0, "")
    if kind in CARD_KINDS:
        return (0, CARD_KINDS.index(kind), kind)
    return (1, 0, kind)


def latest_outcomes(rows: Iterable[Any]) -> tuple[CardOutcome, ...]:
    """One outcome per (service, card uuid): the entry with the latest outcome time, received time, row id."""
    by_card: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        by_card.setdefault((row.service_id, row.card_uuid), []).append(row)
    found = []
    for entries in by_card.values():
        latest = max(entries, key=lambda r: (r.outcome_timestamp, r.received_at, r.id))
        found.append(CardOutcome(
            latest.card_kind, latest.card_uuid, latest.outcome, latest.outcome_timestamp,
            latest.override_reason_system, latest.override_reason_code, latest.override_reason_display,
            bool(latest.has_comment), len(entries), len({r.outcome for r in entries}) > 1))
    return tuple(sorted(found, key=lambda o: (o.at, o.card_uuid)))


def _reasons(outcomes: Iterable[CardOutcome], displays: Mapping[tuple[str, str], str]) -> tuple[ReasonCount, ...]:
    counted: dict[tuple[str | None, str | None], list[CardOutcome]] = {}
    for outcome in outcomes:
        if outcome.outcome == "overridden":
            counted.setdefault((outcome.reason_system, outcome.reason_code), []).append(outcome)
    reasons = []
    for (system, code), group in counted.items():
        display = next((o.reason_display for o in group if o.reason_display), None)
        if display is None and system and code:
            display = displays.get((system, code))
        reasons.append(ReasonCount(system, code, display, len(group), sum(o.has_comment for o in group)))
    return tuple(sorted(reasons, key=lambda r: (r.code is None, -r.count, r.system or "", r.code or "")))


def override_report(
    store: Store,
    *,
    service_id: str | None = None,
    since: datetime | None = None,
    reason_displays: Mapping[tuple[str, str], str] | None = None,
) -> Report:
    """Aggregate the store into a Report, each card counted once with its latest outcome.

    `since` keeps cards issued since then and cards whose latest outcome is since then. `reason_displays`
    adds to the known displays (the CDS Hooks 3.0 ballot's codes) for reasons whose feedback carried none.
    """
    if since is not None and (since.tzinfo is None or since.utcoffset() is None):
        raise ValueError("since must be a timezone-aware datetime")
    displays = {**REASON_DISPLAYS, **(reason_displays or {})}
    has_comment = sa.case((feedback.c.user_comment.is_not(None), 1), else_=0)
    card_filter = [cards.c.service_id == service_id] if service_id is not None else []
    feedback_filter = [feedback.c.service_id == service_id] if service_id is not None else []
    if since is not None:
        card_filter.append(cards.c.created_at >= since)

    with store.read() as conn:
        issued = {row.card_kind: int(row.n) for row in conn.execute(
            sa.select(cards.c.card_kind, sa.func.count(sa.distinct(cards.c.card_uuid)).label("n"))
            .where(*card_filter).group_by(cards.c.card_kind))}
        rows = conn.execute(
            sa.select(feedback.c.id, feedback.c.service_id, feedback.c.card_uuid, feedback.c.card_kind,
                      feedback.c.outcome, feedback.c.outcome_timestamp, feedback.c.received_at,
                      feedback.c.override_reason_system, feedback.c.override_reason_code,
                      feedback.c.override_reason_display, has_comment.label("has_comment"))
            .where(*feedback_filter)).all()
    outcomes = latest_outcomes(rows)
    if since is not None:
        outcomes = tuple(o for o in outcomes if o.at >= since)

    kinds = []
    for kind in sorted(set(issued) | {o.card_kind for o in outcomes}, key=_kind_order):
        mine = [o for o in outcomes if o.card_kind == kind]
        kinds.append(KindReport(
            card_kind=kind,
            cards_issued=issued.get(kind, 0) if kind is not None else 0,
            cards_with_feedback=len(mine),
            accepted=sum(o.outcome == "accepted" for o in mine),
            overridden=sum(o.outcome == "overridden" for o in mine),
            comments=sum(o.has_comment for o in mine),
            reasons=_reasons(mine, displays),
            entries=sum(o.entries for o in mine),
            changed=sum(o.changed for o in mine),
        ))
    return Report(datetime.now(UTC), service_id, since, tuple(kinds), outcomes)


def percent(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate * 100:.1f}%"


def clip(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reason_label(reason: ReasonCount) -> str:
    if reason.code is None:
        return "(no coded reason)"
    return clip(reason.display) if reason.display else clip(f"{reason.system}|{reason.code}", 100)


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
    lines.append("Each card counts once, with its latest outcome; rates are shares of the cards with feedback "
                 "(ignored cards send none).")
    if not report.kinds:
        lines += ["", "No cards issued and no feedback received."]
    for kind in report.kinds:
        lines.append("")
        if kind.card_kind is None:
            lines.append("Card kind: (unknown card: feedback for card uuids this service never issued)")
        else:
            lines.append(f"Card kind: {kind.card_kind}")
            lines.append(f"  cards issued:     {kind.cards_issued}")
        lines.append(f"  with feedback:    {kind.cards_with_feedback} "
                     f"(accepted {kind.accepted}, overridden {kind.overridden}; {kind.entries} entries, "
                     f"{kind.changed} changed their outcome)")
        lines.append(f"  acceptance rate:  {percent(kind.acceptance_rate)}")
        lines.append(f"  override rate:    {percent(kind.override_rate)}")
        lines.append(f"  comments:         {kind.comments} (text not shown)")
        if kind.reasons:
            lines.append("  override reasons:")
            for reason in kind.reasons:
                code = f" [{reason.code}]" if reason.code and reason.display else ""
                lines.append(f"    {reason.count:>5}  {reason_label(reason)}{code}  "
                             f"[{reason.with_comment} with comment]")
    return "\n".join(lines) + "\n"
