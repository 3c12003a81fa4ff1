"""What the stage asks its pump to do: each action a small frozen record, carried out by the pump
(`comedy.show.ComedySet` for a live set, `comedy.show.answer` for a one-shot answer)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from comedy.realtime.endings import Ending
from comedy.realtime.protocol import Event
from comedy.stage.transcript import Turn


@dataclass(frozen=True)
class Send:
    """Send this event to the Realtime session (`replace_settings`: in place of the remembered ones)."""

    event: Event
    replace_settings: bool = False


@dataclass(frozen=True)
class Play:
    """Play this audio of an answer's item."""

    item_id: str
    pcm: np.ndarray


@dataclass(frozen=True)
class Caption:
    """Words of an item, which arrived when `at` samples of its audio had: a player that keeps its
    own clock shows them once it has played that far."""

    item_id: str
    text: str
    at: int


@dataclass(frozen=True)
class EndOfAnswer:
    """The answer's audio is all there: play out its tail."""

    item_id: str


@dataclass(frozen=True)
class DropSpeech:
    """Drop everything queued or held by the player, at once."""


@dataclass(frozen=True)
class Hold:
    """A sound over the comedian: the player pauses at once, keeping all it holds and its count."""


@dataclass(frozen=True)
class Resume:
    """The sound was not someone talking: the player goes on from where it held."""


@dataclass(frozen=True)
class HoldDue:
    """Call the stage's `hold_due` at `at` (monotonic): a hold never outlives its deadline."""

    at: float


@dataclass(frozen=True)
class AwaitCut:
    """Wait (briefly) for the page's player to say where it fell silent, then call `finish_cut`."""


@dataclass(frozen=True)
class RetryLater:
    """Ask again (`ask_again(why)`) after `seconds`."""

    seconds: float
    why: str


@dataclass(frozen=True)
class Cover:
    """OpenAI is away: the house comedian fills the silence (`covered` says what was said)."""


@dataclass(frozen=True)
class Restart:
    """Open a fresh session (the API fixes the voice once spoken, and the model per connection)."""

    why: str


@dataclass(frozen=True)
class LoseSession:
    """The connection is given up: the next request connects again."""


@dataclass(frozen=True)
class Close:
    """End the set, saying why."""

    reason: str


@dataclass(frozen=True)
class ReadRoom:
    """Read the room after a punchline (tens of milliseconds of analysis: off the event loop),
    then hand the reading back to `Stage.room_read`. `laughed`: the laugh the set rode, if any."""

    audio: np.ndarray
    laughed: str
    joke: Turn | None


@dataclass(frozen=True)
class AnswerEnded:
    """An answer's `response.done`, as the stage read it: how it ended, what it used, and whether
    the stage asked again (a failure retried, a heckle answered after a cut)."""

    ending: Ending
    usage: Mapping
    asked_again: bool


@dataclass(frozen=True)
class Note:
    """For the status line, not the pump: the stage's machines return these and the stage writes
    them, in order, into the one record the page reads (`SetStatus`). `status`: the new status;
    `problem`: the last problem ("" when the set is well again); neither: what the page shows
    changed (a line, a score); `cut`: a cut was made; `censored`: whether the last answer was cut by
    the content filter; `active_at`: when the visitor last did something."""

    status: str | None = None
    problem: str | None = None
    cut: bool = False
    censored: bool | None = None
    active_at: float | None = None


Action = (
    Note
    | Send
    | Play
    | Caption
    | EndOfAnswer
    | DropSpeech
    | Hold
    | Resume
    | HoldDue
    | AwaitCut
    | RetryLater
    | Cover
    | Restart
    | LoseSession
    | Close
    | ReadRoom
    | AnswerEnded
)
