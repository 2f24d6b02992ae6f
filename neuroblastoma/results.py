"""Results and their traces. A trace is data — cards, the CLI and logs all render the same trace."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

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
        return _RISK_RANK[self]


_RISK_RANK = {RiskLevel.VERY_LOW: 0, RiskLevel.LOW: 1, RiskLevel.INTERMEDIATE: 2, RiskLevel.HIGH: 3}


@dataclass(frozen=True)
class MissingInput:
    """An input that would decide between the remaining candidates, and why it matters."""

    fact: FactKey
    why: str


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


@dataclass(frozen=True)
class StageResult:
    stage: Stage | None
    candidates: tuple[Stage, ...]
    trace: Trace
    ruleset: str

    @property
    def determinate(self) -> bool:
        return self.stage is not None


@dataclass(frozen=True)
class Inrg2009Outcome:
    group: str
    risk: RiskLevel


@dataclass(frozen=True)
class Inrg2009Result:
    """INRG 2009 pretreatment group (A–R) and risk; ``outcome`` is None when indeterminate or out of scope."""

    outcome: Inrg2009Outcome | None
    candidates: tuple[Inrg2009Outcome, ...]
    trace: Trace
    ruleset: str
    out_of_scope: bool = False

    @property
    def group(self) -> str | None:
        return self.outcome.group if self.outcome else None

    @property
    def risk(self) -> RiskLevel | None:
        return self.outcome.risk if self.outcome else None


@dataclass(frozen=True)
class Cog2021Result:
    """COG 2021 risk group; ``risk`` is None when indeterminate or out of scope."""

    risk: RiskLevel | None
    candidates: tuple[RiskLevel, ...]
    trace: Trace
    ruleset: str
    out_of_scope: bool = False


@dataclass(frozen=True)
class Classification:
    """Stage and both risk schemas for one case, computed together (product decision 10)."""

    patient: str
    stage: StageResult
    inrg2009: Inrg2009Result
    cog2021: Cog2021Result
    ruleset: str
    warnings: tuple[RuleWarning, ...] = ()

    @property
    def missing(self) -> tuple[MissingInput, ...]:
        """Every missing input across the three results, first mention kept."""
        seen: dict[FactKey, MissingInput] = {}
        for trace in (self.stage.trace, self.inrg2009.trace, self.cog2021.trace):
            for item in trace.missing:
                seen.setdefault(item.fact, item)
        return tuple(seen.values())

    @property
    def all_warnings(self) -> tuple[RuleWarning, ...]:
        seen: dict[tuple[str, str], RuleWarning] = {}
        for warning in (*self.stage.trace.warnings, *self.inrg2009.trace.warnings,
                        *self.cog2021.trace.warnings, *self.warnings):
            seen.setdefault((warning.code, warning.message), warning)
        return tuple(seen.values())
