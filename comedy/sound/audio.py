"""Audio conversion: any microphone chunk in, 24 kHz pcm16 out, and back to arrays for the speaker."""

from __future__ import annotations

import io

import numpy as np
import soundfile
import soxr

from comedy.realtime.protocol import SAMPLE_RATE

APPEND_SECONDS = 0.1
APPEND_SAMPLES = int(SAMPLE_RATE * APPEND_SECONDS)
MAX_CHANNELS = 8


def _as_float(x: np.ndarray) -> np.ndarray:
    """Scale integer samples to [-1, 1]; keep floats; anything else becomes float."""
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        mid = (int(info.max) + int(info.min) + 1) / 2  # 0 for signed, 2**(bits-1) for unsigned
        return (x.astype(np.float64) - mid) / 2.0 ** (info.bits - 1)
    if x.dtype.kind == "c":
        return np.real(x).astype(np.float64)
    return x.astype(np.float64)


def to_mono_float(samples: np.ndarray) -> np.ndarray:
    """Any dtype and layout -> mono float32 in [-1, 1]; NaN and inf become silence or full scale.

    Accepts (N,), (N, channels) as Gradio and soundfile give, and (channels, N) when the
    channel axis is clearly the short one.
    """
    x = np.asarray(samples)
    if x.size == 0 or x.dtype.kind not in "iufcb":
        return np.zeros(0, np.float32)
    x = _as_float(x)
    if x.ndim == 0:
        x = x.reshape(1)
    elif x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    if x.ndim == 2:
        channel_axis = 0 if x.shape[0] < x.shape[1] and x.shape[0] <= MAX_CHANNELS else 1
        x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0).mean(axis=channel_axis)
    x = np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def float_to_pcm16(x: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] -> int16, clipped, rounded."""
    return np.round(np.clip(x, -1.0, 1.0) * 32767.0).astype(np.int16)


def pcm16_bytes(pcm: np.ndarray) -> bytes:
    """int16 array -> little-endian bytes, as the API wants."""
    return np.asarray(pcm, dtype="<i2").tobytes()


def pcm16_array(data: bytes) -> np.ndarray:
    """Little-endian pcm16 bytes -> int16 array (a trailing odd byte is dropped)."""
    return np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int16)


class StreamResampler:
    """Resamples a stream chunk by chunk with soxr, keeping filter state across chunks.

    Resampling each chunk on its own restarts the filter at every boundary and clicks; a stream
    resampler gives the same samples as resampling the whole signal at once.
    """

    def __init__(self, in_rate: int, out_rate: int = SAMPLE_RATE) -> None:
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self._stream = (
            None
            if self.in_rate == self.out_rate
            else soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="float32", quality="HQ")
        )

    def process(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        """Resample the next chunk of mono float32; `last=True` flushes the filter's tail."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self._stream is None:
            return x
        return self._stream.resample_chunk(x, last=last)


MIN_RATE, MAX_RATE = 8_000, 192_000  # what microphones, browsers and sound files use


def is_pcm16_mono(samples: object) -> bool:
    return isinstance(samples, np.ndarray) and samples.dtype == np.int16 and samples.ndim == 1


class MicrophonePath:
    """Microphone chunks of any rate, dtype and layout -> 100 ms int16 chunks at 24 kHz (the
    engine's 24 kHz int16 frames pass through as they are, never converted)."""

    def __init__(self, chunk_samples: int = APPEND_SAMPLES) -> None:
        self.chunk_samples = chunk_samples
        self._resampler: StreamResampler | None = None
        self._pending = np.zeros(0, np.int16)

    def feed(self, rate: int, samples: np.ndarray) -> list[np.ndarray]:
        """Take one microphone chunk; return the complete 100 ms int16 chunks it finished."""
        if not MIN_RATE <= rate <= MAX_RATE:
            raise ValueError(f"a microphone at {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz")
        if rate == SAMPLE_RATE and is_pcm16_mono(samples) and self._resampler is None:
            self._pending = np.concatenate([self._pending, samples])  # the engine's frames: as they are
            return self._take(self.chunk_samples)
        mono = to_mono_float(samples)
        if self._resampler is None or self._resampler.in_rate != rate:
            tail = self._flush_resampler()
            self._resampler = StreamResampler(rate)
            self._pending = np.concatenate([self._pending, tail])
        if mono.size:
            self._pending = np.concatenate([self._pending, float_to_pcm16(self._resampler.process(mono))])
        return self._take(self.chunk_samples)

    @property
    def pending(self) -> int:
        """Samples waiting for the next whole chunk."""
        return len(self._pending)

    def flush(self) -> list[np.ndarray]:
        """End of the stream: the filter's tail and any short remainder."""
        self._pending = np.concatenate([self._pending, self._flush_resampler()])
        self._resampler = None
        return self._take(1)

    def _flush_resampler(self) -> np.ndarray:
        if self._resampler is None:
            return np.zeros(0, np.int16)
        return float_to_pcm16(self._resampler.process(np.zeros(0, np.float32), last=True))

    def _take(self, minimum: int) -> list[np.ndarray]:
        chunks = []
        while len(self._pending) >= minimum and len(self._pending):
            chunk, self._pending = (
                self._pending[: self.chunk_samples],
                self._pending[self.chunk_samples :],
            )
            chunks.append(chunk)
        return chunks


def read_audio_file(path: str) -> tuple[int, np.ndarray]:
    """Read any WAV/FLAC/OGG file soundfile knows: (rate, samples as stored)."""
    data, rate = soundfile.read(path, dtype="float32", always_2d=False)
    return int(rate), data


def wav_bytes(pcm: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """A mono 16-bit WAV file in memory."""
    buffer = io.BytesIO()
    soundfile.write(buffer, np.asarray(pcm, dtype=np.int16), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def write_wav(path: str, pcm: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write mono int16 samples as a 16-bit WAV file."""
    soundfile.write(path, np.asarray(pcm, dtype=np.int16), rate, subtype="PCM_16")


def rms_dbfs(pcm: np.ndarray) -> float:
    """Loudness of int16 samples in dBFS (-inf for silence)."""
    if len(pcm) == 0:
        return float("-inf")
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    power = float(np.mean(x * x))
    return 10 * np.log10(power) if power > 0 else float("-inf")
