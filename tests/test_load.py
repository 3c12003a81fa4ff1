"""A minute of load: 50 visitors coming and going at once, then nothing left behind.

The 5-minute run is the benchmark `python -m bench.load` (figure 8); this is the same code, shorter.
"""

from __future__ import annotations

from bench.load import measure
from tests.club import launch

VISITORS = 50
SECONDS = 60


def test_a_crowd_for_a_minute_leaves_nothing_behind() -> None:
    for running in launch(pace=1.0, COMEDY_MAX_SETS="60", COMEDY_KEEP_FILES_SECONDS="15"):
        result = measure(running, VISITORS, SECONDS)
    print(
        f"{VISITORS} visitors for {SECONDS} s: {result['tabs']} tabs, {result['answers']} answers, "
        f"{len(result['errors'])} errors; before {result['before']}; after {result['after']}"
    )
    assert result["errors"] == [], result["errors"][:3]
    assert result["answers"] >= 2 * VISITORS  # every visitor was heard and answered, twice at least
    assert result["most_sets_at_once"] >= 0.8 * VISITORS  # they really were there at once
    assert result["leaks"] == {}, f"left behind: {result['leaks']}"
