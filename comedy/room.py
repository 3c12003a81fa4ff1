"""The room reader: after a punchline, hear whether the room laughs, stays silent or talks.

It works on the visitor's microphone at 24 kHz in 20 ms frames, with librosa's features: loudness
(RMS), how noise-like each frame is (spectral flatness) and how often the sound switches on and
off (RMS bursts). Laughter and applause are loud, breathy, noise-like; laughter comes in bursts
and applause is a steady wash; speech is loud and voiced (harmonic, so not flat); silence is
neither. librosa's first call compiles its kernels (seconds on a fresh machine): `warm_up` pays
that once, in the background, at start-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import librosa
import numpy as np

from comedy.protocol import SAMPLE_RATE

FRAME = SAMPLE_RATE // 50  # 20 ms
N_FFT = 512  # the frame, zero-padded to a power of two for the spectrum
LOUD_DBFS = -45.0
NOISY_FLATNESS = 0.25  # voiced speech sits well below this; laughter and applause above
BURSTS_PER_FRAME = 0.04  # laughter switches on and off at least this often; applause does not
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


def features(pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 20 ms frame: loudness in dBFS and spectral flatness (int16 mono, 24 kHz in)."""
    x = np.asarray(pcm, dtype=np.float32) / 32768.0
    x = x[: len(x) // FRAME * FRAME]
    rms = librosa.feature.rms(y=x, frame_length=FRAME, hop_length=FRAME, center=False)[0]
    flatness = librosa.feature.spectral_flatness(
        y=x, n_fft=N_FFT, win_length=FRAME, hop_length=FRAME, center=False, amin=1e-12
    )[0]
    n = min(len(rms), len(flatness))
    return librosa.amplitude_to_db(rms[:n], ref=1.0, amin=1e-6, top_db=None), flatness[:n]


def read_room(pcm: np.ndarray) -> RoomReading:
    """Classify a few seconds of the room (int16 mono, 24 kHz)."""
    if len(pcm) < FRAME:
        return RoomReading("silence", 0.0, 0.0, 0.0)
    loudness, flatness = features(pcm)
    loud = loudness > LOUD_DBFS
    loud_share = float(np.mean(loud))
    noisy_share = float(np.mean(flatness[loud] > NOISY_FLATNESS)) if loud.any() else 0.0
    laugh = round(min(1.0, loud_share * 2) * noisy_share, 3)
    if loud_share < 0.1:
        kind = "silence"
    elif noisy_share >= 0.5:
        switches = np.count_nonzero(np.diff(loud.astype(np.int8)))
        kind = "laughter" if switches / len(loud) > BURSTS_PER_FRAME else "applause"
    else:
        kind = "speech"
    return RoomReading(kind, laugh, round(loud_share, 3), round(noisy_share, 3))


def warm_up() -> float:
    """Pay librosa's first-call cost now (its kernels compile on first use); the seconds it took."""
    start = time.perf_counter()
    read_room((np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 3000).astype(np.int16))
    return time.perf_counter() - start
