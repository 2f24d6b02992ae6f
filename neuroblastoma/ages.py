"""Age at diagnosis, counted in whole days, with the precision the record allows.

Product decision 1 (clinical-rules.md): age is counted in whole days from the birth date to
the date of diagnosis; a year- or month-precision date becomes an interval of possible ages,
and a threshold that falls inside the interval makes the age-dependent result indeterminate.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from functools import cache

# Age thresholds, in days. Sources: Monclair 2009 (JCO 27:298) and Cohn 2009 (JCO 27:289) chose
# 18 months; PDQ Neuroblastoma Treatment (HP, 2025) COG text counts "365 days to younger than 547
# days"; Brisse 2011 gives "younger than 18 months (547 days)". Day 547 counts as 18 months or older
# (clinical-rules.md §1.3; the INSS-era "<548 d" convention is not used).
DAYS_12_MONTHS = 365
DAYS_18_MONTHS = 547


class AgeBand(Enum):
    """The three age bands both risk schemas use."""

    UNDER_12_MONTHS = "<12 months"
    FROM_12_TO_18_MONTHS = "12 to <18 months"
    FROM_18_MONTHS = ">=18 months"


@dataclass(frozen=True, order=True)
class PartialDate:
    """A calendar date that may be known only to the year or month (FHIR date precision)."""

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.month is None and self.day is not None:
            raise ValueError("a day needs a month")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} out of range")
        if self.day is not None:
            date(self.year, self.month or 1, self.day)  # raises ValueError on an impossible day

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (a FHIR date, or the date part of a dateTime)."""
        parts = text.strip()[:10].split("-")
        if not parts[0].isdigit() or len(parts[0]) != 4 or len(parts) > 3:
            raise ValueError(f"not a date: {text!r}")
        numbers = [int(part) for part in parts]
        return cls(*numbers)

    @classmethod
    def from_date(cls, value: date) -> PartialDate:
        return cls(value.year, value.month, value.day)

    @property
    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> date:
        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return date(self.year, month, day)

    @property
    def is_exact(self) -> bool:
        return self.day is not None

    def __str__(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class AgeAtDiagnosis:
    """The possible ages at diagnosis in days, ``min_days`` to ``max_days`` inclusive."""

    min_days: int
    max_days: int

    def __post_init__(self) -> None:
        if self.min_days < 0 or self.max_days < self.min_days:
            raise ValueError(f"impossible age interval {self.min_days}..{self.max_days} days")

    @classmethod
    def exact(cls, days: int) -> AgeAtDiagnosis:
        return cls(days, days)

    @classmethod
    def between(cls, birth: PartialDate, diagnosis: PartialDate) -> AgeAtDiagnosis:
        """Every age consistent with the two dates; raises ValueError if diagnosis precedes birth."""
        shortest = (diagnosis.earliest - birth.latest).days
        longest = (diagnosis.latest - birth.earliest).days
        if longest < 0:
            raise ValueError(f"diagnosis date {diagnosis} is before birth date {birth}")
        return cls(max(shortest, 0), longest)

    @property
    def is_exact(self) -> bool:
        return self.min_days == self.max_days

    def possible_bands(self) -> frozenset[AgeBand]:
        """The age bands this interval touches; one band when the age decides, several when not."""
        bands = set()
        if self.min_days < DAYS_12_MONTHS:
            bands.add(AgeBand.UNDER_12_MONTHS)
        if self.min_days < DAYS_18_MONTHS and self.max_days >= DAYS_12_MONTHS:
            bands.add(AgeBand.FROM_12_TO_18_MONTHS)
        if self.max_days >= DAYS_18_MONTHS:
            bands.add(AgeBand.FROM_18_MONTHS)
        return frozenset(bands)

    def __str__(self) -> str:
        if self.is_exact:
            return f"{self.min_days} days"
        return f"{self.min_days}–{self.max_days} days"


ALL_AGE_BANDS = frozenset(AgeBand)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@cache
def calendar_months_in_days(months: int) -> tuple[int, int]:
    """The fewest and most days ``months`` calendar months can span, over every birth date of eight years (two
    leap cycles), e.g. 6 months: 181 to 184 days."""
    start = date(2000, 1, 1)
    spans = {(add_months(start + timedelta(days), months) - (start + timedelta(days))).days
             for days in range(8 * 366)}
    return min(spans), max(spans)


def younger_than_months(birth: PartialDate | None, diagnosis: PartialDate | None, age: AgeAtDiagnosis | None,
                        months: int) -> bool | None:
    """Younger than ``months`` calendar months at diagnosis, counted from the birth date (the sources give these
    thresholds in months only: "younger than 6 months", "younger than 3 months"; no day constant exists). With
    exact dates it is decided; with an age in days, only when the age lies outside every span ``months`` calendar
    months can have; otherwise None (undecided)."""
    if birth is not None and diagnosis is not None and birth.is_exact and diagnosis.is_exact:
        return diagnosis.earliest < add_months(birth.earliest, months)
    if age is None:
        return None
    fewest, most = calendar_months_in_days(months)
    if age.max_days < fewest:
        return True
    if age.min_days >= most:
        return False
    return None
