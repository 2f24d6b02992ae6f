"""The work-up card: required pretreatment assessments absent from the record that no other card asks for.

A test the missing-data card already requests (because it decides an open result) is not repeated here: one
missing fact, one request.
"""

from __future__ import annotations

from collections.abc import Iterable

from cds_service.protocol.cards import Card
from cds_service.services.cards.card_json import card_source, fit_summary, stable_uuid
from cds_service.services.cards.markdown import escape_inline as md
from neuroblastoma.deciding_tests import tests_for
from neuroblastoma.workup import Assessment

KIND = "work-up"


def workup_card(missing: tuple[Assessment, ...], *, call_key: tuple[str, ...],
                already_requested: Iterable[str] = ()) -> Card | None:
    """``already_requested``: the keys of the tests another card asks for (``DecidingTest.key``)."""
    skip = set(already_requested)
    remaining = tuple(a for a in missing if not {t.key for t, _ in tests_for((a.fact,))} & skip)
    if not remaining:
        return None
    names = ", ".join(a.name.split(" (")[0] for a in remaining)
    lines = ["Required before treatment and not found in the record:", ""]
    lines += [f"- **{md(a.name)}**: {md(a.why)} ({md(a.source)})." for a in remaining]
    return Card(uuid=stable_uuid(*call_key, KIND), summary=fit_summary(f"Neuroblastoma work-up incomplete: {names}"),
                indicator="warning", detail="\n".join(lines), source=card_source())
