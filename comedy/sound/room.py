"""What a sound in the room is: speech, laughter, applause, noise or silence, on librosa's features.

One reading serves twice: on the first few hundred milliseconds of a sound the set decides whether
it is a heckle (speech) or the room reacting (laughter, applause, a cough, noise), and on a few
seconds after a punchline the room reader scores the joke. Per 10 ms hop of 20 ms frames at 24 kHz:

- loudness (RMS, dBFS): frames within 25 dB of the loudest (and above -45 dBFS) are the sound;
- voicing (spectral flatness below 4 kHz): a vowel's harmonics make it peaky; breath, claps,
  coughs and hiss are flat;
- the shape of the voicing: a laugh is short "ha"s (each vowel under ~130 ms, half its time
  breath) with deep gaps between; speech holds its voicing longer, or runs its syllables together;
- envelope depth and slope: room noise is steady; a cough is one burst that dies away;
- speech evidence: silero-vad's probability (`comedy.sound.speech`) over the sound, with the audio just
  before it as the model's context.

Whether a sound is someone talking is one logistic score over the speech detector's mean and peak
(`SPEECH_MODEL`), its weights fitted by `python -m bench.hearing --fit` on real recordings of
laughs, applause and speech beside the synthetic clips; the bench scores it leave-one-source-out.
(Adding librosa's figures to that score did worse there: they learn the recordings, not the kinds.)
A sound that is not talk is laughter when voiced, applause or noise when not, on librosa's figures.

librosa's first call compiles its kernels (seconds on a fresh machine): `warm_up` pays that once,
in the background, at start-up.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import librosa
import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound import speech

FRAME = SAMPLE_RATE // 50  # 20 ms
HOP = SAMPLE_RATE // 100  # 10 ms
N_FFT = 512  # the frame, zero-padded to a power of two for the spectrum
LOUD_DBFS = -45.0  # quieter than this is nobody's sound (the VAD's default threshold too)
SOUND_RANGE_DB = 25.0  # a frame belongs to the sound within this of its loudest frame
VOICE_BAND = slice(2, 86)  # the STFT bins from ~90 Hz to 4 kHz, where a voice's harmonics stand out
VOICED_FLATNESS = 0.2  # in that band, a vowel's frames are below this; breath, claps and hiss above
VOICED_SHARE = 0.1  # a sound with fewer voiced frames than this is not a voice
LAUGH_RUN_SECONDS = 0.13  # a laugh's "ha" is voiced for no longer than this at a time...
LAUGH_GAP_DB = 20.0  # ...and falls this far between one "ha" and the next...
LAUGH_VOICED_SHARE = 0.6  # ...and is voiced at most this share of the time (its "h"s are breath)
STEADY_DB = 8.0  # an envelope that moves less than this is a steady noise (a fan, a hum, a crowd far off)
DYING_DB_PER_S = -80.0  # a cough dies away at least this fast; applause holds up
MIN_SOUND_SECONDS = 0.05
WINDOW = 0.3  # seconds of a sound's start the set hears before it decides what the sound is
LEAD_SECONDS = 0.2  # the audio before a sound the speech detector hears first, as its context
KINDS = ("speech", "laughter", "applause", "noise", "silence")
REACTIONS = {
    "laughter": "laughing",
    "applause": "cheering",
    "silence": "silent",
    "noise": "silent",
    "speech": "heckling",
}


@dataclass(frozen=True)
class Sound:
    """What a stretch of sound is, with the figures that decided it."""

    kind: str  # one of KINDS
    seconds: float  # how long it was loud
    loudness: float  # dBFS, the median of its loud frames
    voiced: float  # the share of its frames that are voiced
    voiced_run: float  # seconds: the longest stretch voiced without a break
    depth: float  # dB between its loud and its quiet moments
    talk: float = 0.0  # 0..1: how sure the ear is that this is someone talking

    @property
    def reacts(self) -> bool:
        """Whether this is the room reacting to a joke (laughter or applause)."""
        return self.kind in ("laughter", "applause")


@dataclass(frozen=True)
class RoomReading:
    """What the room did after a punchline: `kind` is laughter, applause, silence, noise or speech."""

    kind: str
    laugh: float  # the laugh meter, 0..1: how loud and how long the room laughed or clapped
    loud_share: float
    seconds: float = 0.0
    loudness: float = -120.0

    def meter(self) -> dict[str, float]:
        """Shares for the page's laugh meter."""
        return {
            "laughter": self.laugh,
            "talking": round(self.loud_share, 3) if self.kind == "speech" else 0.0,
            "silence": round(1 - self.loud_share, 3),
        }

    @property
    def reaction(self) -> str:
        """The `audience_reaction` this reading suggests for the next joke."""
        return REACTIONS[self.kind]


@dataclass(frozen=True)
class SpeechModel:
    """Logistic weights over `Evidence.vector()`, and the score above which a sound is talk."""

    weights: tuple[float, ...]
    bias: float
    threshold: float = 0.5

    def score(self, vector: np.ndarray) -> float:
        """0..1: how sure the model is that this evidence is someone talking."""
        return float(1.0 / (1.0 + np.exp(-(float(np.dot(self.weights, vector)) + self.bias))))


@dataclass(frozen=True)
class Evidence:
    """The speech detector's reading of one sound, what the model judges talk on."""

    speech_mean: float  # silero's mean speech probability over the sound
    speech_peak: float  # ...and its highest

    def vector(self) -> np.ndarray:
        """The model's inputs."""
        return np.array([self.speech_mean, self.speech_peak])


# Fitted by `python -m bench.hearing --fit` (real room clips and the synthetic ones); see the README.
SPEECH_MODEL = SpeechModel(weights=(3.07, 2.19), bias=-2.53, threshold=0.863)


