"""The club's voice takes (a voice's preview, the battle's bit, a set's opener): lines of the app's
own, so there are only so many takes to make, each made once for everyone and kept on disk
(`comedy.venue.audition`), on one upstream session however many visitors ask for it at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from comedy.venue.audition import DEFAULT_LINE

__all__ = ["BATTLE_LINE", "PREVIEW_LINE", "Takes"]

PREVIEW_LINE = DEFAULT_LINE  # what every voice says in its preview
BATTLE_LINE = (
    "My smart speaker reminds me of my dentist appointment in a voice that sounds personally let down."
)


class Takes:
    """The takes being made now, by where each will be kept: one maker each, every asker waits on it."""

    def __init__(self) -> None:
        self._making: dict[Path, asyncio.Future[None]] = {}

    def making(self, path: Path) -> bool:
        """Whether the take for `path` is being made now."""
        return path in self._making

    def __len__(self) -> int:
        return len(self._making)

    async def shared(self, path: Path, make: Callable[[], Awaitable[None]]) -> None:
        """Until the take for `path` is made: by `make` unless someone is making it already (then
        `make` is not called). A waiter that goes stops nothing the others wait for; the maker's
        failure is everyone's."""
        task = self._making.get(path)
        if task is None:
            task = self._making[path] = asyncio.ensure_future(make())
            task.add_done_callback(lambda done: self._forget(path, done))
        await asyncio.shield(task)

    def _forget(self, path: Path, done: asyncio.Future[None]) -> None:
        if self._making.get(path) is done:
            del self._making[path]
        if not done.cancelled():
            done.exception()  # retrieved: a failure nobody waited for is no "never retrieved" warning
