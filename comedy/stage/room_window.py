"""What the room did around a joke: the laughs ridden while it was told, and the few seconds after
its punchline, held (by samples, whatever the clock says) until the room is read for its score.
Pure: audio and times in; what to read, and when, out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE

ROOM_SECONDS = 3.0  # how long the room reader listens after a punchline
MAX_ROOM_SECONDS = 12.0  # the room window stays open this long at most while a laugh goes on
MAX_ROOM_SAMPLES = int(MAX_ROOM_SECONDS * SAMPLE_RATE)  # ...and holds no more audio than that


@dataclass
class RoomWindow:
    """The room around the joke being told and after its punchline."""

    window: tuple[float, float] | None = None  # (from, until): listening after a punchline
    audio: list[np.ndarray] = field(default_factory=list)  # heard in the window
    held: int = 0  # samples in `audio`
    laughed: str = ""  # the room laughed (or clapped) after this punchline and it faded
    reacted: list[np.ndarray] = field(default_factory=list)  # laughs ridden while the joke was told

    @property
    def listening(self) -> bool:
        """Whether a punchline landed and the room is being listened to."""
        return self.window is not None

    def landed(self, at: float) -> None:
        """A punchline finished playing at `at`: listen to the room for a few seconds."""
        self.window, self.audio, self.laughed, self.held = (at, at + ROOM_SECONDS), [], "", 0

    def hear(self, pcm: np.ndarray, now: float, laughing: bool) -> bool:
        """The microphone's next audio; whether the room is now to be read (the window is over,
        or a laugh in it faded; a laugh going on keeps it open, for so long at most)."""
        if self.window is None:
            return False
        start, end = self.window
        if now >= start and self.held < MAX_ROOM_SAMPLES:
            self.audio.append(pcm)
            self.held += len(pcm)
        held_open = laughing and now < start + MAX_ROOM_SECONDS
        return bool(self.laughed) or (now >= end and not held_open)

    def faded(self, kind: str, audio: np.ndarray) -> None:
        """A laugh the comedian rode is over: after a punchline it is the room's answer; during
        a joke it counts when the joke is scored (the last `MAX_ROOM_SECONDS` of such laughs)."""
        if self.window is not None and self.audio:
            self.laughed = kind
        else:
            self.reacted = _last_samples([*self.reacted, audio], MAX_ROOM_SAMPLES)

    def take(self) -> tuple[np.ndarray, str]:
        """What the room did (its audio, at most twice the window, and the laugh that faded in
        it, if any), and start over."""
        heard = np.concatenate([*self.reacted, *self.audio, np.zeros(0, np.int16)])
        laughed = self.laughed
        self.window, self.audio, self.reacted, self.held, self.laughed = None, [], [], 0, ""
        return heard[-2 * MAX_ROOM_SAMPLES :], laughed

    def new_joke(self) -> None:
        """A new answer starts: the laughs ridden during the last one are forgotten."""
        self.reacted = []


def _last_samples(pieces: list[np.ndarray], most: int) -> list[np.ndarray]:
    """The latest pieces that together hold at most `most` samples (the last one cut to fit)."""
    kept, held = [], 0
    for piece in reversed(pieces):
        if held + len(piece) > most:
            kept.append(piece[len(piece) - (most - held) :])
            break
        kept.append(piece)
        held += len(piece)
    return kept[::-1]
