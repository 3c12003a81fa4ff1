"""Server voice activity detection on the energy of real pcm16, as the rehearsal server runs it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from comedy.protocol import SAMPLE_RATE

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
MIN_SPEECH_MS = 100  # a click is not speech


def threshold_dbfs(threshold: float) -> float:
    """Map the API's 0..1 VAD threshold onto a loudness: 0.5 -> -45 dBFS, higher is stricter."""
    return -70.0 + 50.0 * min(max(threshold, 0.0), 1.0)


@dataclass
class EnergyVad:
    """Feeds on pcm16 and reports `("started", ms)` and `("stopped", ms)` transitions.

    Times count from the start of the input buffer, like the API's `audio_start_ms`.
    """

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    speaking: bool = False
    _frames: int = 0
    _loud_run: int = 0
    _quiet_run: int = 0
    _rest: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))

    def feed(self, pcm: np.ndarray) -> list[tuple[str, int]]:
        """Take the next samples; return the transitions they completed."""
        samples = np.concatenate([self._rest, np.asarray(pcm, dtype=np.int16)])
        whole = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
        self._rest = samples[whole:]
        if not whole:
            return []
        frames = samples[:whole].reshape(-1, FRAME_SAMPLES).astype(np.float64) / 32768.0
        power = np.mean(frames * frames, axis=1)
        loud = 10 * np.log10(np.maximum(power, 1e-12)) > threshold_dbfs(self.threshold)
        events = []
        for is_loud in loud:
            self._frames += 1
            now_ms = self._frames * FRAME_MS
            if is_loud:
                self._loud_run += 1
                self._quiet_run = 0
            else:
                self._quiet_run += 1
                self._loud_run = 0
            if not self.speaking and self._loud_run * FRAME_MS >= MIN_SPEECH_MS:
                self.speaking = True
                start = now_ms - self._loud_run * FRAME_MS - self.prefix_padding_ms
                events.append(("started", max(0, start)))
            elif self.speaking and self._quiet_run * FRAME_MS >= self.silence_duration_ms:
                self.speaking = False
                events.append(("stopped", now_ms - self._quiet_run * FRAME_MS))
        return events

    def reset(self) -> None:
        """Forget the buffer (after a commit or clear); timing continues from here."""
        self.speaking = False
        self._loud_run = self._quiet_run = 0
