"""Set-level helpers for tests and benchmarks: a listener that plays a set's speech in real time,
waiting for a condition, a rehearsal endpoint, and laughter-like sound."""

from __future__ import annotations

import asyncio

import numpy as np

from comedy import protocol
from comedy.club import ComedySet, Endpoint
from comedy.rehearsal import RehearsalServer

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
        async for chunk in self.set.emit():
            self.samples += len(chunk)


async def until(check, timeout: float = 20.0, what: str = "") -> None:
    """Wait until `check()` holds (TimeoutError after `timeout`)."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def answers(comedy_set: ComedySet) -> list:
    """The comedian's lines with words."""
    return [t for t in comedy_set.transcript if t.role == "assistant" and t.text]


def laughter(seconds: float = 2.5, seed: int = 0) -> np.ndarray:
    """Laughter-like bursts: breathy noise switching on and off about five times a second."""
    t = np.arange(int(SR * seconds)) / SR
    bursts = np.sin(2 * np.pi * 5 * t) > 0.2
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (noise * 0.2 * bursts * 32767).astype(np.int16)
