"""Several findings for one fact: the most recent final one wins, and disagreement is recorded.

Final (final, amended, corrected) beats preliminary whatever the dates; among equals, the later
effective time (or issued) wins, and a finding without a time is the oldest; a tie goes to the first
in reading order, which is canonical (Conditions before Observations, each by id: resources.gather), never
the order of arrival. When the competitors disagree, a discordance is recorded so the card can say so.

Only findings from valid resources compete, and ``is_valid`` is asked only where the answer can matter:
for the candidates in the order they would win (up to the first valid one), then for each that
disagrees with the winner; never for a superseded finding that agrees with it, which changes nothing.
The winners and discordances are those of the valid findings alone; facts keep the order of their
first findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fhir_mappings.reading.findings import Finding, FindingKey

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Discordance:
    key: str  # the finding key as text: ``mycn``, ``site:liver``
    winner: str
    others: tuple[str, ...]


@dataclass(frozen=True)
class Resolved:
    winners: dict[FindingKey, Finding]
    discordances: tuple[Discordance, ...]


def _rank(finding: Finding) -> tuple[bool, datetime]:
    return (not finding.preliminary, finding.at or _OLDEST)


def resolve(findings: Iterable[Finding], is_valid: Callable[[Finding], bool]) -> Resolved:
    """The winning finding of each fact, and the discordances among valid findings."""
    by_key: dict[FindingKey, list[Finding]] = {}
    for finding in findings:
        by_key.setdefault(finding.key, []).append(finding)
    winners: dict[FindingKey, Finding] = {}
    discordances: list[Discordance] = []
    for key, competing in by_key.items():
        best_first = sorted(competing, key=_rank, reverse=True)  # stable: a tie keeps the (canonical) reading order
        winner = next((finding for finding in best_first if is_valid(finding)), None)
        if winner is None:
            continue
        winners[key] = winner
        disagreeing = [finding.source for finding in competing
                       if finding.value != winner.value and finding.source != winner.source and is_valid(finding)]
        if disagreeing:
            discordances.append(Discordance(str(key), winner.source, tuple(disagreeing)))
    return Resolved(winners, tuple(discordances))
