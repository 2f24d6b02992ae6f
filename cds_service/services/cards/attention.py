"""What needs a clinician's attention first, ranked: the top of the stage and risk card, and its indicator.

Every warning of the classification and every note of the mapper is rendered here generically (a warning
another module adds flows into the card without a line here); only the ranking knows a few kinds:

| rank | situation | indicator |
|---|---|---|
| 0 | conflicting reports decide an input (a discordance on a deciding input, or a ``conflict-*`` warning) | warning |
| 1 | the risk schemas disagree (``schemas-disagree``), or the sources do (``sources-disagree-*``) | warning |
| 2 | a preliminary result decides the stage or a risk group | warning |
| 3 | the stage or a risk group is not decided yet (the missing-data card says what to do) | warning |
| 4 | a data-quality problem that could change a result: records skipped as invalid FHIR, a mapper note | warning |
| 5 | practice guidance (``unstable-ms-infant-practice``): beside an open result (rank 3); changes no result | info |
| 6 | a rule's note (a convention applied, a caveat); records about another patient, ignored | info |
| 7 | a preliminary or contested result that decides nothing | info |

With nothing ranked 0–4 the card is ``info``: a complete result on final data, schemas agreeing. The disease
itself (high risk) does not raise the indicator: it tells how much the *result* needs checking, which is what a
clinician can act on. ``critical`` is never used: patient-view guidance is not interruptive.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from cds_service.services.cards.markdown import escape_inline, without_references
from cds_service.services.evidence import CaseEvidence
from fhir_mappings.reading.case_reader import CaseReading
from neuroblastoma.case import FactKey
from neuroblastoma.classification import STAGING_SYSTEMS
from neuroblastoma.deciding_tests import tests_for
from neuroblastoma.fact_descriptions import fact_label, recorded_inputs
from neuroblastoma.result_wording import schema_of
from neuroblastoma.results import Classification, RuleWarning, Trace

Indicator = Literal["info", "warning"]
WARNING_RANKS = 4  # ranks 0..4 make the card a warning


@dataclass(frozen=True)
class Attention:
    """One thing to check: ``headline`` fits in a summary, ``text`` is one markdown line of the detail."""

    rank: int
    headline: str
    text: str

    @property
    def indicator(self) -> Indicator:
        return "warning" if self.rank <= WARNING_RANKS else "info"


def _result_names(result: Classification) -> list[tuple[str, Trace]]:
    names: list[tuple[str, Trace]] = [
        (STAGING_SYSTEMS.get(stage.system).stage_label if index else "the stage", stage.trace)
        for index, stage in enumerate(result.stages)]
    names += [(schema_of(risk).title, risk.trace) for risk in result.risks]
    return names


def _decides(result: Classification, fact: FactKey) -> list[str]:
    """Which results an input decides: ``the stage``, ``COG 2021``."""
    return list(dict.fromkeys(name for name, trace in _result_names(result)
                              if fact in recorded_inputs(trace.decided_by)))


# Practice guidance: what is done in this situation while a result is open (its source in the message).
PRACTICE_GUIDANCE = {"unstable-ms-infant-practice": "practice guidance"}


def _warning_item(warning: RuleWarning) -> Attention:
    text = escape_inline(without_references(warning.message))
    if warning.code == "schemas-disagree":
        text = text.removeprefix("The schemas disagree: ")
        return Attention(1, "schemas disagree", f"**Schemas disagree:** {text} Your protocol says which applies.")
    if warning.code.startswith("sources-disagree"):  # issue 18: another published reading gives another result
        return Attention(1, "sources disagree", f"**Sources disagree:** {text}")
    if warning.code.startswith("conflict"):
        return Attention(0, "conflicting reports", f"**Conflicting reports.** {text}")
    if warning.code in PRACTICE_GUIDANCE:
        text = text.removeprefix("Practice guidance ")
        return Attention(5, PRACTICE_GUIDANCE[warning.code], f"**Practice guidance** {text}")
    return Attention(6, "see notes", f"Note: {text}")


def _input_items(result: Classification, evidence: CaseEvidence) -> list[Attention]:
    items = []
    for fact in recorded_inputs(item.fact for item in evidence.case.evidence):
        found = evidence.of(fact)
        if not (found.preliminary or found.contested):
            continue
        label = fact_label(fact)
        when = f" ({found.date})" if found.date else ""
        decides = _decides(result, fact)
        if found.contested and decides:
            items.append(Attention(0, f"conflicting {label} reports",
                                   f"**Conflicting reports.** {escape_inline(label)}: reports disagree; the one used"
                                   f"{when} is the latest final one. It decides {', '.join(decides)}: check "
                                   "which is right."))
        if found.preliminary and decides:
            items.append(Attention(2, f"{label} preliminary",
                                   f"**Preliminary result decides.** {escape_inline(label)}{when} is preliminary "
                                   f"and decides {', '.join(decides)}: confirm it before acting."))
        if (found.preliminary or found.contested) and not decides:
            items.append(Attention(7, "see notes", f"Note: {escape_inline(label)}{when} is "
                                                   f"{'preliminary' if found.preliminary else 'contested'} "
                                                   f"but decides nothing here."))
    return items


def _undecided_item(result: Classification) -> list[Attention]:
    open_results = list(dict.fromkeys(name for name, trace in _result_names(result) if trace.missing))
    if not result.missing or not open_results:
        return []
    needed = tests_for(m.fact for m in result.missing if m.fact is not FactKey.STAGE)
    headline = f"needs {needed[0][0].short}" if needed else "not decided yet"
    return [Attention(3, headline,
                      f"**Not decided yet:** {', '.join(open_results)}. The next card says what is needed.")]


def _data_items(reading: CaseReading) -> list[Attention]:
    report = reading.report
    items = []
    if report.invalid:
        items.append(Attention(4, "records skipped", f"**Data problem.** {len(report.invalid)} record(s) were "
                                                    "skipped as invalid FHIR; the app lists them."))
    if report.other_patients:
        items.append(Attention(6, "see notes", f"Note: {len(report.other_patients)} record(s) about another "
                                               "patient were ignored."))
    items += [Attention(4, "check the data", f"**Data problem.** {escape_inline(without_references(note))}.")
              for note in report.notes]
    return items


def attention_items(result: Classification, reading: CaseReading, evidence: CaseEvidence) -> list[Attention]:
    """Everything to check, most important first (stable within a rank), without repeats."""
    items = [*_input_items(result, evidence), *(_warning_item(w) for w in result.all_warnings),
             *_undecided_item(result), *_data_items(reading)]
    unique = list({item.text: item for item in items}.values())
    return sorted(unique, key=lambda item: item.rank)


def indicator_of(items: list[Attention]) -> Indicator:
    return "warning" if any(item.indicator == "warning" for item in items) else "info"
