"""Gradio's streamed audio player, as an adapter on a set's speech port: 100 ms chunks paced to stay
just ahead of playback. Gradio's player keeps no count of its own, so what is handed to it is what
the visitor hears (and where a heckle cuts); it shows no captions."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.show.comedy_set import ComedySet
from comedy.show.speech_port import Cut, Landed, Scheduled, Started
from comedy.stage.actions import EndOfAnswer, Play

CHUNK_SAMPLES = SAMPLE_RATE // 10  # 100 ms of speech per yield
LEAD_SECONDS = 0.3  # how far ahead of playback the chunks may run


async def chunks(comedy_set: ComedySet) -> AsyncIterator[np.ndarray]:
    """The set's speech as 100 ms int16 chunks, each handed on no sooner than `LEAD_SECONDS` before
    it plays; a cut drops what was waiting. A chunk may hold the end of one item and the start of
    the next: each item is told the samples that are its own."""
    port = comedy_set.port
    pending, owners, last_item, play_end = np.zeros(0, np.int16), _Owners(), "", 0.0
    generation = port.generation
    async for piece in port.speech():
        if generation != port.generation or isinstance(piece, Cut):
            pending, owners, generation = np.zeros(0, np.int16), _Owners(), port.generation
        if not isinstance(piece, Play | EndOfAnswer):
            continue
        if isinstance(piece, Play):
            pending = np.concatenate([pending, piece.pcm])
            owners.add(piece.item_id, len(piece.pcm))
        end_of_answer = isinstance(piece, EndOfAnswer)
        while len(pending) >= CHUNK_SAMPLES or (end_of_answer and len(pending)):
            chunk, pending = pending[:CHUNK_SAMPLES], pending[CHUNK_SAMPLES:]
            now = time.monotonic()
            play_end = max(play_end, now)
            if play_end - now > LEAD_SECONDS:
                await asyncio.sleep(play_end - now - LEAD_SECONDS)
            if generation != port.generation:
                pending, owners = np.zeros(0, np.int16), _Owners()
                break
            offset = 0
            for item_id, samples in owners.take(len(chunk)):
                at = play_end + offset / SAMPLE_RATE
                comedy_set.player(Scheduled(item_id, chunk[offset : offset + samples], at, counted=True))
                if item_id != last_item:  # an answer's first audio: the latency clock stops
                    last_item = item_id
                    comedy_set.player(Started(item_id, time.monotonic()))
                offset += samples
            play_end += CHUNK_SAMPLES / SAMPLE_RATE
            yield np.pad(chunk, (0, CHUNK_SAMPLES - len(chunk)))
        if end_of_answer and generation == port.generation:
            comedy_set.player(Landed(play_end))  # it has landed once the browser played it


class _Owners:
    """Whose samples are waiting, in order: (item, how many) runs."""

    def __init__(self) -> None:
        self._runs: deque[list] = deque()

    def add(self, item_id: str, samples: int) -> None:
        if self._runs and self._runs[-1][0] == item_id:
            self._runs[-1][1] += samples
        elif samples:
            self._runs.append([item_id, samples])

    def take(self, samples: int) -> list[tuple[str, int]]:
        """The runs that make up the next `samples` samples."""
        taken = []
        while samples and self._runs:
            run = self._runs[0]
            n = min(samples, run[1])
            taken.append((run[0], n))
            run[1] -= n
            samples -= n
            if not run[1]:
                self._runs.popleft()
        return taken
