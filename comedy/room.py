"""The room reader: after a punchline, hear whether the room laughs, stays silent or talks.

It works on the visitor's microphone at 24 kHz: 20 ms frames, their loudness, and how noise-like
they are (spectral flatness). Laughter and applause are loud, breathy, noise-like bursts; speech is
loud and voiced (harmonic, so not flat); silence is neither.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comedy.protocol import SAMPLE_RATE

FRAME = SAMPLE_RATE // 50  # 20 ms
LOUD_DBFS = -45.0
NOISY_FLATNESS = 0.25  # voiced speech sits well below this; laughter and applause above
REACTIONS = {"laughter": "laughing", "applause": "cheering", "silence": "silent", "speech": "heckling"}


@dataclass(frozen=True)
class RoomReading:
    """What the room did: `kind` is laughter, applause, silence or speech."""

    kind: str
    laugh: float  # the laugh meter, 0..1
    loud_share: float
    noisy_share: float

    def meter(self) -> dict[str, float]:
        """Shares for the page's laugh meter."""
        return {
            "laughter": self.laugh,
            "talking": round(self.loud_share * (1 - self.noisy_share), 3),
            "silence": round(1 - self.loud_share, 3),
        }

    @property
    def reaction(self) -> str:
        """The `audience_reaction` this reading suggests for the next joke."""
        return REACTIONS[self.kind]


def read_room(pcm: np.ndarray) -> RoomReading:
    """Classify a few seconds of the room (int16 mono, 24 kHz)."""
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    if len(frames) == 0:
        return RoomReading("silence", 0.0, 0.0, 0.0)
    power = np.mean(frames * frames, axis=1)
    loud = 10 * np.log10(np.maximum(power, 1e-12)) > LOUD_DBFS
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1))[:, 1:] + 1e-12
    flatness = np.exp(np.mean(np.log(spectrum), axis=1)) / np.mean(spectrum, axis=1)
    loud_share = float(np.mean(loud))
    noisy_share = float(np.mean(flatness[loud] > NOISY_FLATNESS)) if loud.any() else 0.0
    laugh = round(min(1.0, loud_share * 2) * noisy_share, 3)
    if loud_share < 0.1:
        kind = "silence"
    elif noisy_share >= 0.5:
        # Laughter comes in bursts; applause is a steady wash of noise.
        switches = np.count_nonzero(np.diff(loud.astype(np.int8)))
        kind = "laughter" if switches / len(loud) > 0.04 else "applause"
    else:
        kind = "speech"
    return RoomReading(kind, laugh, round(loud_share, 3), round(noisy_share, 3))
