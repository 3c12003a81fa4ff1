"""The visitor's microphone on its way to the API: only a live microphone's chunks, no faster than
real time, the comedian's echo taken out of the engine's frames, and the canceller's linear output
kept beside what is sent for the ear. No sockets: the pump sends what `ready` returns.

`take` runs on the event loop (it only queues); `ready` does the work and may run in a thread of its
own (`comedy.sound.threads`), one batch at a time per set: whatever queued while the last batch was
being made ready goes together, so a busy server does its per-call work less often, not later."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound import audio
from comedy.sound.echo import EchoCanceller
from comedy.sound.pacing import FrameGate, Pace

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
    comedian (None: no canceller ran), whether the canceller has learned the room (None: no
    echo to tell apart), whether a push-to-talk turn ended after it, and what could not be read."""

    chunks: list[bytes]
    pcm: np.ndarray
    linear: np.ndarray | None
    near: np.ndarray | None
    settled: bool | None
    turn_ended: bool = False
    problems: tuple[str, ...] = ()


class MicrophoneIn:
    """One set's microphone: chunks queued as they arrive, made ready for the API one at a time."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[MicChunk | None] = asyncio.Queue(MIC_QUEUE_CHUNKS)
        self._chunks = FrameGate()  # chunks counted as chunks: none too short, not too many a second
        self._pace = Pace()  # what reaches the API: real time and a little slack, never a flood
        self._told: set[str] = set()
        self.echo = EchoCanceller()  # takes the comedian out, given what the page played
        self._beside: np.ndarray | None = None
        self._path = audio.MicrophonePath()
        self.cpu_seconds = 0.0  # the CPU time making chunks ready took (in whichever thread)
        self.seconds = 0.0  # microphone audio made ready

    def take(self, rate: int, samples: np.ndarray, reference: np.ndarray | None = None) -> str | None:
        """Queue a chunk at once (a slow handler makes Gradio drop chunks); the problem to tell the
        visitor when it is not taken (None: taken, or dropped quietly after a first word).

        A live microphone sends a tenth of a second at a time: a chunk longer than a couple of
        seconds is not one."""
        frames = max(np.shape(samples), default=0)  # (N,), (N, channels) or (channels, N)
        if rate > 0 and frames > rate * MAX_CHUNK_SECONDS:
            return f"Skipped a microphone chunk of {frames / rate:.0f} s: not a live microphone."
        if rate > 0 and (problem := self._chunks.refuse(frames / rate) or self._seconds(frames / rate)):
            return self._once(problem)
        try:
            self._queue.put_nowait((rate, samples, reference))
        except asyncio.QueueFull:
            return QUEUE_FULL
        return None

    def _seconds(self, seconds: float) -> str | None:
        return None if self._pace.take(seconds) else TOO_FAST

    def _once(self, problem: str) -> str | None:
        """A problem to say, the first time only (the rest of its kind are dropped quietly)."""
        told = problem in self._told
        self._told.add(problem)
        return None if told else problem

    async def end_turn(self) -> None:
        """Push-to-talk released: what was said so far is sent whole."""
        await self._queue.put(None)

    async def next(self) -> list[MicChunk | None]:
        """The next chunks, in order: all that queued meanwhile, and the engine's 20 ms frames
        gathered up to the API's next 100 ms chunk (nothing is sent, nor heard, before that
        anyway: done at once, the canceller's work per call is done once, not five times). A
        None is the end of a push-to-talk turn, and ends the batch."""
        batch = [await self._queue.get()]
        while batch[-1] is not None:
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
            elif all(map(_engine_frame, batch)) and self._short_of_a_chunk(batch):
                batch.append(await self._queue.get())
            else:
                break
        return batch

    def _short_of_a_chunk(self, frames: list[MicChunk | None]) -> bool:
        """Whether the engine's `frames` leave the path short of its next 100 ms chunk."""
        return self._path.pending + sum(len(f[1]) for f in frames if f is not None) < self._path.chunk_samples

    def ready(self, batch: list[MicChunk | None]) -> Ready:
        """A batch of chunks made ready for the API (one that cannot be read is skipped, said)."""
        started = time.thread_time()
        chunks: list[np.ndarray] = []
        problems: list[str] = []
        for chunk in _joined(batch):
            try:
                chunks += (
                    self._path.flush() if chunk is None else self._path.feed(*self._without_echo(*chunk))
                )
            except ValueError as exc:
                problems.append(f"Skipped an unreadable microphone chunk: {exc}")
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        linear, near = self._linear_beside(len(pcm))
        settled = self.echo.settled if self.echo.echoing else None
        self.cpu_seconds += time.thread_time() - started
        self.seconds += len(pcm) / SAMPLE_RATE
        appends = [audio.pcm16_bytes(c) for c in chunks]
        return Ready(appends, pcm, linear, near, settled, batch[-1] is None, tuple(problems))

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


def _engine_frame(chunk: MicChunk | None) -> bool:
    return chunk is not None and chunk[0] == SAMPLE_RATE and audio.is_pcm16_mono(chunk[1])


def _joined(batch: list[MicChunk | None]) -> list[MicChunk | None]:
    """A batch with each run of the engine's frames joined into one chunk (the canceller's work
    per call is then done once for the run), what played beside them joined too."""
    joined: list[MicChunk | None] = []
    run: list[MicChunk] = []
    for chunk in [*batch, None]:
        if _engine_frame(chunk):
            run.append(chunk)  # type: ignore[arg-type]
            continue
        if len(run) > 1:
            played = [r if r is not None else np.zeros(len(m), np.int16) for _, m, r in run]
            nothing = all(r is None for _, _, r in run)
            joined.append(
                (
                    SAMPLE_RATE,
                    np.concatenate([m for _, m, _ in run]),
                    None if nothing else np.concatenate(played),
                )
            )
        else:
            joined += run
        run = []
        joined.append(chunk)
    return joined[:-1]
