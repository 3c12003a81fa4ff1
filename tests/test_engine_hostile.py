"""Hardening round three: the engine's socket under a hostile visitor (real sockets, a real app).

Each test is an attack from issue 25; each failed on the code before its fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from comedy.sound.pacing import FRAME_BURST, FRAMES_PER_SECOND, SHORT_FRAME, TOO_MANY_FRAMES, FrameGate
from comedy.web.engine import FULL, MAX_FRAME_BYTES, PATH, REFUSED, TOO_BIG, UNREADABLE
from comedy.web.engine_frames import microphone_frame
from harness.engine_client import FRAME, deflate_bomb, engine_token, mint_token
from harness.running import Running, launch
from harness.visitor import CHOICES, Visitor


@pytest.fixture(scope="module")
def club() -> Iterator[Running]:
    yield from launch(pace=3.0)


async def _socket(club: Running, visitor: Visitor) -> ClientConnection:
    url = f"{club.url.replace('http', 'ws', 1).rstrip('/')}{PATH}?token={await engine_token(visitor)}"
    return await connect(url, max_size=None, compression=None)


async def _closed_with(ws: ClientConnection) -> int:
    """The code the server closed the socket with (it must close it)."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    return closed.value.rcvd.code if closed.value.rcvd else -1


async def _still_open(ws: ClientConnection) -> None:
    """The socket takes a good report after the bad one (a pong proves the server still reads it)."""
    await ws.send('{"type": "played", "items": {}}')
    async with asyncio.timeout(10):
        await (await ws.ping())


