"""The age as the card and the app show it: days, and completed calendar months from the dates (day 547 from
1 January is 1 July of the next year, 18 months: the wording must not read "17 months" beside a day-547 warning)."""

from __future__ import annotations

import pytest

from neuroblastoma.ages import PartialDate
from neuroblastoma.case import Case, FactKey
from neuroblastoma.fact_descriptions import fact_value


@pytest.mark.parametrize(("birth", "diagnosis", "expected"), [
    (PartialDate(2024, 1, 1), PartialDate(2025, 7, 1), "547 days (18 months)"),
    (PartialDate(2024, 1, 2), PartialDate(2025, 7, 1), "546 days (17 months)"),
    (PartialDate(2024, 3, 15), PartialDate(2025, 3, 14), "364 days (11 months)"),
    (PartialDate(2024, 3, 15), PartialDate(2025, 3, 15), "365 days (12 months)"),
    (PartialDate(2024, 1, 31), PartialDate(2024, 2, 29), "29 days (1 month)"),  # the month has no 31st
    (PartialDate(2024, 1, 31), PartialDate(2024, 2, 28), "28 days (0 months)"),
])
def test_months_are_completed_calendar_months(birth: PartialDate, diagnosis: PartialDate, expected: str) -> None:
    assert fact_value(Case("p", birth_date=birth, diagnosis_date=diagnosis), FactKey.AGE) == expected


def test_a_day_count_alone_uses_an_average_month() -> None:
    assert fact_value(Case("p", age_days=547), FactKey.AGE) == "547 days (17 months)"
