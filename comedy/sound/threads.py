"""The microphone's heavy work off the event loop: a few threads shared by every set.

The echo canceller costs tens of milliseconds of CPU a second of a talking visitor's audio, in C
that lets go of the GIL. Run on the event loop, twenty visitors on laptop speakers would hold up
every socket of the process; here they take the threads in turn, as many as there are cores, and
a set whose batch waits for a thread queues its microphone meanwhile (its next batch is larger, or,
past a second of it, its chunks are dropped and said: `comedy.show.microphone_in`). Each set hands over
one batch at a time, so its canceller is only ever used from one thread at a time.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["run"]

T = TypeVar("T")
THREADS = max(2, os.cpu_count() or 2)
_pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="hearing")


async def run(work: Callable[..., T], *args: object) -> T:
    """`work(*args)` in one of the hearing threads, awaited."""
    return await asyncio.get_running_loop().run_in_executor(_pool, work, *args)
