"""The set's ear: what the visitor's microphone holds, and what each sound the server reports is.

The server's turn detection says when sound starts and stops, and nothing more (it neither answers
nor cuts). The ear keeps the session's microphone audio on the server's timeline (`audio_start_ms`
counts from the session's first sample), finds where a reported sound really begins, and hears its
first `room.WINDOW` seconds to tell speech from laughter, applause and noise. While the room laughs
it follows the laugh until it fades. Pure: audio and times in, verdicts out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from comedy import room
from comedy.protocol import SAMPLE_RATE
from comedy.room import Hearing

KEEP_SECONDS = 10.0  # the microphone audio the ear holds
FADE_SECONDS = 0.5  # this long quiet and a laugh is over
MAX_LAUGH_SECONDS = 12.0  # a laugh held longer than this is over anyway (a room that never quiets)
WINDOW_SAMPLES = int(room.WINDOW * SAMPLE_RATE)
TEN_MS = SAMPLE_RATE // 100
REMEMBERED_SOUNDS = 64


@dataclass(frozen=True)
class Verdict:
    """What a reported sound is. `waited`: seconds from the server's report to the verdict;
    `after_onset`: from the sound's first loud 10 ms to the verdict (audio the ear had to hear)."""

    item_id: str
    hearing: Hearing
    talking: bool  # the comedian was talking when the sound began
    waited: float
    after_onset: float


@dataclass(frozen=True)
class Faded:
    """The laugh (or applause) the set was riding is over: its audio, for the room reader."""

    kind: str
    audio: np.ndarray


@dataclass
class _Pending:
    item_id: str
    start: int  # the server's audio_start_ms, in samples
    talking: bool
    since: float


@dataclass
class _Laugh:
    kind: str
    started: float
    audio: list[np.ndarray] = field(default_factory=list)
    quiet: float = 0.0


class Tape:
    """The session's microphone audio as sent, addressed by sample from the session's start."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep = int(keep_seconds * SAMPLE_RATE)
        self.total = 0
        self._chunks: deque[np.ndarray] = deque()
        self._held = 0

    def add(self, pcm: np.ndarray) -> None:
        """Append what was just sent."""
        self._chunks.append(pcm)
        self.total += len(pcm)
        self._held += len(pcm)
        while self._held - len(self._chunks[0]) >= self.keep:
            self._held -= len(self._chunks.popleft())

    def since(self, sample: int) -> np.ndarray:
        """What was sent from `sample` on (as much of it as is still held)."""
        first = self.total - self._held
        held = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        return held[max(0, sample - first) :]

    def onset(self, sample: int) -> int | None:
        """The first loud 10 ms at or after `sample` (None: nothing loud yet)."""
        audio = self.since(sample)
        whole = len(audio) // TEN_MS * TEN_MS
        if not whole:
            return None
        frames = audio[:whole].reshape(-1, TEN_MS).astype(np.float64) / 32768.0
        loud = np.flatnonzero(10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12) > room.LOUD_DBFS)
        return None if not len(loud) else max(sample, self.total - len(audio)) + int(loud[0]) * TEN_MS


def _loud(pcm: np.ndarray) -> bool:
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    return bool(len(x)) and 10 * np.log10(float(np.mean(x * x)) + 1e-12) > room.LOUD_DBFS


class Ear:
    """Hears the reported sounds' starts, and follows the room's laughs until they fade."""

    def __init__(self) -> None:
        self.tape = Tape()
        self.kinds: dict[str, str] = {}  # item -> what it was, for the sounds decided so far
        self._pending: _Pending | None = None
        self._laugh: _Laugh | None = None

    def restart(self) -> None:
        """A new session: its timeline starts at zero; nothing is pending."""
        self.tape, self._pending, self._laugh = Tape(), None, None
        self.kinds.clear()

    @property
    def deciding(self) -> bool:
        """A sound was reported and is still being heard."""
        return self._pending is not None

    @property
    def laughing(self) -> str | None:
        """The kind of laugh being ridden (laughter or applause), if any."""
        return self._laugh.kind if self._laugh else None

    def started(self, item_id: str, audio_start_ms: object, talking: bool, now: float) -> Verdict | None:
        """The server heard a sound start: hear it (now, if enough of it is already here)."""
        if isinstance(audio_start_ms, int) and 0 <= audio_start_ms * SAMPLE_RATE // 1000 <= self.tape.total:
            start = audio_start_ms * SAMPLE_RATE // 1000
        else:  # an odd or missing position: the last second will hold the start
            start = max(0, self.tape.total - SAMPLE_RATE)
        self._pending = _Pending(item_id, start, talking, now)
        return self._hear(now, final=False)

    def stopped(self, item_id: str, now: float) -> Verdict | None:
        """The server heard the sound stop: a sound shorter than the window is heard as it is."""
        if self._pending is not None and self._pending.item_id == item_id:
            return self._hear(now, final=True)
        return None

    def heard(self, pcm: np.ndarray, now: float) -> tuple[Verdict | None, Faded | None]:
        """The microphone's next audio (as sent): a verdict if a sound is now heard enough, and
        the laugh being ridden if it just faded."""
        self.tape.add(pcm)
        return self._hear(now, final=False), self._follow(pcm, now)

    def ride(self, kind: str, now: float) -> None:
        """The room is laughing (or clapping): follow it until it fades."""
        if self._laugh is None:
            self._laugh = _Laugh(kind, now, [self.tape.since(self.tape.total - WINDOW_SAMPLES)])

    def stop_riding(self) -> None:
        """The visitor talks: the laugh is no longer the room's moment."""
        self._laugh = None

    def _follow(self, pcm: np.ndarray, now: float) -> Faded | None:
        laugh = self._laugh
        if laugh is None:
            return None
        laugh.audio.append(pcm)
        laugh.quiet = 0.0 if _loud(pcm) else laugh.quiet + len(pcm) / SAMPLE_RATE
        if laugh.quiet < FADE_SECONDS and now - laugh.started < MAX_LAUGH_SECONDS:
            return None
        self._laugh = None
        return Faded(laugh.kind, np.concatenate(laugh.audio))

    def _hear(self, now: float, final: bool) -> Verdict | None:
        pending = self._pending
        if pending is None:
            return None
        onset = self.tape.onset(pending.start)
        if onset is None and not final:
            return None
        onset = self.tape.total if onset is None else onset
        if not final and self.tape.total < onset + WINDOW_SAMPLES:
            return None
        window = self.tape.since(onset)[:WINDOW_SAMPLES]
        self._pending = None
        hearing = room.hear(window)
        self.kinds[pending.item_id] = hearing.kind
        while len(self.kinds) > REMEMBERED_SOUNDS:
            del self.kinds[next(iter(self.kinds))]
        return Verdict(
            pending.item_id, hearing, pending.talking, now - pending.since, len(window) / SAMPLE_RATE
        )
