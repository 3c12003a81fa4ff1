"""The rehearsal audience: laughter, applause, a cough, room noise and a heckle, made from numbers.

Nothing is recorded or downloaded: each sound is built from what makes it that sound, so a test can
vary it. Laughter is a run of voiced "ha" bursts (a breathy "h", then an "a" on a glottal pulse
train through three formants, the pitch falling through the run) with breath between; applause
is many hands, each a train of short noise claps; a cough is one or two broadband bursts; room
noise is pink noise with mains hum. All int16 mono at 24 kHz.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy import signal
from websockets.exceptions import ConnectionClosed

from comedy.realtime.protocol import SAMPLE_RATE

SR = SAMPLE_RATE
KINDS = ("laughter", "applause", "cough", "noise", "heckle")
HECKLES = ("Boo! You are not funny at all.", "Hey, tell us a better one!", "Get off the stage!")


def _level(x: np.ndarray, dbfs: float) -> np.ndarray:
    """Scale to a peak-free RMS level in dBFS, as int16."""
    rms = float(np.sqrt(np.mean(x * x))) or 1.0
    y = x * (10 ** (dbfs / 20) / rms)
    return np.round(np.clip(y, -1, 1) * 32767).astype(np.int16)


def _band(noise: np.ndarray, low: float, high: float) -> np.ndarray:
    sos = signal.butter(2, [low, high], btype="bandpass", fs=SR, output="sos")
    return signal.sosfilt(sos, noise)


def _vowel(f0: np.ndarray, formants=(800.0, 1200.0, 2500.0), widths=(90.0, 110.0, 160.0)) -> np.ndarray:
    """A voiced "a": harmonics of the pitch contour `f0` (Hz per sample) falling 6 dB an octave,
    through three formant resonances."""
    phase = 2 * np.pi * np.cumsum(f0) / SR
    source = sum(np.sin(k * phase) / k for k in range(1, int(5000 / f0.max()) + 1))
    out = np.zeros(len(f0))
    for i, (freq, width) in enumerate(zip(formants, widths, strict=True)):
        b, a = signal.iirpeak(freq, Q=freq / width, fs=SR)
        out += signal.lfilter(b, a, source) / (i + 1)
    return out


def laughter(
    seconds: float = 2.0, pitch: float = 220.0, rate: float = 4.5, breath: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A laugh: "ha" bursts at `rate` per second from `pitch` Hz down, with `breath` noise (0..1)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n)
    t, k = 0.0, 0
    while t < seconds - 0.1:
        period = 1 / (rate * rng.uniform(0.85, 1.15))
        length = min(period * rng.uniform(0.55, 0.75), seconds - t)
        h = int(SR * min(0.04, length * 0.3))
        start, vowel = int(t * SR), int(SR * length) - h
        f0 = pitch * (1 - 0.04 * k) * np.linspace(1.05, 0.92, vowel) * rng.uniform(0.95, 1.05)
        voiced = _vowel(f0) * np.hanning(vowel) ** 0.5
        voiced += _band(rng.normal(0, 1, vowel), 500, 5000) * np.std(voiced) * 0.3 * breath  # breathy voice
        aspiration = _band(rng.normal(0, 1, h), 500, 5000) * np.hanning(2 * h)[:h] * np.std(voiced) * 0.6
        burst = np.concatenate([aspiration, voiced])[: n - start] * 0.9**k
        out[start : start + len(burst)] += burst
        t, k = t + period, k + 1
    out += _band(rng.normal(0, 1, n), 300, 3000) * np.std(out) * 0.15 * breath  # breathing under it all
    return _level(out, -22.0 + rng.uniform(-4, 4))


def applause(seconds: float = 2.0, hands: int = 20, level: float = -24.0, seed: int = 0) -> np.ndarray:
    """Applause: `hands` people clapping 3-6 times a second, each clap a few ms of bright noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n)
    clap_len = int(0.012 * SR)
    decay = np.exp(-np.arange(clap_len) / (0.003 * SR))
    for _ in range(hands):
        t = rng.uniform(0, 0.2)
        rate = rng.uniform(3, 6)
        while t < seconds:
            start = int(t * SR)
            clap = _band(rng.normal(0, 1, clap_len), rng.uniform(600, 1200), 6000) * decay
            end = min(n, start + clap_len)
            out[start:end] += clap[: end - start] * rng.uniform(0.5, 1.0)
            t += 1 / rate * rng.uniform(0.9, 1.1)
    rise = np.minimum(1.0, np.arange(n) / (0.15 * SR))
    return _level(out * rise, level)


def cough(level: float = -20.0, twice: bool = False, seed: int = 0) -> np.ndarray:
    """A cough: a sharp broadband burst (and a second, weaker one), then quiet: 0.8 s."""
    rng = np.random.default_rng(seed)
    n = int(0.8 * SR)
    out = np.zeros(n)
    for k, at in enumerate((0.0, 0.3) if twice else (0.0,)):
        length = int(rng.uniform(0.15, 0.25) * SR)
        env = np.exp(-np.arange(length) / (0.06 * SR)) * np.minimum(1, np.arange(length) / (0.005 * SR))
        burst = _band(rng.normal(0, 1, length), 200, 6000) * env * (0.6**k)
        start = int(at * SR)
        out[start : start + length] += burst
    return _level(out, level)


