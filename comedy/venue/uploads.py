"""Old uploaded files, deleted on a schedule: every microphone chunk reaches the app as a file.

Gradio's own `delete_cache` walks its file sets while uploads keep adding to them, so under load
it dies with "Set changed size during iteration" and never runs again; this walks copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable

log = logging.getLogger(__name__)


def delete_old_files(file_sets: Iterable[set[str]], age_s: float, keep: set[str] = frozenset()) -> int:
    """Delete the files in `file_sets` older than `age_s`, and forget them; return how many went."""
    now, deleted = time.time(), 0
    for files in file_sets:
        for name in list(files):  # a copy: the set grows while this runs
            if name in keep:
                continue
            try:
                if now - os.lstat(name).st_ctime > age_s:
                    os.remove(name)
                    deleted += 1
                    files.discard(name)
            except FileNotFoundError:
                files.discard(name)
            except OSError as exc:
                log.warning("could not delete %s: %s", name, exc)
    return deleted


def keep_files_for(age_s: float) -> Callable:
    """A FastAPI lifespan that deletes the Gradio app's files once they are older than `age_s`."""
    every = max(1.0, min(60.0, age_s / 4))

    @contextlib.asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        async def sweep() -> None:
            while True:
                await asyncio.sleep(every)
                blocks = app.get_blocks()
                keep = set().union(*(getattr(b, "keep_in_cache", ()) for b in blocks.blocks.values()))
                try:
                    await asyncio.to_thread(delete_old_files, blocks.temp_file_sets, age_s, keep)
                except Exception:  # one bad sweep must not end the sweeping
                    log.exception("deleting old files failed")

        task = asyncio.create_task(sweep(), name="delete-old-files")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan
