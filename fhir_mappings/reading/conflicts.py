"""Several findings for one fact: the most recent final one wins, and disagreement is recorded.

Final (final, amended, corrected) beats preliminary whatever the dates; among equals, the later
effective time (or issued) wins, and a finding without a time is the oldest. When the competitors
disagree, a discordance is recorded so the card can say so.

Only usable findings compete, and ``usable`` (the case reader's validation) is asked lazily: for the
candidates in the order they would win, and for the ones that disagree with the winner; never for a
superseded finding that agrees with it. Such a finding changes nothing, and validating it would cost
more than everything else the reader does (a chart repeats the same findings over the years). Winners
and discordances are those of the usable findings alone; facts keep the order of their first findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


def _always(_finding: Finding) -> bool:
    return True


def resolve(findings: Iterable[Finding], usable: Callable[[Finding], bool] = _always) -> Resolved:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.key, []).append(finding)
    winners: dict[str, Finding] = {}
    discordances: list[Discordance] = []
    for key, group in groups.items():
        if len(group) == 1:  # reported once: nothing to choose, nobody to disagree
            if usable(group[0]):
                winners[key] = group[0]
            continue
        # Best first; the sort is stable, so equals keep their order and the first usable one is what
        # max() would pick among the usable findings alone.
        winner = next((f for f in sorted(group, key=_rank, reverse=True) if usable(f)), None)
        if winner is None:
            continue
        winners[key] = winner
        disagreeing = [f.source for f in group if f.value != winner.value and f.source != winner.source and usable(f)]
        if disagreeing:
            discordances.append(Discordance(key, winner.source, tuple(disagreeing)))
    return Resolved(winners, tuple(discordances))
