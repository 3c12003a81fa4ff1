"""Speech to a player and what the player reports back, as typed records: the stage reads the
reports, each transport adapter (the engine's socket, Gradio's streams) speaks them. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comedy.stage.actions import Caption, EndOfAnswer, Hold, Play, Resume


@dataclass(frozen=True)
class Cut:
    """A heckle cut the comedian: the player drops all it holds, at once."""


Piece = Play | Caption | EndOfAnswer | Cut | Hold | Resume


# --- what a player reports back


@dataclass(frozen=True)
class Played:
    """A player that counts (the engine's): `samples` of an item have reached the visitor."""

    item_id: str
    samples: int


@dataclass(frozen=True)
class CutHeard:
    """After a cut: the player's counts now say all the visitor heard."""


@dataclass(frozen=True)
class Started:
    """An item's first sample reached the output device at `at` (monotonic)."""

    item_id: str
    at: float


@dataclass(frozen=True)
class Scheduled:
    """Audio of an item will play from `at` (monotonic), for the set's recording; `counted`: the
    player keeps no count of its own (Gradio's audio), so this is what the visitor hears."""

    item_id: str
    pcm: np.ndarray
    at: float
    counted: bool = False


@dataclass(frozen=True)
class Landed:
    """An answer's last sample plays at `at`: the room is listened to after it."""

    at: float


Report = Played | CutHeard | Started | Scheduled | Landed
