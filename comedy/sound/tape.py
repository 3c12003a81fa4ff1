"""The ear's raw material: the session's microphone audio on the server's timeline (`Tape`), and the
runs of speech a detector hears in it while the comedian talks (`SpeechRuns`). Pure."""

from __future__ import annotations

from collections import deque

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound import room, speech

KEEP_SECONDS = 10.0  # the microphone audio the ear holds
TEN_MS = SAMPLE_RATE // 100
BARGE_IN_SECONDS = 0.2  # a run of speech this long, while the comedian talks, is someone talking
SPEECH_ON, SPEECH_HOLD = 0.5, 0.35  # a run starts above the first probability, holds above the second
CHUNK_SAMPLES = round(speech.CHUNK_SECONDS * SAMPLE_RATE)


class Tape:
    """The session's microphone audio as sent, addressed by sample from the session's start: the
    last `keep_seconds` at least, in one buffer. A read is a view that stays as it was (the buffer
    is only written past what was read, and replaced, not moved, when full)."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep = int(keep_seconds * SAMPLE_RATE)
        self.total = 0
        self._buffer: np.ndarray | None = None  # made on the first add, of its dtype
        self._held = 0  # samples held, at the buffer's start

    def add(self, pcm: np.ndarray) -> None:
        """Append what was just sent."""
        pcm = np.asarray(pcm)
        n = len(pcm)
        if self._buffer is None or self._held + n > len(self._buffer):
            kept = min(self._held, self.keep)
            buffer = np.zeros(2 * self.keep + n, pcm.dtype)
            if self._buffer is not None:
                buffer[:kept] = self._buffer[self._held - kept : self._held]
            self._buffer, self._held = buffer, kept
        self._buffer[self._held : self._held + n] = pcm
        self._held += n
        self.total += n

    def since(self, sample: int) -> np.ndarray:
        """What was sent from `sample` on (as much of it as is still held)."""
        if self._buffer is None:
            return np.zeros(0, np.int16)
        first = self.total - self._held
        return self._buffer[max(0, sample - first) : self._held]

    def around(self, sample: int, before: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to `before` samples held before `sample`, and `length` from it on."""
        first = self.total - self._held
        start = max(first, sample - before, 0)
        audio = self.since(start)
        split = max(0, sample - start)
        return audio[:split], audio[split : split + length]

    def onset(self, sample: int) -> int | None:
        """The first loud 10 ms at or after `sample` (None: nothing loud yet)."""
        audio = self.since(sample)
        whole = len(audio) // TEN_MS * TEN_MS
        if not whole:
            return None
        frames = audio[:whole].reshape(-1, TEN_MS).astype(np.float64) / 32768.0
        loud = np.flatnonzero(10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12) > room.LOUD_DBFS)
        return None if not len(loud) else max(sample, self.total - len(audio)) + int(loud[0]) * TEN_MS


def loud(pcm: np.ndarray) -> bool:
    """Whether audio is loud enough to be someone's sound (`room.LOUD_DBFS`)."""
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    return bool(len(x)) and 10 * np.log10(float(np.mean(x * x)) + 1e-12) > room.LOUD_DBFS


class SpeechRuns:
    """Runs of speech the detector heard while the comedian talked, on the tape's timeline."""

    def __init__(self) -> None:
        self.detector: speech.SpeechDetector | None = None  # made when first needed
        self.start: int | None = None  # where the current run began
        self.length = 0  # its length, in chunks
        self.number = 0  # counts the runs: each is acted on once
        self.runs: deque[tuple[int, int]] = deque(maxlen=16)  # (start, end) of runs long enough

    def listen(
        self, pcm: np.ndarray, end: int, long_enough: float = BARGE_IN_SECONDS, audible: bool = True
    ) -> None:
        """The detector's reading of the next audio, which ends at tape sample `end`; a run of
        `long_enough` seconds counts; nothing is asked of the model where nothing was `audible`."""
        self.detector = self.detector or speech.SpeechDetector()
        for p in self.detector.feed(pcm, audible):
            if p >= SPEECH_ON or (self.length and p >= SPEECH_HOLD):
                self.number += not self.length
                self.length += 1
            else:
                self.length = 0
        if not self.length:
            self.start = None
        elif self.start is None:
            self.start = end - self.length * CHUNK_SAMPLES
        if self.start is not None and self.length * speech.CHUNK_SECONDS >= long_enough:
            if self.runs and self.runs[-1][0] == self.start:
                self.runs[-1] = (self.start, end)
            else:
                self.runs.append((self.start, end))

    def rest(self) -> None:
        """The comedian stopped: the next stretch of listening starts afresh."""
        if self.detector is not None:
            self.detector.reset()
        self.start, self.length = None, 0
