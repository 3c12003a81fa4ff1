"""Hardening round four: no client holds the queue. The page's long-lived streams live for an open
page (its heartbeat) and a show only, one per page, and the presses always have slots of their own.

Each test drives the app launched on a free port, as anyone can, through Gradio's own protocol.
"""

from __future__ import annotations

import asyncio
import contextlib

from harness.running import launch
from harness.visitor import CHOICES, Visitor

_club = contextlib.contextmanager(launch)


async def _completed(visitor: Visitor, event_id: str, timeout: float = 30) -> dict:
    return await visitor.wait_for(event_id, "process_completed", timeout)


async def test_one_session_holding_every_slot_of_the_queue_locks_nobody_out() -> None:
    with _club(pace=0, COMEDY_MAX_SETS="2") as running:
        slots = running.demo.max_threads
        hostile = Visitor(running.url, heartbeat=False)  # no page: nothing tells the app it left
        await hostile.__aenter__()
        try:
            for _ in range(slots + 5):
                await hostile.updates()
            async with Visitor(running.url) as visitor:
                status = (await visitor.call("start", CHOICES, timeout=30))[0]
                assert "Rehearsal mode" in status
        finally:
            await hostile.__aexit__()
        async with Visitor(running.url) as late:  # and once it has gone
            assert "Rehearsal mode" in (await late.call("start", CHOICES, timeout=30))[0]


async def test_a_stream_for_a_page_that_never_opened_ends() -> None:
    with _club(pace=0) as running:
        async with Visitor(running.url, heartbeat=False) as hostile:
            ended = await _completed(hostile, await hostile.updates())
        assert ended["success"]
        assert running.app.pages.streams() == 0


async def test_a_stream_with_no_show_to_follow_ends() -> None:
    with _club(pace=0) as running:
        async with Visitor(running.url) as idle:
            await idle.open_page()
            assert (await _completed(idle, await idle.updates()))["success"]
        assert running.app.pages.streams() == 0


async def test_a_page_holds_one_stream_of_its_show_the_newest() -> None:
    with _club(pace=0) as running:
        async with Visitor(running.url) as visitor:
            await visitor.open_page()
            first = await visitor.updates()
            await visitor.call("start", CHOICES)
            second = await visitor.updates()
            await _completed(visitor, first)  # replaced: it ends
            assert running.app.pages.streams() == 1
            assert not any(m.get("msg") == "process_completed" for m in visitor.messages[second])
            await visitor.call("end", [])
            await _completed(visitor, second)  # the newest follows the show to its end card
        assert "scorecard" in str(visitor.messages[second])


async def test_a_stream_ends_when_its_page_goes() -> None:
    with _club(pace=0) as running:
        visitor = Visitor(running.url)
        await visitor.__aenter__()
        await visitor.open_page()
        await visitor.call("start", CHOICES)
        await visitor.updates()
        async with asyncio.timeout(30):
            while running.app.pages.streams() != 1:
                await asyncio.sleep(0.05)
        await visitor.__aexit__()  # the tab closes: its heartbeat goes
        async with asyncio.timeout(30):
            while running.app.pages.streams() or visitor.session_hash in running.app.pages:
                await asyncio.sleep(0.05)
