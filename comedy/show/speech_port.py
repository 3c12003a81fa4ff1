"""A set's speech out, transport-neutral: typed pieces (`Play` audio, `Caption` words, the
`EndOfAnswer`, a `Cut`) to one attached player at a time, and the player's reports back. Each
adapter (the engine's socket, Gradio's event stream, Gradio's audio) keeps its own clock and
framing; the set keeps none.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from comedy.stage.playback import Cut, CutHeard, Landed, Piece, Played, Report, Scheduled, Started

__all__ = ["Cut", "CutHeard", "Landed", "Piece", "Played", "Report", "Scheduled", "SpeechPort", "Started"]


class SpeechPort:
    """The pieces of speech waiting for the player; one player holds the port at a time (a new one
    takes over and the old one's stream ends), and the set's end ends every stream."""

    def __init__(self) -> None:
        self._pieces: deque[Piece] = deque()
        self._wake = asyncio.Event()
        self._lease = 0  # bumped by each player that attaches: the newest holds the port
        self._closed = False
        self.generation = 0  # bumped by each cut: an adapter that buffers drops what it holds
        self.attached = False

    def put(self, piece: Piece) -> None:
        """A piece for the player."""
        if not self._closed:
            self._pieces.append(piece)
            self._wake.set()

    def cut(self) -> None:
        """Drop everything waiting, and tell the player to drop what it holds."""
        self.generation += 1
        self._pieces.clear()
        self.put(Cut())

    def close(self) -> None:
        """The set is over: every stream ends once it has taken what is waiting."""
        self._closed = True
        self._wake.set()

    async def speech(self) -> AsyncIterator[Piece]:
        """The pieces as they come, until the set ends or another player takes over."""
        self._lease += 1
        mine = self._lease
        self._wake.set()  # a player attached before this one wakes, and leaves
        self.attached = True
        try:
            while True:
                while mine == self._lease and not self._pieces and not self._closed:
                    self._wake.clear()
                    await self._wake.wait()
                if mine != self._lease or not self._pieces:
                    return
                yield self._pieces.popleft()
        finally:
            if mine == self._lease:
                self.attached = False
