"""Which visitors have their page open, and the long-lived streams each may hold.

A page is open while its heartbeat is (Gradio's page, and `gradio_client`, hold one long request
open per session for as long as the tab lives; the web adapter counts them). A long-lived stream
(the page's updates, Gradio's fallback speech) runs only for an open page, one of each kind per
visitor: a newer one stops the older, and every one stops when the page goes. So no client can
hold more of the server's stream slots than it has open pages, and none outlives its page.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

__all__ = ["Pages", "Stream"]

T = TypeVar("T")


class Stream:
    """One long-lived stream of a visitor's: `stopped` is set when a newer one of its kind
    replaces it or the page closes."""

    def __init__(self, visitor: str, kind: str) -> None:
        self.visitor, self.kind = visitor, kind
        self.stopped = asyncio.Event()

    async def until_stopped(self, source: AsyncIterator[T]) -> AsyncIterator[T]:
        """What `source` yields, until the stream is stopped (then `source` is closed)."""
        stop = asyncio.ensure_future(self.stopped.wait())
        try:
            while not self.stopped.is_set():
                step = asyncio.ensure_future(anext(source))
                done, _ = await asyncio.wait({step, stop}, return_when=asyncio.FIRST_COMPLETED)
                if step not in done:
                    step.cancel()
                    with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                        await step
                    return
                try:
                    value = step.result()
                except StopAsyncIteration:
                    return
                yield value
        finally:
            stop.cancel()
            with contextlib.suppress(RuntimeError):  # closing a source that another task is running
                await source.aclose()  # type: ignore[attr-defined]


class Pages:
    """The visitors whose page is open (how many heartbeats each), and their streams."""

    def __init__(self) -> None:
        self._beats: dict[str, int] = {}
        self._arrived: dict[str, asyncio.Event] = {}  # wakes what waits for a page to open
        self._streams: dict[tuple[str, str], Stream] = {}

    def __contains__(self, visitor: str) -> bool:
        return visitor in self._beats

    def __len__(self) -> int:
        return len(self._beats)

    def opened(self, visitor: str) -> None:
        """A heartbeat of the visitor's page began."""
        self._beats[visitor] = self._beats.get(visitor, 0) + 1
        if (arrived := self._arrived.pop(visitor, None)) is not None:
            arrived.set()

    def closed(self, visitor: str) -> None:
        """A heartbeat of the visitor's page ended; with the last one, the page is gone and its
        streams stop."""
        left = self._beats.get(visitor, 0) - 1
        if left > 0:
            self._beats[visitor] = left
            return
        self._beats.pop(visitor, None)
        for key in [key for key in self._streams if key[0] == visitor]:
            self._streams.pop(key).stopped.set()

    async def wait_open(self, visitor: str, seconds: float) -> bool:
        """Whether the visitor's page is open, waiting up to `seconds` for it to open."""
        if visitor in self._beats:
            return True
        arrived = self._arrived.setdefault(visitor, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await arrived.wait()
        if not arrived.is_set() and self._arrived.get(visitor) is arrived:
            del self._arrived[visitor]  # nobody else waits on it: a page that never came leaves nothing
        return visitor in self._beats

    def streams(self) -> int:
        """Streams running now."""
        return len(self._streams)

    @contextlib.contextmanager
    def stream(self, visitor: str, kind: str):
        """Hold the visitor's one stream of `kind` (the one before it stops); it is stopped at once
        when the page is not open."""
        key = (visitor, kind)
        stream = Stream(visitor, kind)
        if (older := self._streams.get(key)) is not None:
            older.stopped.set()
        if visitor in self._beats:
            self._streams[key] = stream
        else:
            stream.stopped.set()
        try:
            yield stream
        finally:
            if self._streams.get(key) is stream:
                del self._streams[key]
