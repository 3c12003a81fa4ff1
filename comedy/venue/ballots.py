"""Who may vote in the voice battle, and when: a vote means a visitor heard both voices.

A battle served to a visitor opens a ballot; it can be cast once the visitor's page says both takes
played through, and no sooner than they take to play (a client cannot report faster than sound).
One vote per visitor per pair of voices per day (UTC), and the club takes votes no faster than
`VOTES_PER_MINUTE` over everyone: a leaderboard is made by many people, not by one fast client.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass

from comedy.sound.pacing import Pace

__all__ = ["Ballot", "Ballots"]

VOTES_PER_MINUTE = 30.0  # over every visitor...
VOTE_BURST = 10.0  # ...plus this many at once
HEAR_FIRST = "Hear a battle first: one vote per battle."
PLAY_FIRST = "Hear both voices to the end first: then vote."
VOTED = "You voted on these two voices today already: try another pair."
BUSY = "Many people are voting right now: try again in a few seconds."


@dataclass
class Ballot:
    """A battle served to a visitor: its style and voices, and when both takes will have played."""

    style: str
    first: str
    second: str
    playable_at: float  # monotonic: the takes cannot have played through before this
    played: bool = False


class Ballots:
    """Each visitor's open ballot, and the pairs each has voted on today."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._open: dict[str, Ballot] = {}
        self._voted: dict[str, set[tuple[str, str, str]]] = {}  # visitor -> (day, voice, voice)
        self._pace = Pace(VOTES_PER_MINUTE / 60, VOTE_BURST, clock)

    def served(self, visitor: str, style: str, first: str, second: str, seconds: float) -> None:
        """The visitor was given a battle whose takes play for `seconds`."""
        self._open[visitor] = Ballot(style, first, second, self._clock() + seconds)

    def played(self, visitor: str) -> bool:
        """The visitor's page says both takes played through; whether that is believed."""
        ballot = self._open.get(visitor)
        if ballot is None or self._clock() < ballot.playable_at:
            return False
        ballot.played = True
        return True

    def cast(self, visitor: str, today: dt.date | None = None) -> Ballot:
        """The visitor's ballot, taken (ValueError in words when there is no vote to cast)."""
        ballot = self._open.get(visitor)
        if ballot is None:
            raise ValueError(HEAR_FIRST)
        if not ballot.played:
            raise ValueError(PLAY_FIRST)
        day = str(today or dt.datetime.now(dt.UTC).date())
        pair = (day, *sorted((ballot.first, ballot.second)))
        voted = self._voted.setdefault(visitor, set())
        if pair in voted:
            del self._open[visitor]
            raise ValueError(VOTED)
        if not self._pace.take(1):
            raise ValueError(BUSY)
        del self._open[visitor]
        voted.add(pair)
        return ballot

    def forget(self, visitor: str) -> None:
        """The visitor left: their open ballot goes (the pairs they voted on stay, for the day)."""
        self._open.pop(visitor, None)

    def new_day(self, today: dt.date) -> None:
        """Forget the pairs voted on before `today`."""
        for visitor in list(self._voted):
            kept = {pair for pair in self._voted[visitor] if pair[0] == str(today)}
            if kept:
                self._voted[visitor] = kept
            else:
                del self._voted[visitor]
