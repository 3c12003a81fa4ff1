"""The visitor's microphone on its way to the API: only a live microphone's chunks, no faster than
real time, the comedian's echo taken out of the engine's frames, and the canceller's linear output
kept beside what is sent for the ear. No sockets: the pump sends what `ready` returns."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from comedy import audio
from comedy.echo import EchoCanceller
from comedy.pacing import Pace
from comedy.protocol import SAMPLE_RATE

MIC_QUEUE_CHUNKS = 50  # 5 s of microphone audio waiting at most
MAX_CHUNK_SECONDS = 2.0  # the longest microphone chunk taken (the page sends 0.1 s)
MicChunk = tuple[int, np.ndarray, np.ndarray | None]  # rate, samples, what was playing (None: nothing)
BESIDE = np.dtype([("linear", np.int16), ("near", bool)])  # per sample: the linear output, someone in it
TOO_FAST = "The microphone sent audio faster than real time: what came too fast was dropped."
QUEUE_FULL = "The microphone is sending faster than the connection takes it."


@dataclass(frozen=True)
class Ready:
    """Microphone audio ready for the API: the 100 ms pcm16 chunks to append, the same as one
    array, the linear canceller's output beside it and where that holds someone besides the
    comedian (None: no canceller ran), and whether the canceller has learned the room (None: no
    echo to tell apart)."""

    chunks: list[bytes]
    pcm: np.ndarray
    linear: np.ndarray | None
    near: np.ndarray | None
    settled: bool | None


class MicrophoneIn:
    """One set's microphone: chunks queued as they arrive, made ready for the API one at a time."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[MicChunk | None] = asyncio.Queue(MIC_QUEUE_CHUNKS)
        self._pace = Pace()  # what reaches the API: real time and a little slack, never a flood
        self._told_pace = False
        self.echo = EchoCanceller()  # takes the comedian out, given what the page played
        self._beside: np.ndarray | None = None
        self._path = audio.MicrophonePath()

    def take(self, rate: int, samples: np.ndarray, reference: np.ndarray | None = None) -> str | None:
        """Queue a chunk at once (a slow handler makes Gradio drop chunks); the problem to tell the
        visitor when it is not taken (None: taken, or dropped quietly after a first word).

        A live microphone sends a tenth of a second at a time: a chunk longer than a couple of
        seconds is not one."""
        frames = max(np.shape(samples), default=0)  # (N,), (N, channels) or (channels, N)
        if rate > 0 and frames > rate * MAX_CHUNK_SECONDS:
            return f"Skipped a microphone chunk of {frames / rate:.0f} s: not a live microphone."
        if rate > 0 and not self._pace.take(frames / rate):
            told, self._told_pace = self._told_pace, True
            return None if told else TOO_FAST
        try:
            self._queue.put_nowait((rate, samples, reference))
        except asyncio.QueueFull:
            return QUEUE_FULL
        return None

    async def end_turn(self) -> None:
        """Push-to-talk released: what was said so far is sent whole."""
        await self._queue.put(None)

    async def next(self) -> MicChunk | None:
        """The next chunk (None: the end of a push-to-talk turn)."""
        return await self._queue.get()

    def ready(self, chunk: MicChunk | None) -> Ready:
        """A chunk made ready for the API (ValueError when it cannot be read)."""
        chunks = self._path.flush() if chunk is None else self._path.feed(*self._without_echo(*chunk))
        pcm = audio.pcm16_array(b"".join(chunks)) if chunks else np.zeros(0, np.int16)
        linear, near = self._linear_beside(len(pcm))
        settled = self.echo.settled if self.echo.echoing else None
        return Ready(chunks, pcm, linear, near, settled)

    def _without_echo(self, rate: int, samples: np.ndarray, reference: np.ndarray | None) -> tuple:
        """The engine's microphone with the comedian taken out, its linear canceller's output (and
        where it holds someone besides the comedian) kept beside it for the ear (anything else
        passes through, heard as it is)."""
        engine_frame = rate == SAMPLE_RATE and np.ndim(samples) == 1 and np.asarray(samples).dtype == np.int16
        if not engine_frame:
            self._beside = None
            return rate, samples
        cancelled = self.echo.process(samples, reference)
        beside = np.zeros(len(cancelled.linear), BESIDE)
        beside["linear"] = cancelled.linear
        if cancelled.near is not None:
            beside["near"] = cancelled.near
        self._beside = beside if self._beside is None else np.concatenate([self._beside, beside])
        return rate, cancelled.audio

    def _linear_beside(self, samples: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The linear canceller's output for the `samples` just made ready (24 kHz passes sample for
        sample), and where it holds someone besides the comedian."""
        if not samples or self._beside is None or len(self._beside) < samples:
            return None, None
        taken, self._beside = self._beside[:samples], self._beside[samples:]
        return taken["linear"], taken["near"]
