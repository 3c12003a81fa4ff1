"""A tab's audio engine without a browser: what `engine.js` does, in Python, over a real socket.

It mints its token the way the page does (Gradio's `component_server`), sends the microphone as
20 ms PCM16 frames, and plays what arrives on a simulated clock, reporting what it played.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
import time
import zlib
from collections import defaultdict
from functools import cache
from urllib.parse import urlsplit

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.web.engine import PATH
from comedy.web.engine_frames import microphone_frame, read_speech_frame
from harness.visitor import Visitor

FRAME = SAMPLE_RATE // 50  # 20 ms


async def seat_with_engine(visitor: Visitor, choices: list[str]) -> EngineClient:
    """Start a set and open its engine, playing, as the page does; a refused seat raises in words."""
    status = (await visitor.call("start", choices, timeout=60))[0]
    if "full" in status or "Not connected" in status:
        raise RuntimeError(status)
    engine = await EngineClient(visitor).open()
    engine.play()
    return engine


async def engine_token(visitor: Visitor) -> str:
    """A token for the visitor's socket, minted as the page's `server.engine_token()` does (from
    an open page)."""
    await visitor.open_page()
    return await mint_token(visitor)


async def mint_token(visitor: Visitor) -> str | dict:
    """What `server.engine_token()` answers for the visitor as they are (the page open or not):
    a token, or `{"refused": why}`."""
    engine = next(
        c["id"] for c in visitor.config["components"] if c.get("props", {}).get("elem_id") == "engine"
    )
    body = {
        "session_hash": visitor.session_hash,
        "component_id": engine,
        "fn_name": "engine_token",
        "data": [],
    }
    response = await visitor.http.post(f"{visitor.base}/gradio_api/component_server", json=body)
    response.raise_for_status()
    return response.json()


@cache
def _inflating_to_16_mib() -> bytes:
    deflate = zlib.compressobj(wbits=-15)
    bomb = deflate.compress(bytes(16 * 1024 * 1024)) + deflate.flush(zlib.Z_SYNC_FLUSH)
    return bomb[:-4]  # permessage-deflate drops the sync flush's tail


async def deflate_bomb(base: str, token: str) -> tuple[str, bytes]:
    """A hostile client on a raw TCP socket: it offers compression in the handshake, then sends a
    frame marked compressed (RSV1) that inflates to 16 MiB, whatever was agreed. The server's
    handshake answer (lower case) and the first bytes it sends after the frame ("" at once if it
    hung up)."""
    where = urlsplit(base)
    reader, writer = await asyncio.open_connection(where.hostname, where.port)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {PATH}?token={token} HTTP/1.1\r\nHost: {where.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
            ).encode()
        )
        head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
        bomb = _inflating_to_16_mib()
        mask = os.urandom(4)
        masked = (
            np.frombuffer(bomb, np.uint8) ^ np.resize(np.frombuffer(mask, np.uint8), len(bomb))
        ).tobytes()
        writer.write(bytes([0xC2, 0xFF]) + struct.pack(">Q", len(bomb)) + mask + masked)  # FIN, RSV1, binary
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        async with asyncio.timeout(10):
            answer = await reader.read(2)  # the server's close frame, then it hangs up
        return head, answer
    finally:
        writer.close()


class EngineClient:
    """One tab's engine socket: received speech by item, text frames, and a player on a clock."""

    def __init__(self, visitor: Visitor) -> None:
        self.visitor = visitor
        self.ws: ClientConnection | None = None
        self.speech: dict[str, list[np.ndarray]] = defaultdict(list)
        self.arrived: dict[str, int] = defaultdict(int)  # samples received per item
        self.first_frame_at: dict[str, float] = {}
        self.texts: list[dict] = []
        self.order: list[str] = []  # items in the order their first frame came
        self.played: dict[str, int] = defaultdict(int)
        self.held = False  # the server holds the player: nothing plays until it resumes
        self.holds: list[tuple[str, float]] = []  # ("hold" or "resume", when)
        self._reader: asyncio.Task | None = None
        self._player: asyncio.Task | None = None
        self._changed = asyncio.Event()

    def url(self, token: str) -> str:
        return f"{self.visitor.base.replace('http', 'ws', 1)}{PATH}?token={token}"

    async def open(self, token: str | None = None) -> EngineClient:
        """Connect with a fresh token (or the one given) and start reading."""
        self.ws = await connect(self.url(token or await engine_token(self.visitor)), max_size=None)
        self._reader = asyncio.create_task(self._read())
        return self

    async def close(self) -> None:
        for task in (self._reader, self._player):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.ws is not None:
            await self.ws.close()

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for frame in self.ws:
                if isinstance(frame, bytes):
                    item, pcm = read_speech_frame(frame)
                    if item not in self.first_frame_at:
                        self.first_frame_at[item] = time.monotonic()
                        self.order.append(item)
                    self.speech[item].append(pcm)
                    self.arrived[item] += len(pcm)
                else:
                    message = json.loads(frame)
                    self.texts.append(message)
                    if message.get("type") == "cut":
                        self.cut()
                    elif message.get("type") in ("hold", "resume"):
                        self.held = message["type"] == "hold"
                        self.holds.append((message["type"], time.monotonic()))
                self._changed.set()

    def cut(self) -> None:
        """What the player does on a cut: everything buffered is dropped (a hold with it)."""
        self.held = False
        for item in self.order:
            self.arrived[item] = self.played[item]

    def answered(self, index: int, seconds: float = 0.5) -> bool:
        """Whether the `index`-th item to arrive has `seconds` of speech in."""
        return len(self.order) > index and self.arrived[self.order[index]] >= seconds * SAMPLE_RATE

    def heard(self, item: str) -> np.ndarray:
        return np.concatenate(self.speech[item]) if self.speech[item] else np.zeros(0, np.int16)

    def play(self, report_every: float = 0.02) -> None:
        """Play what arrives in real time, reporting what was played every 20 ms, as the page does."""
        self._player = asyncio.create_task(self._play(report_every))

    async def _play(self, every: float) -> None:
        assert self.ws is not None
        budget = 0.0
        last = time.monotonic()
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            budget += 0 if self.held else (now - last) * SAMPLE_RATE
            last = now
            report: dict[str, int] = {}
            for item in self.order:
                take = int(min(budget, self.arrived[item] - self.played[item]))
                if take > 0:
                    if self.played[item] == 0:
                        await self.ws.send(json.dumps({"type": "started", "item": item, "ago_ms": 0}))
                    self.played[item] += take
                    budget -= take
                    report[item] = self.played[item]
            budget = min(budget, FRAME)  # an idle player does not bank time
            if report:
                await self.ws.send(json.dumps({"type": "played", "items": report}))

    async def report(self, item: str, samples: int) -> None:
        """Say that `samples` of an item were played (as a test chooses)."""
        assert self.ws is not None
        self.played[item] = samples
        await self.ws.send(json.dumps({"type": "played", "items": {item: samples}}))

    async def speak(
        self, pcm: np.ndarray, realtime: bool = True, reference: np.ndarray | None = None
    ) -> None:
        """The microphone: 24 kHz int16 in 20 ms binary frames, with what was playing beside it
        (`reference`, as long as `pcm`) as the page sends it while the comedian talks."""
        assert self.ws is not None
        for start in range(0, len(pcm), FRAME):
            played = None if reference is None else reference[start : start + FRAME]
            await self.ws.send(microphone_frame(pcm[start : start + FRAME], played))
            await asyncio.sleep(0.02 if realtime else 0.001)

    async def until(self, check, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not check():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await self._changed.wait()
