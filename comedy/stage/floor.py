"""The floor while the comedian talks, as an explicit state machine (h11 is the model): any sound
over the comedian holds the page's player at once, which is reversible (the player keeps its
buffer and its count, and the answer keeps arriving); the set then decides while held. The room's
laugh keeps the hold until it fades; a cough, noise or the comedian's own echo resumes it; speech
cuts (the cut itself is the answer's lifecycle's, at what was heard before the hold). Pure: what
the set heard in, actions out.

    OPEN --sound--> HELD --resume--> OPEN
    OPEN/HELD --laugh--> RIDING --resume--> OPEN
    HELD/RIDING --cut--> OPEN

Every hold has a deadline (`Held.until`), so a hold never outlives what the set can decide: the
pump calls `due` at it. And a hold proves itself: with the comedian held, its echo stops, so a
microphone that goes quiet once the echo's tail has passed held for the comedian's own voice (or a
sound already over), and the comedian goes on at once, whatever the ear is still deciding.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field, replace

from comedy.stage.actions import Action, Hold, HoldDue, Resume

UNDECIDED_SECONDS = 0.4  # a sound the server never reported: the comedian goes on after this long
DECIDING_SECONDS = 1.6  # a reported sound the ear is still hearing: held this long at most
LAUGH_SECONDS = 8.0  # the longest the comedian holds for a laugh before it goes on over it
ECHO_TAIL_SECONDS = 0.35  # after a hold, the comedian's echo is still in the microphone this long
DRY_TAIL_SECONDS = 0.15  # ...with no echo (headphones): what was in flight when the player held
QUIET_PROOF_SECONDS = 0.2  # after the tail, this long with nothing loud: no one else was there
SOMEONE_LOUD = 2  # ...and loud this many times after it (an echo's last tail is loud once at most)


class FloorState(enum.Enum):
    """Who has the floor while the comedian talks."""

    OPEN = "open"  # the comedian plays on (or nothing plays)
    HELD = "held"  # a sound over the comedian: the player holds while the set decides
    RIDING = "riding"  # the room laughs (or claps): held until it fades


OPEN, HELD, RIDING = FloorState
# (state, what happened) -> the next state; anything not listed leaves the state as it is.
TRANSITIONS: dict[tuple[FloorState, str], FloorState] = {
    (OPEN, "sound"): HELD,
    (OPEN, "laugh"): RIDING,
    (HELD, "laugh"): RIDING,
    (HELD, "resume"): OPEN,
    (RIDING, "resume"): OPEN,
    (HELD, "cut"): OPEN,
    (RIDING, "cut"): OPEN,
}


@dataclass(frozen=True)
class Held:
    """A hold's payload: what it is for, since when, and when it ends unless decided otherwise."""

    why: str  # "onset" (the set heard it first), "reported" (the server did), "laughter", "applause"
    since: float
    until: float
    tail: float = ECHO_TAIL_SECONDS  # how long its sound may still be the comedian's own
    loud: int = 0  # loud audio heard after the tail
    someone: bool = False  # loud `SOMEONE_LOUD` times after the tail: someone else is there


@dataclass
class FloorCounts:
    """What the floor did in a set, for the meters and the benchmarks."""

    holds: int = 0
    resumes: int = 0
    proved_empty: int = 0  # holds let go because the microphone went quiet with the comedian held
    cuts: int = 0
    laughs: int = 0
    held_seconds: float = 0.0
    why: Counter[str] = field(default_factory=Counter)  # holds by what began them


class Floor:
    """The floor's state and its hold, if any; each move returns what the player must do."""

    def __init__(self) -> None:
        self.state = OPEN
        self.held: Held | None = None
        self.counts = FloorCounts()
        self.loud = False  # the microphone's latest audio was loud

    def _go(self, happened: str) -> FloorState:
        before, self.state = self.state, TRANSITIONS.get((self.state, happened), self.state)
        return before

    def sound(self, why: str, now: float, deciding: bool = False, echo: bool = True) -> list[Action]:
        """A sound over the comedian: hold at once (a hold already on for a sound waits for the ear
        when the server has now reported it); `echo`: the microphone may hold the comedian's echo."""
        if self.state is HELD and self.held is not None and deciding:
            return self._until(max(self.held.until, self.held.since + DECIDING_SECONDS))
        if self._go("sound") is not OPEN:
            return []
        self.counts.holds += 1
        self.counts.why[why] += 1
        wait = DECIDING_SECONDS if deciding else UNDECIDED_SECONDS
        self.held = Held(why, now, now + wait, ECHO_TAIL_SECONDS if echo else DRY_TAIL_SECONDS)
        return [Hold(), HoldDue(self.held.until)]

    def heard(self, loud: bool, now: float) -> list[Action]:
        """The microphone's latest audio, loud or not: a hold whose microphone stayed quiet once its
        tail passed held for no one, and the comedian goes on."""
        self.loud = loud
        held = self.held
        if self.state is OPEN or held is None or now < held.since + held.tail:
            return []
        if loud:
            self.held = held = replace(held, loud=held.loud + 1, someone=held.loud + 1 >= SOMEONE_LOUD)
        if held.someone or loud or now < held.since + held.tail + QUIET_PROOF_SECONDS:
            return []
        self.counts.proved_empty += 1
        return self.resume(now)

    def laugh(self, kind: str, now: float) -> list[Action]:
        """The room laughs (or claps) over the comedian: hold for it until it fades, or the cap."""
        before = self._go("laugh")
        if before is RIDING or self.state is not RIDING:
            return []
        self.counts.laughs += 1
        if self.held is not None:
            self.held = replace(self.held, why=kind, until=now + LAUGH_SECONDS)
        else:
            self.held = Held(kind, now, now + LAUGH_SECONDS, DRY_TAIL_SECONDS, someone=True)
        if before is OPEN:
            self.counts.holds += 1
            return [Hold(), HoldDue(self.held.until)]
        return [HoldDue(self.held.until)]

    def resume(self, now: float) -> list[Action]:
        """Go on from where the hold stopped."""
        if self._go("resume") is OPEN:
            return []
        self._release(now)
        self.counts.resumes += 1
        return [Resume()]

    def cut(self, now: float) -> None:
        """The comedian is cut: the cut drops what the player held, so the hold is over with it."""
        if self._go("cut") is not OPEN:
            self._release(now)
            self.counts.cuts += 1

    def reset(self) -> None:
        """A new session or a dropped player: nothing is held."""
        self.state, self.held = OPEN, None

    def due(self, now: float, deciding: bool) -> list[Action]:
        """A hold's deadline came: resume, unless the ear is still hearing a reported sound or the
        sound goes on (held then until `DECIDING_SECONDS` from the hold's start at most)."""
        held = self.held
        if self.state is OPEN or held is None or now < held.until:
            return []
        if self.state is HELD and (deciding or held.someone) and now < held.since + DECIDING_SECONDS:
            return self._until(held.since + DECIDING_SECONDS)
        return self.resume(now)

    def _until(self, until: float) -> list[Action]:
        assert self.held is not None
        if until <= self.held.until:
            return []
        self.held = replace(self.held, until=until)
        return [HoldDue(until)]

    def _release(self, now: float) -> None:
        if self.held is not None:
            self.counts.held_seconds += max(0.0, now - self.held.since)
        self.held = None
