"""The tasks a set starts (its reader, microphone, clock, retries, room reader...): each owned, all
cancelled when the set closes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine


class SetTasks:
    """A set's tasks; `started` once any was."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task] = set()
        self.started = False

    def spawn(self, work: Coroutine, name: str) -> asyncio.Task:
        """Run `work` as a task the set owns."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        self.started = True
        task.add_done_callback(self._tasks.discard)
        return task

    def running_one(self) -> bool:
        """Whether the caller runs in one of the set's tasks (which cannot wait for its own cancel)."""
        return asyncio.current_task() in self._tasks

    async def cancel(self) -> None:
        """Cancel every task but the caller's, and wait for them to end."""
        others = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        for task in others:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