async def test_a_frame_over_the_limit_closes_the_socket(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        ws = await _socket(club, visitor)
        await ws.send(bytes([1, 0]) + bytes(MAX_FRAME_BYTES * 2))
        assert await _closed_with(ws) == TOO_BIG


async def test_a_compressed_frame_is_refused_before_it_is_inflated(club: Running) -> None:
    """A client that offers compression, then sends a frame that inflates to 16 MiB: the server
    must not agree to compression, and must close on the frame."""
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        head, answer = await deflate_bomb(club.url, await engine_token(visitor))
    assert head.startswith("http/1.1 101") and "permessage-deflate" not in head
    assert answer[:1] == b"\x88"  # a close frame, not a socket that took 16 MiB in


@pytest.mark.parametrize(
    ("attack", "code"),
    [
        ("[" * 3000, UNREADABLE),  # nested too deep for the parser
        ('{"type": "started", "item": "x", "ago_ms": -Infinity}', UNREADABLE),  # not JSON
        ('{"type": "played", "items": {"x": 1}, "pad": "' + "x" * 8000 + '"}', TOO_BIG),
        ("not json", UNREADABLE),
    ],
    ids=["deep", "infinity", "long", "garbage"],
)
async def test_an_unreadable_report_closes_the_socket_with_a_clear_code(
    club: Running, attack: str, code: int
) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        ws = await _socket(club, visitor)
        await ws.send(attack)
        assert await _closed_with(ws) == code


async def test_invalid_utf8_in_a_report_closes_the_socket_with_a_clear_code(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        ws = await _socket(club, visitor)
        await ws.send(b'{"type": "played", "items": {"\xff\xfe": 1}}', text=True)
        assert await _closed_with(ws) == UNREADABLE


async def test_numbers_out_of_range_are_ignored_and_the_set_goes_on(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        ws = await _socket(club, visitor)
        for bad in (
            '{"type": "played", "items": {"x": 1e400}}',
            '{"type": "played", "items": {"x": -5, "y": 1e300, "z": true}}',
            '{"type": "started", "item": "x", "ago_ms": 1e400}',
            '{"type": "started", "item": "x", "ago_ms": -1000}',
        ):
            await ws.send(bad)
        await _still_open(ws)
        comedy_set = club.app.club.get(visitor.session_hash)
        assert comedy_set is not None and not comedy_set.closed
        assert all(v >= 0 for v in comedy_set.stage.speaker.played.values())
        await ws.send(microphone_frame(np.zeros(FRAME, np.int16)))  # and the microphone still goes through
        await ws.close()


async def test_no_token_for_a_session_whose_page_never_opened(club: Running) -> None:
    # (no heartbeat at all first: a tab's heartbeat may be counted before its first call)
    async with Visitor(club.url, heartbeat=False) as hostile:
        refused = await mint_token(hostile)
        assert isinstance(refused, dict) and "open page" in refused["refused"]
    async with Visitor(club.url, session_hash=hostile.session_hash) as visitor:
        await visitor.open_page()  # the same session, its page open now
        assert isinstance(await mint_token(visitor), str)


async def test_a_visitor_holds_one_live_token_and_minting_is_paced(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.open_page()
        first, second = await mint_token(visitor), await mint_token(visitor)
        assert isinstance(first, str) and isinstance(second, str)
        # the first stopped working when the second was minted
        async with connect(f"{club.url.replace('http', 'ws', 1).rstrip('/')}{PATH}?token={first}") as ws:
            assert json.loads(await ws.recv())["type"] == "refused"
            assert await _closed_with(ws) == REFUSED
        refused = [await mint_token(visitor) for _ in range(20)]  # 5 in a row, then one each 2 s
        assert any(isinstance(r, dict) and "too often" in r["refused"] for r in refused)
        assert len(club.app.engine.tokens) <= 1 + len(club.app.club.sets)


async def test_engine_sockets_are_capped_per_process(club: Running) -> None:
    engine = club.app.engine
    cap = engine.max_sockets
    engine.max_sockets = len(engine.sockets) + 1  # a small cap, as a busy process reaches its own
    try:
        async with Visitor(club.url) as one, Visitor(club.url) as two:
            await one.call("start", CHOICES)
            await two.call("start", CHOICES)
            first = await _socket(club, one)
            async with asyncio.timeout(10):
                while one.session_hash not in engine.sockets:
                    await asyncio.sleep(0.01)
            second = await _socket(club, two)
            assert "full" in json.loads(await second.recv())["message"]
            assert await _closed_with(second) == FULL
            await first.close()
    finally:
        engine.max_sockets = cap


async def test_a_socket_opened_from_another_sites_page_is_refused(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        url = f"{club.url.replace('http', 'ws', 1).rstrip('/')}{PATH}?token={await engine_token(visitor)}"
        with pytest.raises(InvalidStatus) as refused:
            await connect(url, origin="https://evil.example")
        assert refused.value.response.status_code == 403
        own = urlsplit(club.url)
        fresh = url.split("token=")[0] + f"token={await engine_token(visitor)}"
        async with connect(fresh, origin=f"{own.scheme}://{own.netloc}") as ws:  # the app's own page
            await ws.send('{"type": "played", "items": {}}')
            async with asyncio.timeout(10):
                await (await ws.ping())


def test_frames_are_paced_as_frames() -> None:
    now = [0.0]
    gate = FrameGate(clock=lambda: now[0])
    assert gate.refuse(1 / 24_000) == SHORT_FRAME and gate.refuse(239 / 24_000) == SHORT_FRAME
    taken = sum(gate.refuse(0.02) is None for _ in range(500))  # as fast as a socket goes
    assert taken == FRAME_BURST
    now[0] += 0.5
    assert sum(gate.refuse(0.02) is None for _ in range(500)) == FRAMES_PER_SECOND / 2
    assert gate.refuse(0.02) == TOO_MANY_FRAMES


async def test_tiny_frames_are_dropped_before_any_work_and_said_once(club: Running) -> None:
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        ws = await _socket(club, visitor)
        comedy_set = club.app.club.get(visitor.session_hash)
        server, before = club.rehearsal.server, club.rehearsal.server.journal.appended_samples
        for _ in range(200):
            await ws.send(microphone_frame(np.zeros(1, np.int16)))
        for _ in range(10):  # and a real microphone's 200 ms still goes through
            await ws.send(microphone_frame(np.zeros(FRAME, np.int16)))
        await _still_open(ws)
        async with asyncio.timeout(10):
            while server.journal.appended_samples - before < 10 * FRAME:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        await ws.close()
    assert server.journal.appended_samples - before == 10 * FRAME  # nothing of the tiny ones reached the API
    assert list(comedy_set.stage.shown.problems).count(SHORT_FRAME) == 1


async def test_a_socket_flooding_messages_is_dropped(club: Running) -> None:
    """Each message costs the event loop its receiving, however small: a socket sending far more
    a second than a page does is dropped at once (no closing handshake, which would read the flood
    on for its reply), not read on at everyone's expense."""
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        ws = await _socket(club, visitor)
        sent = 0
        with contextlib.suppress(ConnectionClosed):
            for _ in range(100_000):
                await ws.send(microphone_frame(np.zeros(1, np.int16)))
                sent += 1
        assert sent < 100_000  # the server hung up on it
        assert await _closed_with(ws) == -1  # dropped, with no close frame
        assert visitor.session_hash not in club.app.engine.sockets


async def test_a_reference_is_taken_only_while_the_page_was_sent_speech(club: Running) -> None:
    """A page that says it played something it was never sent does not make the server run the
    echo canceller for it (the canceller is the costliest thing a visitor can ask for)."""
    async with Visitor(club.url) as visitor:
        await visitor.call("start", CHOICES)
        comedy_set = club.app.club.get(visitor.session_hash)
        async with asyncio.timeout(30):  # the greeting has been said: nothing is being sent
            while comedy_set.stage.responding or comedy_set.stage.speaker.unheard():
                await asyncio.sleep(0.05)
        ws = await _socket(club, visitor)
        server, before = club.rehearsal.server, club.rehearsal.server.journal.appended_samples
        played = (np.sin(np.arange(FRAME) / 3.0) * 8000).astype(np.int16)
        for _ in range(50):  # a second of frames whose reference says the comedian is playing
            await ws.send(microphone_frame(np.zeros(FRAME, np.int16), played))
            await asyncio.sleep(0.02)
        async with asyncio.timeout(10):  # the microphone went through to the API
            while server.journal.appended_samples - before < 0.8 * 24_000:
                await asyncio.sleep(0.05)
        await ws.close()
    assert comedy_set.microphone.echo.seconds == 0
