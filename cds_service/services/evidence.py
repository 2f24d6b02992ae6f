"""Where each input of a case came from, as a clinician needs it: its date, and whether it is preliminary or
contested. The card and the app show these; FHIR ids stay in the app and in ``derivedFrom``.

Built from the mapper's reading (``case.evidence``: which resources gave each fact; the report's preliminary
and discordant results) and the resources themselves (their effective dates).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fhir_mappings.reading.case_reader import CaseReading
from fhir_mappings.reading.resources import gather, reference_of
from fhir_mappings.reading.values import observed_at
from neuroblastoma.case import Case, FactKey
from neuroblastoma.fact_descriptions import recorded_inputs


def _resource_date(resource: dict[str, Any]) -> str | None:
    """The date a resource's finding applies to: effective[x] (else issued); a Condition's onset (else
    recordedDate). ``YYYY-MM-DD`` or the precision the record has."""
    if resource.get("resourceType") == "Condition":
        for key in ("onsetDateTime", "recordedDate"):
            value = resource.get(key)
            if isinstance(value, str) and value[:4].isdigit():
                return value[:10]
        return None
    try:
        when = observed_at(resource)
    except (ValueError, TypeError):
        return None
    return when.date().isoformat() if when is not None else None


@dataclass(frozen=True)
class InputEvidence:
    """One input as the card shows it: the sources' latest date, preliminary and contested flags."""

    fact: FactKey
    sources: tuple[str, ...]
    date: str | None
    preliminary: bool
    contested: bool


@dataclass(frozen=True)
class CaseEvidence:
    """Dates, preliminary and contested sources of one reading."""

    case: Case
    dates: dict[str, str] = field(default_factory=dict)
    preliminary: frozenset[str] = frozenset()
    contested: dict[str, int] = field(default_factory=dict)  # winning source → number of reports it beat
    invalid: int = 0
    notes: tuple[str, ...] = ()

    def of(self, fact: FactKey) -> InputEvidence:
        sources = self.case.sources_of(fact)
        dates = [self.dates[ref] for ref in sources if ref in self.dates]
        return InputEvidence(fact, sources, max(dates) if dates else None,
                             any(ref in self.preliminary for ref in sources),
                             any(ref in self.contested for ref in sources))

    def inputs(self, facts: Iterable[FactKey]) -> tuple[InputEvidence, ...]:
        """The recorded inputs behind ``facts``, in reading order."""
        return tuple(self.of(fact) for fact in recorded_inputs(facts))


def case_evidence(reading: CaseReading, resources: Iterable[Any]) -> CaseEvidence:
    gathered = gather(resources)
    dates = {}
    for bucket in gathered.by_type.values():
        for resource in bucket:
            date = _resource_date(resource)
            if date:
                dates[reference_of(resource)] = date
    report = reading.report
    contested = {d.winner: len(d.others) for d in report.discordances}
    return CaseEvidence(reading.case, dates, frozenset(report.preliminary), contested, len(report.invalid),
                        tuple(report.notes))
