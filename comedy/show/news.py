"""News for the page: a long-lived stream waits here until what the page shows has changed."""

from __future__ import annotations

import asyncio
import contextlib


class News:
    """Wakes the page's stream when the set's version moves."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._seen = -1

    def saw(self, version: int) -> None:
        """The set is at `version`: a new one is news."""
        if version != self._seen:
            self._seen = version
            self._event.set()

    async def wait(self, timeout: float = 1.0) -> None:
        """Until there is news (or `timeout` passed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._event.wait()
        self._event.clear()
