"""A small crowd coming and going at once, then nothing left behind.

The crowd of 50 for 5 minutes is the benchmark `python -m bench.load` (figure 8): how a crowd that
size fares depends on the machine, so it is measured there, not asserted here. This is the same
code with 8 visitors for 20 s, asserting only what holds on a busy machine too: every tab heard and
answered, no errors, nothing left behind.
"""

from __future__ import annotations

import asyncio

import pytest

from app import session_capacity
from bench.load import measure
from bench.visitors import CHOICES
from harness.running import launch
from harness.visitor import Visitor

VISITORS = 8
SECONDS = 20


@pytest.mark.parametrize("path", ["engine", "gradio"])
def test_a_crowd_leaves_nothing_behind(path: str) -> None:
    for running in launch(pace=1.0, COMEDY_MAX_SETS="60", COMEDY_KEEP_FILES_SECONDS="15"):
        result = measure(running, VISITORS, SECONDS, path=path)
    print(
        f"{VISITORS} visitors for {SECONDS} s: {result['tabs']} tabs, {result['answers']} answers, "
        f"{len(result['errors'])} errors; before {result['before']}; after {result['after']}"
    )
    assert result["errors"] == [], result["errors"][:3]
    assert result["answers"] >= 2 * VISITORS  # every visitor was heard and answered, twice at least
    assert result["most_sets_at_once"] >= 2  # they really were there at once
    assert result["leaks"] == {}, f"left behind: {result['leaks']}"


def test_page_state_is_bounded_and_an_open_set_outlives_its_eviction() -> None:
    """Gradio would keep every session's page state for an hour, up to 10,000 of them."""
    capacity = session_capacity(2)

    async def crowd(url: str) -> str:
        async with Visitor(url) as regular:
            await regular.call("start", CHOICES)
            for _ in range(2 * capacity):  # tabs that come, do something, and go
                async with Visitor(url) as passer_by:
                    await passer_by.call("end", [])
            return (await regular.call("end", []))[0]

    for running in launch(pace=1.0, COMEDY_MAX_SETS="2"):
        status = asyncio.run(crowd(running.url))
        held = len(running.demo.state_holder.session_data)
    assert held <= capacity
    assert "The set is over" in status  # the regular's set was still there to end
