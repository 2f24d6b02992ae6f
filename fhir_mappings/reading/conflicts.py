"""Several findings for one fact: the most recent final one wins, and disagreement is recorded.

Final (final, amended, corrected) beats preliminary whatever the dates; among equals, the later
effective time (or issued) wins, and a finding without a time is the oldest. When the competitors
disagree, a discordance is recorded so the card can say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from fhir_mappings.reading.findings import Finding

_OLDEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Discordance:
    key: str
    winner: str
    others: tuple[str, ...]


@dataclass(frozen=True)
class Resolved:
    winners: dict[str, Finding]
    discordances: tuple[Discordance, ...]


def _rank(finding: Finding) -> tuple[bool, datetime]:
    return (not finding.preliminary, finding.at or _OLDEST)


def resolve(findings: Iterable[Finding]) -> Resolved:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.key, []).append(finding)
    winners: dict[str, Finding] = {}
    discordances: list[Discordance] = []
    for key, group in groups.items():
        if len(group) == 1:  # reported once: nothing to choose, nobody to disagree
            winners[key] = group[0]
            continue
        winner = max(group, key=_rank)
        winners[key] = winner
        disagreeing = [f.source for f in group if f.value != winner.value and f.source != winner.source]
        if disagreeing:
            discordances.append(Discordance(key, winner.source, tuple(disagreeing)))
    return Resolved(winners, tuple(discordances))
