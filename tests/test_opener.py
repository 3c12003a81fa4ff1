"""The show starts at once: a cached opener per voice and style plays the moment the visitor
presses Start, while the session connects, and the set carries on from it."""

from __future__ import annotations

import asyncio
import contextlib

from comedy import prompts
from comedy.venue.audition import Audition
from harness.engine_client import EngineClient
from harness.running import launch
from harness.sets import KEY
from harness.visitor import CHOICES, Visitor, choices

_club = contextlib.contextmanager(launch)


async def _until(check, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def test_rehearsal_plays_every_voice_and_styles_opener_on_its_first_start() -> None:
    with _club(pace=1.0, COMEDY_OPENERS="1") as running:
        async with Visitor(running.url) as first:
            await first.call("start", choices(style="dry", voice="sage"))  # nobody started this one yet
            comedy_set = running.app.club.sets[first.session_hash]
            line = comedy_set.stage.transcript[0]  # there the moment Start returns
            assert line.note == "opener" and line.text == prompts.opener("dry")
            await first.call("end", [])


async def test_a_live_start_with_no_opener_ready_is_not_silent_the_session_greets() -> None:
    with _club(pace=1.0, key=KEY, COMEDY_OPENERS="1") as running:
        async with Visitor(running.url) as first:
            await first.call("start", choices(style="dry"))  # no opener made for this style yet
            comedy_set = running.app.club.sets[first.session_hash]
            said = lambda: [t for t in comedy_set.stage.transcript if t.role == "assistant" and t.text]  # noqa: E731
            line = prompts.opener("dry")
            await _until(lambda: said() and said()[0].text.strip() == line, timeout=30)  # unasked
            assert said()[0].note != "opener"  # said by the session, not played from the cache
            await first.call("end", [])


async def test_a_cached_opener_plays_before_the_session_speaks_and_the_set_carries_on_from_it() -> None:
    with _club(pace=1.0, key=KEY, COMEDY_OPENERS="1") as running:
        server = running.rehearsal.server
        # the default voice and style's opener is made at start-up, for the day's first Start
        model = running.app.settings.model
        where = running.app.endpoint("the-house", model)
        auditions = Audition(where.url, where.key, model, where.url)
        take = auditions.path_for("marin", "witty", prompts.opener("witty"))
        await _until(take.exists, timeout=60)
        async with Visitor(running.url) as second:
            engine = await EngineClient(second).open()  # the page's socket, opened by the click
            engine.play()
            await second.call("tell", ["airports", *CHOICES])  # Start and a topic at once
            await engine.until(lambda: len(engine.order) >= 2 and engine.answered(1), timeout=30)
            opener, answer = engine.order[:2]  # the page got the opener first
            delta = dict(server.journal.first_audio_sent)
            to_page = dict(running.app.engine.first_frames)
            assert opener.startswith("opener_") and answer in delta
            assert to_page[opener] < delta[answer]  # on its way to the page before the session's first delta
            comedy_set = running.app.club.sets[second.session_hash]
            line = comedy_set.stage.transcript[0]
            assert line.note == "opener" and line.text == prompts.opener("witty")
            assert any(t["type"] == "words" and t["text"] == line.text for t in engine.texts)  # its caption
            await engine.close()
