"""The audio engine's socket on Gradio's own app: tokens, speech, microphone, cuts, reports, cleanup.

The app runs in rehearsal mode on a free port; a Python client does what the page's engine does.
The page itself is driven in headless Chromium in test_browser.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound.pacing import BURST_SECONDS, REAL_TIME_RATE, TOO_MANY_FRAMES
from comedy.web.engine_frames import microphone_frame
from harness.engine_client import FRAME, EngineClient, engine_token
from harness.running import Running, launch
from harness.visitor import CHOICES, Visitor
from tests.conftest import spoken


@pytest.fixture(scope="module")
def club() -> Iterator[Running]:
    yield from launch(pace=3.0)


def _set(club: Running, visitor: Visitor):
    return club.app.club.get(visitor.session_hash)


async def test_a_token_is_good_once_and_an_unknown_one_is_refused(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        token = await engine_token(visitor)
        first = await EngineClient(visitor).open(token)
        async with asyncio.timeout(10):  # the server files the socket once it has accepted it
            while club.app.engine.sockets.get(visitor.session_hash) is None:
                await asyncio.sleep(0.01)
        for bad in (token, "made-up"):  # used already; never minted
            async with connect(first.url(bad)) as ws:
                refusal = json.loads(await ws.recv())
                assert refusal["type"] == "refused" and "token" in refusal["message"]
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd.code == 4401
        await first.close()


async def test_speech_arrives_as_tagged_frames_and_the_player_report_moves_the_meter(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        engine = await EngineClient(visitor).open()
        engine.play()
        await visitor.call("tell", ["airports", *CHOICES])
        await engine.until(lambda: any(t["type"] == "end" for t in engine.texts))
        comedy_set = _set(club, visitor)
        item = engine.order[0]
        assert (
            engine.arrived[item] == comedy_set.stage.speaker.received[item] > SAMPLE_RATE
        )  # every sample, tagged
        await engine.until(
            lambda: comedy_set.stage.speaker.played.get(item) == comedy_set.stage.speaker.received[item]
        )
        assert comedy_set.stage.meters.latencies_s  # from the end of the turn to the player's first sample
        await engine.close()


async def test_the_microphone_over_the_socket_gets_a_hands_free_answer(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        engine = await EngineClient(visitor).open()
        engine.play()
        stopped = club.rehearsal.server.journal.sent.count("input_audio_buffer.speech_stopped")
        await engine.speak(spoken("tell me a joke about cats", silence_after=1.2))
        await engine.until(
            lambda: club.rehearsal.server.journal.sent.count("input_audio_buffer.speech_stopped") > stopped
        )
        await engine.until(lambda: any(t["type"] == "end" for t in engine.texts))
        assert "s of speech" in next(t.text for t in _set(club, visitor).stage.transcript if t.role == "user")
        await engine.close()


async def test_a_cut_drops_the_page_buffer_and_truncates_at_what_the_page_reported(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        engine = await EngineClient(visitor).open()
        await visitor.call("tell", ["airports", *CHOICES])
        await engine.until(lambda: engine.order and engine.arrived[engine.order[0]] > SAMPLE_RATE)
        item = engine.order[0]
        heard = 12_345  # the page says it played this much (0.514 s)
        await engine.report(item, heard)
        await engine.until(lambda: _set(club, visitor).stage.speaker.played.get(item) == heard)
        truncations = len(club.rehearsal.server.journal.truncations)
        await visitor.call("tell", ["dogs", *CHOICES])  # a new topic cuts the joke
        await engine.until(lambda: any(t["type"] == "cut" for t in engine.texts))
        await engine.until(lambda: len(club.rehearsal.server.journal.truncations) > truncations)
        cut_item, audio_end_ms = club.rehearsal.server.journal.truncations[-1]
        assert cut_item == item and audio_end_ms == heard * 1000 // SAMPLE_RATE
        await engine.report(item, 10 * SAMPLE_RATE)  # a report past what arrived counts as what arrived
        speaker = _set(club, visitor).stage.speaker
        assert speaker.played[item] <= speaker.received[item]
        await engine.close()


async def test_a_dropped_socket_reconnects_with_a_fresh_token_and_the_next_joke_plays(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        first = await EngineClient(visitor).open()
        first.ws.transport.abort()  # dropped: no close frame
        await first.close()
        second = await EngineClient(visitor).open()
        await visitor.call("tell", ["cats", *CHOICES])
        await second.until(lambda: any(t["type"] == "end" for t in second.texts))
        assert second.order and second.arrived[second.order[0]] > SAMPLE_RATE
        await second.close()


async def test_closing_the_tab_leaves_no_set_socket_or_token(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        engine = await EngineClient(visitor).open()
        await engine_token(visitor)  # one minted and never used
        hash_ = visitor.session_hash
    async with asyncio.timeout(30):
        while club.app.club.get(hash_) or hash_ in club.app.engine.sockets:
            await asyncio.sleep(0.1)
    assert hash_ not in club.app.engine.tokens.holders()
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(engine.ws.recv(), 10)
    await engine.close()


async def test_a_microphone_flood_reaches_the_api_at_no_more_than_real_time(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        engine = await EngineClient(visitor).open()
        server = club.rehearsal.server
        before, started = server.journal.appended_samples, time.monotonic()
        flood = np.zeros(SAMPLE_RATE * 20, np.int16)  # 20 s of microphone, sent as fast as the socket goes
        with contextlib.suppress(ConnectionClosed):  # far faster than a page: the server hangs up
            for start in range(0, len(flood), FRAME):
                await engine.ws.send(microphone_frame(flood[start : start + FRAME]))
        await asyncio.sleep(0.5)  # what was let through reaches the API
        elapsed = time.monotonic() - started
        forwarded = (server.journal.appended_samples - before) / SAMPLE_RATE
        assert forwarded <= BURST_SECONDS + REAL_TIME_RATE * elapsed + 0.1, (forwarded, elapsed)
        said = list(_set(club, visitor).stage.shown.problems)
        assert TOO_MANY_FRAMES in said or any("faster than real time" in p for p in said)
        await engine.close()
