"""Hold, then decide, on real sockets: the app in rehearsal mode on a free port, the rehearsal server
paced as a live stream, a Python client doing what the page's engine does (it plays in real time,
reports what it played, and honours hold, resume and cut). A laugh over the comedian holds it and
it goes on, nothing lost; a heckle holds it and cuts it at what was heard before the hold."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.rehearsal import audience
from harness.engine_client import EngineClient
from harness.running import Running, launch
from harness.speech import spoken
from harness.visitor import CHOICES, Visitor


@pytest.fixture(scope="module")
def club() -> Iterator[Running]:
    yield from launch(pace=1.0)


async def _talking(club: Running, visitor: Visitor) -> EngineClient:
    """A joke playing on the visitor's engine (headphones: the microphone hears only the room)."""
    await visitor.call("start", CHOICES)
    engine = await EngineClient(visitor).open()
    engine.play()
    await visitor.call("tell", ["airports", *CHOICES])
    await engine.until(lambda: engine.order and engine.played[engine.order[0]] > SAMPLE_RATE, timeout=60)
    return engine


def _quiet(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.int16)


async def test_a_laugh_mid_joke_holds_the_comedian_and_it_goes_on_with_nothing_lost(club: Running) -> None:
    server = club.rehearsal.server
    async with Visitor(club.url) as visitor:
        engine = await _talking(club, visitor)
        truncations = len(server.journal.truncations)
        item = engine.order[0]
        laugh = np.concatenate([_quiet(0.3), audience.laughter(2.0, seed=3), _quiet(2.0)])
        await engine.speak(laugh)
        await engine.until(lambda: [k for k, _ in engine.holds][:2] == ["hold", "resume"], timeout=20)
        (_, held), (_, resumed) = engine.holds[:2]
        assert 1.0 < resumed - held < 6.0  # held through the laugh, and a little after it faded
        comedy_set = club.app.club.get(visitor.session_hash)
        assert comedy_set.stage.floor.counts.laughs >= 1 and comedy_set.stage.barges == 0
        # the joke plays to its end: every sample that arrived is played, none truncated
        await engine.until(lambda: any(t["type"] == "end" for t in engine.texts), timeout=60)
        await engine.until(lambda: engine.played[item] == engine.arrived[item], timeout=60)
        assert len(server.journal.truncations) == truncations
        assert "cut" not in next(t.note for t in comedy_set.stage.transcript if t.item_id == item)
        await engine.close()


async def test_a_heckle_mid_joke_holds_then_cuts_at_what_was_heard_before_the_hold(club: Running) -> None:
    server = club.rehearsal.server
    async with Visitor(club.url) as visitor:
        engine = await _talking(club, visitor)
        truncations = len(server.journal.truncations)
        item = engine.order[0]
        speaking = asyncio.create_task(engine.speak(spoken("get off the stage you are not funny", "ash")))
        await engine.until(lambda: engine.held, timeout=20)
        heard = engine.played[item]  # what the player had played when it held: it plays no more
        await engine.until(lambda: len(server.journal.truncations) > truncations, timeout=20)
        await speaking
        cut_item, audio_end_ms = server.journal.truncations[-1]
        # (this client counts in 20 ms steps; the page's player is exact: tests/js/player.test.mjs)
        assert cut_item == item and abs(audio_end_ms - heard * 1000 / SAMPLE_RATE) <= 20
        assert [k for k, _ in engine.holds] == ["hold"]  # never resumed: cut
        assert any(t["type"] == "cut" for t in engine.texts)
        comedy_set = club.app.club.get(visitor.session_hash)
        assert any(t.note == "heckle" for t in comedy_set.stage.transcript)
        await engine.close()
