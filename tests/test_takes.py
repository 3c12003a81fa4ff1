"""Hardening round four: the club's voice takes (previews, openers) are its own lines, made once for
everyone, by open pages only, and never a second upstream session for a visitor whose show is on.

The app runs live on an owner key pointed at the rehearsal server, which counts the sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from comedy.realtime import protocol
from comedy.venue.studio import NO_PAGE, SHOW_ON
from comedy.venue.takes import PREVIEW_LINE
from harness.running import launch
from harness.sets import KEY
from harness.visitor import CHOICES, Visitor, choices

_club = contextlib.contextmanager(launch)
MODEL = "gpt-realtime-2.1"


@pytest.fixture(autouse=True)
def fresh_takes(tmp_path: Path) -> Iterator[Path]:
    """A cache folder of the test's own: every take is still to be made."""
    os.environ["COMEDY_CACHE_DIR"] = str(tmp_path / "cache")
    try:
        yield tmp_path / "cache"
    finally:
        os.environ.pop("COMEDY_CACHE_DIR", None)


async def _peak(server, until: asyncio.Task) -> int:
    """The most sessions the rehearsal server held at once while `until` ran."""
    peak = 0
    while not until.done():
        peak = max(peak, server.open_connections)
        await asyncio.sleep(0.01)
    return max(peak, server.open_connections)


async def test_a_take_asked_for_by_many_at_once_is_made_once() -> None:
    with _club(pace=1.0, key=KEY) as running:
        server = running.rehearsal.server
        visitors = [Visitor(running.url) for _ in range(8)]
        async with contextlib.AsyncExitStack() as stack:
            for visitor in visitors:
                await stack.enter_async_context(visitor)
                await visitor.open_page()
            asked = asyncio.gather(
                *(v.call("audition_one", ["cedar", "dry", MODEL], timeout=60) for v in visitors)
            )
            peak = await _peak(server, asyncio.ensure_future(asked))
            outs = await asked
        assert all("ready" in out[-1] for out in outs)
        assert server.journal.connections == 1 and peak == 1
        said = [a for a in server.journal.asked if PREVIEW_LINE in str(a)]
        assert len(said) == 1  # the club's own line, said once


async def test_a_page_that_never_opened_makes_no_take_and_no_opener() -> None:
    with _club(pace=1.0, key=KEY, COMEDY_OPENERS="1") as running:
        server = running.rehearsal.server
        await asyncio.sleep(0.5)
        async with asyncio.timeout(60):  # the house's own opener, made at start-up
            while running.app.studio.making_takes():
                await asyncio.sleep(0.05)
        before = server.journal.connections
        async with Visitor(running.url, heartbeat=False) as hostile:
            out = await hostile.call("audition_one", ["ash", "dry", MODEL])
            for voice in protocol.VOICES:  # flipping the dropdowns with no page and no show
                await hostile.call("change", ["", *choices(voice=voice, style="dark")])
            await asyncio.sleep(1.0)
        assert out[-1] == NO_PAGE
        assert server.journal.connections == before


async def test_visitors_flipping_the_dropdowns_make_each_opener_once_one_at_a_time() -> None:
    with _club(pace=1.0, key=KEY, COMEDY_OPENERS="1") as running:
        server = running.rehearsal.server
        async with asyncio.timeout(60):
            while running.app.studio.making_takes():
                await asyncio.sleep(0.05)
        before = server.journal.connections
        visitors = [Visitor(running.url) for _ in range(3)]
        async with contextlib.AsyncExitStack() as stack:
            for visitor in visitors:
                await stack.enter_async_context(visitor)
                await visitor.open_page()

            async def flip(visitor: Visitor) -> None:
                for voice in protocol.VOICES:
                    await visitor.call("change", ["", *choices(voice=voice, style="absurd")])
                    await asyncio.sleep(0.3)

            peak = await _peak(server, asyncio.ensure_future(asyncio.gather(*map(flip, visitors))))
            async with asyncio.timeout(60):
                while running.app.studio.making_takes():
                    await asyncio.sleep(0.05)
        assert peak <= len(visitors)  # one opener at a time per visitor
        assert server.journal.connections - before <= len(protocol.VOICES)  # each made once, for everyone


async def test_a_visitor_whose_show_is_on_makes_no_second_session() -> None:
    with _club(pace=1.0, key=KEY) as running:
        server = running.rehearsal.server
        async with Visitor(running.url) as visitor:
            await visitor.open_page()
            await visitor.call("start", CHOICES, timeout=60)
            out = await visitor.call("audition_one", ["verse", "dry", MODEL])
            assert out[-1] == SHOW_ON and server.open_connections == 1
            await visitor.call("end", [])
            out = await visitor.call("audition_one", ["verse", "dry", MODEL], timeout=60)
            assert "ready (new take)" in out[-1]
