"""Audio forwarded at no more than real time: what a flooding microphone cannot spend.

Every second of microphone audio that reaches the Realtime API is billed (the session hears it, the
turn detection answers on it, transcription reads it). A live microphone sends audio as it is
captured; a hostile client can send it as fast as its socket goes. A token bucket holds what a set
may forward: it fills at `rate` seconds of audio per second of wall time, up to `burst` seconds (a
tab that was held up and catches up); a chunk that does not fit is dropped whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable

REAL_TIME_RATE = 1.2  # seconds of audio a second of wall time, at most
BURST_SECONDS = 2.0  # ...plus this much slack


class Pace:
    """One set's allowance of microphone audio."""

    def __init__(
        self,
        rate: float = REAL_TIME_RATE,
        burst: float = BURST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._allowance = burst
        self._at = clock()
        self.dropped = 0.0  # seconds of audio dropped so far

    def take(self, seconds: float) -> bool:
        """Whether `seconds` of audio may be forwarded now (then it is spent)."""
        now = self._clock()
        self._allowance = min(self.burst, self._allowance + (now - self._at) * self.rate)
        self._at = now
        if seconds <= self._allowance:
            self._allowance -= seconds
            return True
        self.dropped += seconds
        return False


MIN_FRAME_SECONDS = 0.01  # a microphone frame shorter than this is refused (the page sends 20 ms)
FRAMES_PER_SECOND = 60.0  # frames a socket may send a second (the page sends 50)...
FRAME_BURST = 50.0  # ...plus this many (a tab held up that catches up)
SHORT_FRAME = "The microphone sent frames shorter than 10 ms: they were dropped."
TOO_MANY_FRAMES = "The microphone sent more frames a second than a microphone does: the excess was dropped."


class FrameGate:
    """One microphone's chunks, counted as chunks (each costs the server a chunk's work however
    short it is): too short, or too many a second, and a chunk is dropped before any work."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._pace = Pace(FRAMES_PER_SECOND, FRAME_BURST, clock)
        self.dropped = 0

    def refuse(self, seconds: float) -> str | None:
        """Why a chunk of `seconds` is dropped; None: it is taken."""
        short = seconds < MIN_FRAME_SECONDS - 1e-9
        problem = SHORT_FRAME if short else None if self._pace.take(1) else TOO_MANY_FRAMES
        self.dropped += problem is not None
        return problem
