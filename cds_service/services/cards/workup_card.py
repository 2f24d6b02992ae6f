"""The work-up card: what the COG pretreatment work-up still lacks (``neuroblastoma.workup``), each item with why,
when it is due and its source, and the notes that go with it (observation without biopsy; where the clinician
summary departs from the sources).

It names only what is missing, and a test the missing-data card already requests (because it decides an open
result) is not repeated here: one missing fact, one request. The card is ``warning`` only when a listed item can
change the current stage or risk result, or is due before the treatment being ordered (``ordering``: e.g. the
resection a draft order asks for); otherwise ``info``.
"""

from __future__ import annotations

from collections.abc import Iterable

from cds_service.protocol.cards import Card
from cds_service.services.cards.card_json import card_source, fit_summary, stable_uuid
from cds_service.services.cards.markdown import escape_inline as md
from neuroblastoma.deciding_tests import tests_for
from neuroblastoma.workup import Urgency, Workup, WorkupItem

KIND = "work-up"
# The urgencies due before a treatment being ordered.
DUE_BEFORE = {"resection": frozenset({Urgency.BEFORE_RESECTION, Urgency.EMERGENCY}),
              "treatment": frozenset({Urgency.BEFORE_RESECTION, Urgency.BEFORE_TREATMENT, Urgency.EMERGENCY})}


def _line(item: WorkupItem) -> str:
    note = f" {md(item.note)}." if item.note else ""
    return (f"- **{md(item.name)}**: {md(item.what)}. {md(item.urgency.value)}; {md(item.required_when)} "
            f"({md(item.source)}).{note}")


def workup_card(workup: Workup, *, call_key: tuple[str, ...], already_requested: Iterable[str] = (),
                ordering: str | None = None) -> Card | None:
    """``already_requested``: the keys of the tests another card asks for (``DecidingTest.key``); ``ordering``: the
    treatment a draft order asks for ("resection", "treatment"), if any."""
    skip = set(already_requested)
    remaining = tuple(item for item in workup.items if not {t.key for t, _ in tests_for((item.fact,))} & skip)
    if not remaining and not workup.notes:
        return None
    due = DUE_BEFORE.get(ordering or "", frozenset())
    warning = any(item.decides or item.urgency in due for item in remaining)
    names = ", ".join(item.name.split(" (")[0] for item in remaining) or "observation without biopsy possible"
    lines = [*(f"{md(note)}" for note in workup.notes), *([""] if workup.notes and remaining else [])]
    if remaining:
        lines += ["Not found in the record:", "", *(_line(item) for item in remaining)]
    summary = f"Neuroblastoma work-up incomplete: {names}" if remaining else f"Neuroblastoma work-up: {names}"
    return Card(uuid=stable_uuid(*call_key, KIND), summary=fit_summary(summary),
                indicator="warning" if warning else "info", detail="\n".join(lines), source=card_source())
