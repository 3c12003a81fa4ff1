"""A page's player and microphone on a laptop, without a browser: for crowds of visitors on speakers.

It plays what the engine's socket brings in real time (as the page's player worklet does, cut when
told), and every 20 ms sends the microphone as the page's capture does: what the laptop's
microphone hears of what was played (through `harness.laptop.Laptop`'s room, or nothing on
headphones), plus whatever the visitor says, with what was playing beside it as the reference.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import numpy as np
from scipy import signal

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.web.engine_frames import microphone_frame
from harness.engine_client import FRAME, EngineClient
from harness.laptop import Laptop, room_response

RESPONSE_SECONDS = 0.15  # of the room's response: the rest is 25 dB down, and costs the simulation


class LaptopPage:
    """An engine client's player and microphone on a laptop (`laptop` None: headphones)."""

    def __init__(self, engine: EngineClient, laptop: Laptop | None) -> None:
        self.engine, self.laptop = engine, laptop
        self._voice = np.zeros(0, np.int16)  # what the visitor is still to say
        self._response = np.zeros(1)
        self._played = np.zeros(0)  # the last samples played, for the room's echo
        if laptop is not None:
            h = room_response(laptop.seed)[: int(RESPONSE_SECONDS * SAMPLE_RATE)]
            delay = int(laptop.delay_ms * SAMPLE_RATE / 1000)
            self._response = np.concatenate([np.zeros(delay), h * 10 ** (laptop.coupling_db / 20)])
            self._played = np.zeros(len(self._response) - 1)
        self._task: asyncio.Task | None = None
        self._flat: dict[str, tuple[int, np.ndarray]] = {}  # each item's speech so far, in one array
        self.frames = 0

    def start(self) -> LaptopPage:
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def say(self, pcm: np.ndarray) -> None:
        """The visitor speaks (into the microphone, over whatever plays)."""
        self._voice = np.concatenate([self._voice, np.asarray(pcm, np.int16)])

    def _next_played(self) -> tuple[np.ndarray, dict[str, int]]:
        """The next 20 ms the player renders, and the counts to report."""
        engine, out, at, report = self.engine, np.zeros(FRAME, np.int16), 0, {}
        for item in engine.order:
            left = engine.arrived[item] - engine.played[item]
            if left <= 0:
                continue
            take = min(left, FRAME - at)
            out[at : at + take] = self._speech(item)[engine.played[item] : engine.played[item] + take]
            if engine.played[item] == 0:
                report.setdefault("started", item)
            engine.played[item] += take
            report[item] = engine.played[item]
            at += take
            if at == FRAME:
                break
        return out, report

    def _speech(self, item: str) -> np.ndarray:
        chunks = self.engine.speech[item]
        known = self._flat.get(item)
        if known is None or known[0] != len(chunks):
            known = self._flat[item] = (len(chunks), np.concatenate(chunks))
        return known[1]

    def _heard(self, played: np.ndarray) -> np.ndarray:
        """What the microphone hears in the same 20 ms: the room's echo and the visitor."""
        mic = np.zeros(FRAME)
        if self.laptop is not None:
            history = np.concatenate([self._played, played.astype(np.float64)])
            mic += signal.fftconvolve(history, self._response, mode="valid")
            self._played = history[FRAME:]
        voice, self._voice = self._voice[:FRAME], self._voice[FRAME:]
        mic[: len(voice)] += voice
        return np.clip(np.round(mic), -32768, 32767).astype(np.int16)

    async def _run(self) -> None:
        ws, tick = self.engine.ws, time.monotonic()
        assert ws is not None
        while True:
            tick += FRAME / SAMPLE_RATE
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
            played, report = self._next_played()
            started = report.pop("started", None)
            if started is not None:
                await ws.send(json.dumps({"type": "started", "item": started, "ago_ms": 0}))
            if report:
                await ws.send(json.dumps({"type": "played", "items": report}))
            await ws.send(microphone_frame(self._heard(played), played))
            self.frames += 1
