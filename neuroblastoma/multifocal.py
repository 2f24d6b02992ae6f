"""Synchronous multifocal primaries: findings tied to one primary, and those no record ties to one.

Monclair 2009 (Table 1 footnote, Table 2): multifocal primaries are recorded, each is staged and the
greatest extent is reported. The reader ties an IDRF, an overall IDRF call or an extension to its primary by
``Observation.focus`` (the primary's Observation or Condition) or, failing that, by body site and side;
what stays untied is ``Case.unattributed``, and the rules here consider every primary it could belong to.
A finding whose attribution would change the answer leaves the result undetermined and names the
attribution it needs (``FactKey.ATTRIBUTION``); never a silent choice (docs/clinical-rules.md).
"""

from __future__ import annotations

from dataclasses import replace

from neuroblastoma.assessments import ABSENT, L2_DECIDES, PRESENT, UNKNOWN, Assessment, cited
from neuroblastoma.case import Case, FactKey, PrimaryTumour
from neuroblastoma.extension import ExtensionReading, read_unattributed_extension
from neuroblastoma.facts import Presence, any_present
from neuroblastoma.idrf import IdrfAssessment, assess_idrf
from neuroblastoma.results import MissingInput

# The start of the missing input "an overall IDRF call for <primary> ...": replaced by the attribution
# needed when a "no IDRF" call is on record but not tied to a primary.
OVERALL_CALL_NEEDED = "an overall IDRF call for"


def is_conditional(reading: ExtensionReading) -> bool:
    """Distant, or else IDRF-01: decided only once distant disease is."""
    return reading.distant is UNKNOWN and reading.ipsilateral_spread is PRESENT


def idrf_step(assessment: IdrfAssessment) -> str:
    """E.g. "IDRF-15 present: contact with the renal vessels counts (Brisse 2011) [Observation/1]"."""
    flag = " (conflict)" if assessment.conflict else ""
    return cited(f"{assessment.code.value} {assessment.presence.value}{flag}: {assessment.reason}",
                 assessment.source)


def with_overall_call(case: Case, primary: PrimaryTumour) -> PrimaryTumour:
    """A primary without a call of its own takes the overall "no IDRF on any primary" call."""
    overall = case.idrf_all_primaries
    if primary.idrf_summary.known or overall.presence is not ABSENT:
        return primary
    return replace(primary, idrf_summary=ABSENT, idrf_summary_source=overall.source)


def unattributed_idrfs(case: Case) -> Assessment:
    """What IDRF findings not tied to one of several primaries, and the call "an IDRF on at least one
    primary", say about the greatest extent (Monclair 2009 Table 2: L2 if any primary has an IDRF):

    - an IDRF present (or the call present) counts, whichever primary it belongs to;
    - one in doubt leaves the extent undecided unless a primary already has an IDRF (read as every
      primary's: the same conclusion as trying each primary in turn);
    - one absent, or a "no IDRF" call, decides nothing for any one primary: each needs its own call, or
      the overall call "no IDRF on any primary" (``Case.idrf_all_primaries``).
    An extension is read as each primary's (extension.read_unattributed_extension)."""
    unattributed = case.unattributed
    values: list[Presence] = []
    steps: list[str] = []
    missing: list[MissingInput] = []
    need = ("tie it to its primary (Observation.focus → the primary's Observation or Condition, or its body "
            f"site and side), or record the overall call 'no IDRF on any primary': {L2_DECIDES}")
    if case.idrf_all_primaries.presence is PRESENT:
        values.append(PRESENT)
        steps.append(cited("IDRF on at least one primary (overall call)", case.idrf_all_primaries.source))
    for finding in unattributed.idrfs:
        assessment = assess_idrf(finding)
        if assessment.presence is not ABSENT:
            values.append(assessment.presence)
        steps.append(f"{idrf_step(assessment)}; not tied to one primary")
        if assessment.presence is UNKNOWN:
            where = finding.source or "IDRF report"
            missing.append(MissingInput(FactKey.IDRF, f"{assessment.code.value} undecided ({where}, not tied to "
                                                      f"one primary): {L2_DECIDES}"))
    for call in unattributed.idrf_calls:
        if call.presence is PRESENT:
            values.append(PRESENT)
        steps.append(cited(f"Overall IDRF call {call.presence.value}, not tied to one primary", call.source))
        if call.presence is ABSENT:
            missing.append(MissingInput(FactKey.ATTRIBUTION, f"the 'no IDRF' call {call.source or ''} is not tied "
                                                             f"to one primary: {need}"))
    for extension in unattributed.extensions:
        reading = read_unattributed_extension(case.primaries, extension)
        if is_conditional(reading) or (reading.distant is not PRESENT and reading.ipsilateral_spread is PRESENT):
            values.append(PRESENT)
        elif reading.distant is not PRESENT and reading.ipsilateral_spread is UNKNOWN:
            values.append(UNKNOWN)
            missing.append(MissingInput(FactKey.ATTRIBUTION, f"which primary the tumour in the "
                                                             f"{extension.compartment.value} belongs to: {L2_DECIDES}"))
    presence = any_present(values) if values else ABSENT
    decided = (FactKey.IDRF,) if presence is PRESENT else ()
    return Assessment(presence, tuple(steps), decided, tuple(missing))
