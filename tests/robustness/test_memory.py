"""No request content retained: a worker's memory under calls carrying different 1 MB invalid values (issue 16,
finding 2).

The suite's run is shorter than ``python -m soak.memory`` (1,000 calls, docs/reliability.md) but still
decisive: before the fix 300 such calls grew a worker by about 290 MiB, each call retaining its value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from soak.memory import BUDGET_MIB, measure

pytestmark = pytest.mark.integration

CALLS = 400


def test_a_worker_keeps_nothing_of_the_calls_it_answered(tmp_path: Path) -> None:
    figures = measure(tmp_path, calls=CALLS, warmup=30)
    print(figures.render())
    assert figures.statuses == {200: CALLS + 30}
    assert figures.largest_body < 64 * 1024  # the 1 MB value is not echoed into the card
    assert figures.growth_mib <= BUDGET_MIB, figures.render()
