"""A visitor's speech for tests and benchmarks: the house voice saying a line, as microphone audio."""

from __future__ import annotations

import numpy as np

from comedy.house.voice import speak
from comedy.realtime import protocol
from comedy.sound import audio


def spoken(text: str, voice: str = "alloy", silence_after: float = 1.0) -> np.ndarray:
    """The rehearsal voice saying `text`, then silence: a visitor's turn as 24 kHz int16."""
    speech = np.asarray(speak(text, voice), dtype=np.int16)
    pad = np.zeros(int(protocol.SAMPLE_RATE * silence_after), np.int16)
    return np.concatenate([pad[: protocol.SAMPLE_RATE // 4], speech, pad])


def appends(pcm: np.ndarray) -> list[dict]:
    """100 ms append events for 24 kHz int16 audio."""
    step = audio.APPEND_SAMPLES
    return [protocol.audio_append(audio.pcm16_bytes(pcm[i : i + step])) for i in range(0, len(pcm), step)]