def room_noise(seconds: float = 2.0, level: float = -45.0, hum: bool = True, seed: int = 0) -> np.ndarray:
    """A room: pink noise (air conditioning, a crowd far off) and, if `hum`, 50 Hz mains hum."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    white = rng.normal(0, 1, n)
    b = [0.049922035, -0.095993537, 0.050612699, -0.004408786]  # Paul Kellet's pink noise filter
    a = [1, -2.494956002, 2.017265875, -0.522189400]
    pink = signal.lfilter(b, a, white)
    if hum:
        t = np.arange(n) / SR
        pink += 0.3 * np.std(pink) * (np.sin(2 * np.pi * 50 * t) + 0.5 * np.sin(2 * np.pi * 150 * t))
    return _level(pink, level)


def heckle(voice: str = "ash", line: str = HECKLES[0]) -> np.ndarray:
    """A heckler shouting `line` in a rehearsal voice."""
    from comedy.house.voice import speak  # the voice engine loads on first use

    return np.asarray(speak(line, voice), dtype=np.int16)


def sound(kind: str, seed: int = 0) -> np.ndarray:
    """One sound of a kind in KINDS, varied by `seed`."""
    rng = np.random.default_rng(seed)
    match kind:
        case "laughter":
            return laughter(2.0, rng.uniform(160, 380), rng.uniform(3.5, 6), rng.uniform(0.1, 0.6), seed)
        case "applause":
            return applause(2.0, int(rng.integers(8, 40)), rng.uniform(-30, -18), seed)
        case "cough":
            return cough(rng.uniform(-26, -16), bool(rng.integers(2)), seed)
        case "noise":
            return room_noise(2.0, rng.uniform(-50, -30), bool(rng.integers(2)), seed)
        case "heckle":
            voices = ("ash", "echo", "coral", "sage")
            return heckle(voices[seed % len(voices)], HECKLES[seed % len(HECKLES)])
    raise ValueError(f"unknown sound {kind!r}: one of {', '.join(KINDS)}")


def words(kind: str, seed: int = 0) -> str:
    """What a transcriber would write for a sound of `kind` (as `sound(kind, seed)` makes it):
    a heckle's line, a laugh's "ha"s, nothing for applause, a cough or noise."""
    if kind == "heckle":
        return HECKLES[seed % len(HECKLES)]
    return "Ha ha ha!" if kind == "laughter" else ""


FRAME = SR // 50  # the feed sends 20 ms at a time, in real time
PUNCHLINE_GAP = 0.3  # seconds after the comedian's last audio before a "punchline" cue plays


@dataclass
class _Cue:
    pcm: np.ndarray
    start: float | None  # monotonic; None: at the next punchline
    words: str = ""  # what a transcriber would make of it

    def overlaps(self, since: float, until: float) -> bool:
        return self.start is not None and self.start < until and self.start + len(self.pcm) / SR > since


class Audience:
    """The rehearsal room's audience, told by a test what to do: `cue("laughter")` now, or
    `cue("laughter", after="punchline")`. The sound reaches the visitor's side of the test through
    the room feed (`/v1/rehearsal/audience`): 20 ms PCM16 frames in real time, mixed from the cues,
    which a test's microphone plays (the harness's, or the browser's fake one)."""

    def __init__(self) -> None:
        self._cues: list[_Cue] = []
        self._played: deque[_Cue] = deque(maxlen=64)

    def cue(
        self,
        kind: str,
        after: str = "now",
        seed: int = 0,
        pcm: np.ndarray | None = None,
        said: str | None = None,
    ) -> None:
        """Play a sound of `kind` (see KINDS; or `pcm`) now, or at the next punchline; `said`: what
        its transcript is (by default `words(kind, seed)`; nothing for a `pcm` of its own)."""
        if after not in ("now", "punchline"):
            raise ValueError("after is 'now' or 'punchline'")
        clip = np.asarray(pcm if pcm is not None else sound(kind, seed))
        if said is None:
            said = words(kind, seed) if pcm is None else ""
        start = time.monotonic() if after == "now" else None
        self._cues.append(_Cue(clip.astype(np.int16), start, said))

    def said(self, since: float, until: float) -> str:
        """What the cues that played between two moments (monotonic) said, for the rehearsal
        server's transcript of the audio it committed then ("" when they said nothing)."""
        heard = sorted(
            (c for c in [*self._played, *self._cues] if c.overlaps(since, until)), key=lambda c: c.start
        )
        return " ".join(c.words for c in heard if c.words)

    def punchline(self, at: float) -> None:
        """The comedian's answer ended at `at` (monotonic): cues waiting for it start then."""
        for cue in self._cues:
            if cue.start is None:
                cue.start = at + PUNCHLINE_GAP

    def frame(self, at: float) -> np.ndarray:
        """The room's 20 ms from `at` (monotonic): the cues playing then, mixed."""
        out = np.zeros(FRAME, np.int32)
        for cue in list(self._cues):
            if cue.start is None or at + FRAME / SR <= cue.start:
                continue
            offset = round((at - cue.start) * SR)
            if offset >= len(cue.pcm):
                self._cues.remove(cue)
                self._played.append(cue)
                continue
            part = cue.pcm[max(0, offset) : offset + FRAME]
            out[max(0, -offset) : max(0, -offset) + len(part)] += part
        return np.clip(out, -32768, 32767).astype("<i2")

    async def serve(self, ws) -> None:
        """The room feed: frames until the listener goes."""
        start, sent = time.monotonic(), 0
        with contextlib.suppress(ConnectionClosed):
            while True:
                at = start + sent * FRAME / SR
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                await ws.send(self.frame(at).tobytes())
                sent += 1
