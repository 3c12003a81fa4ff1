"""Set-level helpers for tests and benchmarks: a listener that plays a set's speech in real time,
waiting for a condition, a rehearsal endpoint, laughter, and a microphone in the rehearsal room."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import numpy as np
from websockets.asyncio.client import connect

from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer, audience
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from comedy.web import gradio_speech

SR = protocol.SAMPLE_RATE
KEY = "sk-test-0123456789abcdef"  # any key: the rehearsal server takes it


def endpoint(server: RehearsalServer) -> Endpoint:
    """The rehearsal server as a set's endpoint."""
    return Endpoint(server.url, KEY, True)


class Listener:
    """Plays the set's speaker output in real time, counting samples per answer as a browser would."""

    def __init__(self, comedy_set: ComedySet) -> None:
        self.set = comedy_set
        self.samples = 0
        self.task = asyncio.create_task(self._play())

    async def _play(self) -> None:
        async for chunk in gradio_speech.chunks(self.set):
            self.samples += len(chunk)


async def until(check, timeout: float = 20.0, what: str = "") -> None:
    """Wait until `check()` holds (TimeoutError after `timeout`)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def answers(comedy_set: ComedySet) -> list:
    """The comedian's lines with words."""
    return [t for t in comedy_set.stage.transcript if t.role == "assistant" and t.text]


def laughter(seconds: float = 2.5, seed: int = 0) -> np.ndarray:
    """A laugh from the rehearsal audience: voiced "ha" bursts with breath."""
    return audience.laughter(seconds, seed=seed)


class RoomMicrophone:
    """The visitor's microphone in a room: the rehearsal audience's feed (silence, and whatever a
    test cues) into the set, 20 ms at a time, in real time."""

    def __init__(self, comedy_set: ComedySet, server: RehearsalServer) -> None:
        self.set = comedy_set
        self.frames = 0
        self.task = asyncio.create_task(self._listen(server.audience_url))

    async def _listen(self, url: str) -> None:
        async with connect(url) as feed:
            async for frame in feed:
                self.set.receive(SR, np.frombuffer(frame, dtype="<i2"))
                self.frames += 1

    async def close(self) -> None:
        """Unplug it."""
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@contextlib.asynccontextmanager
async def in_the_room(comedy_set: ComedySet, server: RehearsalServer | None) -> AsyncIterator[ComedySet]:
    """A started set with a listener playing its speech in real time and, with a rehearsal server,
    the room's microphone; all of it closed on the way out."""
    await comedy_set.start()
    listener = Listener(comedy_set)
    microphone = RoomMicrophone(comedy_set, server) if server is not None else None
    try:
        yield comedy_set
    finally:
        listener.task.cancel()
        if microphone is not None:
            await microphone.close()
        await comedy_set.close()
