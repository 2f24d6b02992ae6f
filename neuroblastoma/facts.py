"""Tri-state facts: every finding is present, absent or unknown — never a silent ``None``.

DESIGN.md ("Explicit unknowns"): rules consume these values and return an indeterminate
result naming what is missing instead of defaulting an unknown to either side.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Presence(Enum):
    """Whether a finding is present, absent or not known (not assessed, equivocal, unreported)."""

    PRESENT = "present"
    ABSENT = "absent"
    UNKNOWN = "unknown"

    @property
    def known(self) -> bool:
        return self is not Presence.UNKNOWN

    @classmethod
    def of(cls, value: bool | None) -> Presence:
        if value is None:
            return cls.UNKNOWN
        return cls.PRESENT if value else cls.ABSENT


def any_present(values: Iterable[Presence]) -> Presence:
    """Kleene OR: present if any is present; absent only if all are absent."""
    seen_unknown = False
    for value in values:
        if value is Presence.PRESENT:
            return Presence.PRESENT
        if value is Presence.UNKNOWN:
            seen_unknown = True
    return Presence.UNKNOWN if seen_unknown else Presence.ABSENT


def all_present(values: Iterable[Presence]) -> Presence:
    """Kleene AND: absent if any is absent; present only if all are present."""
    seen_unknown = False
    for value in values:
        if value is Presence.ABSENT:
            return Presence.ABSENT
        if value is Presence.UNKNOWN:
            seen_unknown = True
    return Presence.UNKNOWN if seen_unknown else Presence.PRESENT


def negate(value: Presence) -> Presence:
    if value is Presence.PRESENT:
        return Presence.ABSENT
    if value is Presence.ABSENT:
        return Presence.PRESENT
    return Presence.UNKNOWN
