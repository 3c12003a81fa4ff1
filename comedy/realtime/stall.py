"""The stall deadline of a Realtime session: an answer silent for `seconds` is a stall. One timer
serves many events: it re-arms itself lazily, which costs far less per event than wrapping every
read in a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class StallTimer:
    """`arm()` on each read while an answer is awaited; once the deadline passes with no event,
    `stall()` is called (it says whether it ended a waiting read), and `fired()` says so once."""

    def __init__(self, seconds: float, stall: Callable[[], bool]) -> None:
        self.seconds, self._stall = seconds, stall
        self._timer: asyncio.TimerHandle | None = None
        self._deadline = 0.0
        self._fired = False

    def arm(self) -> None:
        """Push the deadline on."""
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self.seconds
        if self._timer is None:
            self._timer = loop.call_at(self._deadline, self._on_deadline)

    def fired(self) -> bool:
        """Whether the deadline ended the read (said once)."""
        fired, self._fired = self._fired, False
        return fired

    def stop(self) -> None:
        """No more deadlines (the session closed)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_deadline(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        if loop.time() < self._deadline:
            self._timer = loop.call_at(self._deadline, self._on_deadline)
            return
        self._fired = self._stall()
