"""Server voice activity detection on the energy of real pcm16, as the rehearsal server runs it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE

FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
MIN_SPEECH_MS = 100  # a click is not speech
SEMANTIC_SILENCE_MS = {"low": 1200, "medium": 700, "high": 350, "auto": 700}  # how long each waits
NOISE_GATE_DB = {"near_field": 12.0, "far_field": 6.0}  # above the room's floor, at strength 1
FLOOR_RISE_DB = 0.05  # per frame: the noise floor follows a steadier room slowly, a quieter one at once


def threshold_dbfs(threshold: float) -> float:
    """Map the API's 0..1 VAD threshold onto a loudness: 0.5 -> -45 dBFS, higher is stricter."""
    return -70.0 + 50.0 * min(max(threshold, 0.0), 1.0)


def for_session(turn_detection: dict, noise_reduction: dict | None, start_ms: int) -> EnergyVad:
    """The detector a session's settings describe: server_vad's threshold and silence, or
    semantic_vad's eagerness as a patience; noise reduction as a gate above the room's floor."""
    if turn_detection.get("type") == "semantic_vad":
        silence = SEMANTIC_SILENCE_MS[turn_detection.get("eagerness", "auto")]
        vad = EnergyVad(silence_duration_ms=silence, start_ms=start_ms)
    else:
        vad = EnergyVad(
            threshold=turn_detection.get("threshold", 0.5),
            prefix_padding_ms=turn_detection.get("prefix_padding_ms", 300),
            silence_duration_ms=turn_detection.get("silence_duration_ms", 500),
            start_ms=start_ms,
        )
    if noise_reduction:
        vad.noise_gate_db = NOISE_GATE_DB[noise_reduction.get("type", "near_field")] * noise_reduction.get(
            "strength", 1.0
        )
    return vad


@dataclass
class EnergyVad:
    """Feeds on pcm16 and reports `("started", ms)` and `("stopped", ms)` transitions.

    Times count from the start of the input buffer, like the API's `audio_start_ms`.
    """

    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    noise_gate_db: float = 0.0  # noise reduction: a frame must stand this far above the room's floor
    start_ms: int = 0  # the session's audio before this detector began: times stay on one timeline
    speaking: bool = False
    _frames: int = 0
    _floor_db: float = 0.0
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
        level = 10 * np.log10(np.maximum(power, 1e-12))
        loud = (level > threshold_dbfs(self.threshold)) & self._above_floor(level)
        events = []
        for is_loud in loud:
            self._frames += 1
            now_ms = self.start_ms + self._frames * FRAME_MS
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

    def _above_floor(self, level: np.ndarray) -> np.ndarray:
        """With noise reduction on, what a room makes all the time is not speech."""
        if not self.noise_gate_db:
            return np.ones(len(level), bool)
        above = np.zeros(len(level), bool)
        for i, frame_db in enumerate(level):
            if not self._frames and not i:
                self._floor_db = frame_db
            self._floor_db = min(frame_db, self._floor_db + FLOOR_RISE_DB)
            above[i] = frame_db > self._floor_db + self.noise_gate_db
        return above

    def reset(self) -> None:
        """Forget the buffer (after a commit or clear); timing continues from here."""
        self.speaking = False
        self._loud_run = self._quiet_run = 0