def features(pcm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 10 ms: loudness in dBFS and spectral flatness below 4 kHz (int16 mono, 24 kHz in)."""
    x = np.asarray(pcm, dtype=np.float32) / 32768.0
    if len(x) < FRAME:
        return np.zeros(0), np.zeros(0)
    rms = librosa.feature.rms(y=x, frame_length=FRAME, hop_length=HOP, center=False)[0]
    spectrum = np.abs(librosa.stft(x, n_fft=N_FFT, win_length=FRAME, hop_length=HOP, center=False))
    flatness = librosa.feature.spectral_flatness(S=spectrum[VOICE_BAND], amin=1e-12)[0]
    n = min(len(rms), len(flatness))
    return librosa.amplitude_to_db(rms[:n], ref=1.0, amin=1e-6, top_db=None), flatness[:n]


def evidence(pcm: np.ndarray, lead: np.ndarray | None = None) -> tuple[Evidence, Sound] | None:
    """What one sound's figures are (None: nothing loud in it); `lead`: the audio just before it."""
    loudness, flatness = features(pcm)
    if not len(loudness) or loudness.max() < LOUD_DBFS:
        return None
    loud = loudness > max(LOUD_DBFS, loudness.max() - SOUND_RANGE_DB)
    voiced = loud & (flatness < VOICED_FLATNESS)
    heard = Sound(
        "",
        seconds=round(float(np.count_nonzero(loud)) * HOP / SAMPLE_RATE, 3),
        loudness=round(float(np.median(loudness[loud])), 1),
        voiced=round(float(np.mean(voiced)), 3),
        voiced_run=round(_longest_run(voiced) * HOP / SAMPLE_RATE, 3),
        depth=round(float(np.percentile(loudness[loud], 90) - np.percentile(loudness, 10)), 1),
    )
    return Evidence(*speech.probability(pcm, lead)), replace(heard, kind=_kind(heard, _slope(loudness, loud)))


def hear(pcm: np.ndarray, lead: np.ndarray | None = None, model: SpeechModel = SPEECH_MODEL) -> Sound:
    """What this stretch of sound is (int16 mono, 24 kHz): a few hundred ms to a few seconds;
    `lead`: the audio just before it (the speech detector's context), if there is any."""
    found = evidence(pcm, lead)
    if found is None:
        return Sound("silence", 0.0, -120.0, 0.0, 0.0, 0.0)
    figures, heard = found
    if heard.kind == "silence":
        return heard
    talk = model.score(figures.vector())
    if talk >= model.threshold and heard.kind != "laughter":  # laugh-shaped: short "ha"s, deep gaps
        return replace(heard, kind="speech", talk=round(talk, 3))
    kind = "laughter" if heard.kind == "speech" else heard.kind  # voiced, and not talk
    return replace(heard, kind=kind, talk=round(talk, 3))


def _longest_run(mask: np.ndarray) -> int:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return int(np.max(edges[1::2] - edges[::2])) if len(edges) else 0


def _slope(loudness: np.ndarray, loud: np.ndarray) -> float:
    """dB per second over the sound, from its loudest frame on."""
    start = int(np.argmax(loudness))
    tail = np.flatnonzero(loud[start:]) + start
    if len(tail) < 5:
        return 0.0
    return float(np.polyfit(tail * HOP / SAMPLE_RATE, loudness[tail], 1)[0])


def _kind(heard: Sound, slope: float) -> str:
    if heard.seconds < MIN_SOUND_SECONDS:
        return "silence"
    if heard.voiced >= VOICED_SHARE:
        laughing = (
            heard.voiced_run <= LAUGH_RUN_SECONDS
            and heard.depth >= LAUGH_GAP_DB
            and heard.voiced < LAUGH_VOICED_SHARE
        )
        return "laughter" if laughing else "speech"
    if heard.depth < STEADY_DB:
        return "noise"
    return "noise" if slope <= DYING_DB_PER_S else "applause"


def read_room(pcm: np.ndarray) -> RoomReading:
    """Score a few seconds of the room after a joke (int16 mono, 24 kHz): each `WINDOW` heard as
    the set hears a sound's start, the room's kind is what most of its sounding windows were."""
    step = int(WINDOW * SAMPLE_RATE)
    lead = int(LEAD_SECONDS * SAMPLE_RATE)
    starts = range(0, max(len(pcm) - step // 2, 1), step)
    heard = [hear(pcm[i : i + step], pcm[max(0, i - lead) : i]) for i in starts]
    sounding = [h for h in heard if h.kind != "silence"]
    if len(sounding) < max(1, len(heard) // 10):
        return RoomReading("silence", 0.0, round(len(sounding) / max(len(heard), 1), 3))
    kinds = [h.kind for h in sounding]
    kind = max(KINDS, key=kinds.count)  # ties go to the earlier kind in KINDS: speech first
    reacting = [h for h in sounding if h.reacts]
    seconds = len(reacting) * WINDOW
    loudness = float(np.median([h.loudness for h in reacting])) if reacting else -120.0
    laugh = 0.0
    if kind in ("laughter", "applause"):  # louder and longer is a bigger laugh: 2 s at -15 dBFS fills it
        laugh = min(1.0, seconds / 2.0) * min(1.0, max(0.0, (loudness - LOUD_DBFS) / 30.0))
    share = len(sounding) / len(heard)
    return RoomReading(kind, round(laugh, 3), round(share, 3), round(seconds, 2), round(loudness, 1))


def warm_up() -> float:
    """Pay librosa's first-call cost now (its kernels compile on first use); the seconds it took."""
    start = time.perf_counter()
    read_room((np.random.default_rng(0).standard_normal(SAMPLE_RATE) * 3000).astype(np.int16))
    return time.perf_counter() - start
