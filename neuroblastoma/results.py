"""Results and their traces. A trace is data — cards, the CLI and logs all render the same trace.

A ``Classification`` carries one ``StageResult`` per staging system and one ``RiskResult`` per risk
schema, each keyed by its system or schema id (``classification.py`` registers them); every renderer
(card, text summary, FHIR output, audit record, report) loops over them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Generic, TypeVar

from neuroblastoma.case import FactKey


class Stage(Enum):
    """INRGSS stages (Monclair 2009, Table 2)."""

    L1 = "L1"
    L2 = "L2"
    M = "M"
    MS = "MS"


class RiskLevel(Enum):
    VERY_LOW = "very-low"
    LOW = "low"
    INTERMEDIATE = "intermediate"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """Order of severity: very low < low < intermediate < high."""
        return list(RiskLevel).index(self)


@dataclass(frozen=True)
class MissingInput:
    """An input that would decide between the remaining candidates, and why it matters."""

    fact: FactKey
    why: str


def one_per_fact(missing: Iterable[MissingInput]) -> tuple[MissingInput, ...]:
    """One missing input per fact, its distinct reasons joined (several conditions may each need the same fact)."""
    reasons: dict[FactKey, list[str]] = {}
    for item in missing:
        whys = reasons.setdefault(item.fact, [])
        if item.why not in whys:
            whys.append(item.why)
    return tuple(MissingInput(fact, "; ".join(whys)) for fact, whys in reasons.items())


@dataclass(frozen=True)
class RuleWarning:
    """Something a clinician should know about the result: a conflict, a convention, a caveat."""

    code: str
    message: str


@dataclass(frozen=True)
class Trace:
    """Which rule fired (or could fire), on which inputs, citing which published source."""

    rule: str
    citation: str
    decided_by: tuple[FactKey, ...] = ()
    missing: tuple[MissingInput, ...] = ()
    warnings: tuple[RuleWarning, ...] = ()
    steps: tuple[str, ...] = ()
    # The rule(s) in a clinician's words: the matched table rows by their content ("L2, under 18 months,
    # MYCN not amplified"), or, when undecided, each remaining row with its outcome. Empty: see ``steps``.
    basis: tuple[str, ...] = ()
    # Inputs a later step of care supplies (INSS: the operative and pathology findings, known after surgery):
    # expected to be open before then, so named plainly beside the result, never requested as missing data
    # and never a reason for a warning (``StagingSystem.postsurgical``).
    awaiting: tuple[MissingInput, ...] = ()


StageT = TypeVar("StageT", bound=Enum)


@dataclass(frozen=True)
class StageResult(Generic[StageT]):
    """The stage a staging system assigns, or the candidates that remain (``stage`` None)."""

    system: str
    stage: StageT | None
    candidates: tuple[StageT, ...]
    trace: Trace
    ruleset: str

    @property
    def determinate(self) -> bool:
        return self.stage is not None


@dataclass(frozen=True)
class RiskOutcome:
    """One outcome of a risk table: its risk level and, for schemas with lettered groups, the group."""

    risk: RiskLevel
    group: str | None = None


@dataclass(frozen=True)
class RiskResult:
    """A risk schema's result; ``outcome`` is None when indeterminate (see ``candidates``) or out of scope."""

    schema: str
    outcome: RiskOutcome | None
    candidates: tuple[RiskOutcome, ...]
    trace: Trace
    ruleset: str
    out_of_scope: bool = False

    @property
    def risk(self) -> RiskLevel | None:
        return self.outcome.risk if self.outcome else None

    @property
    def group(self) -> str | None:
        return self.outcome.group if self.outcome else None


@dataclass(frozen=True)
class Classification:
    """Every registered staging system and risk schema for one case, computed together (decision 10).

    ``stages`` starts with the INRGSS stage, the one the risk schemas are built on (``stage``).
    """

    patient: str
    stages: tuple[StageResult[Enum], ...]
    risks: tuple[RiskResult, ...]
    ruleset: str
    warnings: tuple[RuleWarning, ...] = ()

    @property
    def stage(self) -> StageResult[Stage]:
        """The INRGSS stage (the first staging system)."""
        return self.stages[0]  # type: ignore[return-value]

    def staging(self, system: str) -> StageResult[Enum]:
        return next(result for result in self.stages if result.system == system)

    def risk(self, schema: str) -> RiskResult:
        return next(result for result in self.risks if result.schema == schema)

    def _traces(self) -> tuple[Trace, ...]:
        return (*(s.trace for s in self.stages), *(r.trace for r in self.risks))

    @property
    def missing(self) -> tuple[MissingInput, ...]:
        """Every missing input across the results, first mention kept."""
        seen: dict[FactKey, MissingInput] = {}
        for trace in self._traces():
            for item in trace.missing:
                seen.setdefault(item.fact, item)
        return tuple(seen.values())

    @property
    def all_warnings(self) -> tuple[RuleWarning, ...]:
        seen: dict[tuple[str, str], RuleWarning] = {}
        for warning in (*(w for trace in self._traces() for w in trace.warnings), *self.warnings):
            seen.setdefault((warning.code, warning.message), warning)
        return tuple(seen.values())
