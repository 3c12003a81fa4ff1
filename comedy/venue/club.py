"""The club: the sets of one app process, one per browser tab, and the one gate to its seats."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from comedy.show.comedy_set import ComedySet

__all__ = ["Club", "ClubFull"]


class ClubFull(RuntimeError):
    """No seat, or no money: the words say which."""


class Club:
    """The sets of one app process, one per browser tab, and the one gate to its seats.

    A seat is a Realtime session held for a visitor: their set, or a voice take being recorded
    (`max_sets` of them at once in all). A visitor records one take at a time, none while their
    show is on (`comedy.venue.front`); a Start while their take is still recording takes a second seat
    for those seconds. A seat is held only while connected: a set that fails to connect gives its
    seat back.
    """

    def __init__(self, max_sets: int = 20) -> None:
        self.max_sets = max_sets
        self.sets: dict[str, ComedySet] = {}
        self._listening: dict[str, int] = {}  # visitors with streams open (speaker, engine, page), how many
        self._left: set[str] = set()  # of those, the ones whose tab closed
        self.ended: dict[str, ComedySet] = {}  # each visitor's last ended set, to save it
        self._auditioning: set[str] = set()  # visitors having an audition take recorded now
        self._arrivals: dict[str, asyncio.Event] = {}  # wakes a tab's streams when its set is seated

    def get(self, visitor: str) -> ComedySet | None:
        """The visitor's open set, if any."""
        found = self.sets.get(visitor)
        return found if found is not None and not found.closed else None

    def seated(self) -> set[str]:
        """The visitors holding a seat now."""
        return {v for v, s in self.sets.items() if not s.closed} | self._auditioning

    def seats(self) -> int:
        """The seats held now: open sets and takes being recorded."""
        return sum(1 for s in self.sets.values() if not s.closed) + len(self._auditioning)

    @property
    def leaving(self) -> int:
        """Tabs that closed while one of their streams is still winding down."""
        return len(self._left)

    def listening(self, visitor: str) -> bool:
        """Whether the visitor has a stream open (their page is there)."""
        return visitor in self._listening

    def _check_seat(self) -> None:
        if self.seats() >= self.max_sets:
            raise ClubFull("The club is full, try again in a minute.")

    async def seat(self, visitor: str, make: Callable[[], ComedySet]) -> ComedySet:
        """The visitor's set, connected: theirs if they have one, else a new one made by `make`.

        ClubFull past the cap; a RealtimeError when it cannot connect, and then no seat is kept.
        """
        found = self.get(visitor)
        if found is None:
            self._check_seat()
            self.sets[visitor] = found = make()
            self._arrived(visitor)
        try:
            await found.start()
        except BaseException:
            if self.sets.get(visitor) is found and not found.stage.transcript:  # nothing of it to keep
                del self.sets[visitor]
                await found.close("Could not connect")
            raise
        return found

    @contextlib.asynccontextmanager
    async def audition_seat(self, visitor: str) -> AsyncIterator[None]:
        """Hold a seat while an audition take is recorded; one take at a time per visitor."""
        if visitor in self._auditioning:
            raise ClubFull("A take is being recorded for you already: one at a time, please.")
        self._check_seat()
        self._auditioning.add(visitor)
        try:
            yield
        finally:
            self._auditioning.discard(visitor)

    def _arrived(self, visitor: str) -> None:
        """Wake what waits for the visitor's next set (it is seated, or their tab closed)."""
        if (arrival := self._arrivals.pop(visitor, None)) is not None:
            arrival.set()

    async def arrival(
        self, visitor: str, seconds: float, stop: asyncio.Event | None = None
    ) -> ComedySet | None:
        """The visitor's open set, waiting up to `seconds` for one to be seated (None: none came,
        or `stop` was set first)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while (found := self.get(visitor)) is None and not (stop and stop.is_set()):
                    waits = [
                        asyncio.ensure_future(self._arrivals.setdefault(visitor, asyncio.Event()).wait())
                    ]
                    if stop is not None:
                        waits.append(asyncio.ensure_future(stop.wait()))
                    try:
                        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for wait in waits:
                            wait.cancel()
                return found
        return None

    async def sets_of(self, visitor: str) -> AsyncIterator[ComedySet]:
        """Each set the visitor opens, one after another, until their tab closes."""
        self._listening[visitor] = self._listening.get(visitor, 0) + 1
        try:
            while visitor not in self._left:
                found = self.get(visitor)
                if found is None:  # woken when a set is seated (an opener plays at once) or the tab left
                    await self._arrivals.setdefault(visitor, asyncio.Event()).wait()
                    continue
                yield found
                await found.finished.wait()  # the caller stopped listening to it early: until it ends
        finally:
            self._listening[visitor] -= 1
            if not self._listening[visitor]:  # the last of the tab's streams is gone
                del self._listening[visitor]
                self._left.discard(visitor)
                self._arrivals.pop(visitor, None)

    async def hang_up(
        self, visitor: str, reason: str = "The set is over", left: bool = False
    ) -> ComedySet | None:
        """Close and forget the visitor's set; `left` when their tab closed (nothing of it is kept)."""
        if left:
            self.ended.pop(visitor, None)
            if visitor in self._listening:
                self._left.add(visitor)
            self._arrived(visitor)  # its streams waiting for a set stop waiting
        found = self.sets.pop(visitor, None)
        if found is not None:
            if not left:  # kept before it closes: its page's stream saves it the moment it is closed
                self.ended[visitor] = found
            await found.close(reason)
        return found
