"""A tri-state conclusion with the reasoning that led to it: the unit the staging rules are built from.

Every conclusion is a ``Presence`` (present, absent, unknown) with its steps, the facts that decided it,
the inputs still missing and any warnings; an unknown input gives an unknown conclusion that names the
input as missing, never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from neuroblastoma.case import FactKey
from neuroblastoma.facts import Presence
from neuroblastoma.results import MissingInput, RuleWarning

PRESENT, ABSENT, UNKNOWN = Presence.PRESENT, Presence.ABSENT, Presence.UNKNOWN
T = TypeVar("T")

# Product decision 8; Brisse 2011: "a solitary, equivocal focus ... must be confirmed with additional
# imaging or biopsy".
EQUIVOCAL_NOTE = "single equivocal focus: needs confirmation by other imaging or biopsy"
L2_DECIDES = "an IDRF decides L2 versus L1 (Monclair 2009 Table 2)"
DISTANT_DECIDES = "it decides localized (L1/L2) versus metastatic (M/MS) disease"


@dataclass(frozen=True)
class Assessment:
    """A tri-state conclusion with the reasoning that led to it, ready to merge into a trace."""

    presence: Presence
    steps: tuple[str, ...] = ()
    decided_by: tuple[FactKey, ...] = ()
    missing: tuple[MissingInput, ...] = ()
    warnings: tuple[RuleWarning, ...] = ()


def cited(text: str, source: str | None) -> str:
    """A reasoning line with the FHIR resource it rests on, when known."""
    return f"{text} [{source}]" if source else text


def unique(items: Iterable[T]) -> tuple[T, ...]:
    """The items in order, without repeats."""
    return tuple(dict.fromkeys(items))
