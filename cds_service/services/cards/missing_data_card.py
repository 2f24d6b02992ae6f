"""The missing-data card: the tests or records that would decide what is still open, each asked for once.

It names the test to do (``neuroblastoma.deciding_tests``), never a result of the service itself (the INRG
stage is decided by the other inputs, so it is never asked for), and one test that supplies several inputs
(1p and 11q from one genomic profile) is one request. Then what is still possible.
"""

from __future__ import annotations

from cds_service.protocol.cards import Card, Link
from cds_service.services.cards.card_json import card_source, fit_summary, stable_uuid
from cds_service.services.cards.markdown import escape_inline as md
from cds_service.services.cards.markdown import without_references
from neuroblastoma.case import FactKey
from neuroblastoma.deciding_tests import DecidingTest, tests_for
from neuroblastoma.result_wording import open_outcomes, schema_of
from neuroblastoma.results import Classification, MissingInput

KIND = "missing-data"
WHY_LIMIT = 180


def _candidates(result: Classification) -> list[str]:
    lines = []
    if not result.stage.stage:
        lines.append("INRG stage: " + " or ".join(s.value for s in result.stage.candidates))
    for risk in result.risks:
        if not risk.outcome and not risk.out_of_scope and risk.candidates:
            lines.append(f"{schema_of(risk).title}: {open_outcomes(risk)}")
    return lines


def _clip(text: str) -> str:
    text = without_references(text)
    return text if len(text) <= WHY_LIMIT else text[: WHY_LIMIT - 1].rstrip() + "…"


def requests(result: Classification) -> tuple[tuple[DecidingTest, tuple[MissingInput, ...]], ...]:
    """Each test once, with the missing inputs it supplies (the INRG stage itself is never requested)."""
    missing = [m for m in result.missing if m.fact is not FactKey.STAGE]
    by_fact = {m.fact: m for m in missing}
    return tuple((test, tuple(by_fact[f] for f in facts)) for test, facts in tests_for(m.fact for m in missing))


OBSERVATION = ("**Observation without biopsy** is an accepted approach for this infant (PDQ; Nuchtern 2012, COG "
               "ANBL00P2): the tests on tumour tissue may be deferred, and the risk groups stay open until they are "
               "done (work-up card).")


def missing_data_card(result: Classification, *, call_key: tuple[str, ...], worksheet_link: Link | None = None,
                      observation: bool = False) -> Card | None:
    """``observation``: the infant meets the criteria of observation without biopsy (``workup.small_adrenal_mass``),
    said beside the requests so that a warning to test tumour tissue does not read as a reason to biopsy."""
    needed = requests(result)
    if not needed:
        return None
    what = "Stage" if not result.stage.stage else "Risk group"
    summary = fit_summary(f"{what} cannot be assigned yet: needs {', '.join(test.short for test, _ in needed)}")
    lines = ["**To decide, do or record:**"]
    for test, inputs in needed:
        name = test.name_for(item.fact for item in inputs)
        lines.append(f"- **{md(name)}** ({md(test.who)}): {md(_clip(inputs[0].why))}.")
    candidates = _candidates(result)
    if candidates:
        lines += ["", "**Still possible:** " + md("; ".join(candidates)) + "."]
    if observation:
        lines += ["", OBSERVATION]
    lines += ["", "The service does not guess: until then these results stay open."]
    wants_worksheet = worksheet_link is not None and any(test.idrf_worksheet for test, _ in needed)
    return Card(uuid=stable_uuid(*call_key, KIND), summary=summary, indicator="warning",
                detail="\n".join(lines), source=card_source(),
                links=[worksheet_link] if wants_worksheet and worksheet_link else None)
