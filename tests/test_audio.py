"""The audio path: any microphone chunk -> 24 kHz pcm16 in 100 ms appends, without clicks."""

from __future__ import annotations

import numpy as np
import pytest
import soxr

from comedy.realtime import protocol
from comedy.sound import audio
from tests.schema import check_client_event


def _signal(rate: int, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    sweep = 0.4 * np.sin(2 * np.pi * (200 + 900 * t) * t)
    return (sweep + 0.05 * np.random.default_rng(1).standard_normal(t.size)).astype(np.float32)


@pytest.mark.parametrize("rate", [48_000, 44_100])
@pytest.mark.parametrize("chunk_s", [0.02, 0.1, 0.5, 0.0731])
def test_streamed_resampling_matches_a_one_shot_resample(rate: int, chunk_s: float) -> None:
    x = _signal(rate)
    step = int(rate * chunk_s)
    mic = audio.MicrophonePath()
    chunks = []
    for start in range(0, len(x), step):
        chunks += mic.feed(rate, x[start : start + step])
    chunks += mic.flush()
    assert all(len(c) == audio.APPEND_SAMPLES and c.dtype == np.int16 for c in chunks[:-1])
    streamed = np.concatenate(chunks).astype(np.float64)
    reference = audio.float_to_pcm16(soxr.resample(x, rate, protocol.SAMPLE_RATE, quality="HQ"))
    assert abs(len(streamed) - len(reference)) <= 1
    n = min(len(streamed), len(reference))
    error = streamed[:n] - reference[:n]
    snr = 10 * np.log10(np.sum(reference[:n].astype(np.float64) ** 2) / max(np.sum(error**2), 1e-9))
    print(f"{rate} Hz in {chunk_s * 1000:.0f} ms chunks: SNR {snr:.1f} dB against one shot")
    assert snr >= 60


def test_chunk_by_chunk_resampling_would_click() -> None:
    """The reason for a stream resampler: resampling chunks alone is far worse."""
    x = _signal(48_000)
    naive = np.concatenate([soxr.resample(x[i : i + 960], 48_000, 24_000) for i in range(0, len(x), 960)])
    reference = soxr.resample(x, 48_000, 24_000)
    n = min(len(naive), len(reference))
    snr = 10 * np.log10(np.sum(reference[:n] ** 2) / np.sum((naive[:n] - reference[:n]) ** 2))
    assert snr < 40


@pytest.mark.parametrize(
    ("samples", "expected_peak"),
    [
        (np.full((4800, 2), 16384, np.int16), 0.5),  # stereo int16, as Gradio gives it
        (np.full((2, 4800), 0.25, np.float64), 0.25),  # channels first
        (np.full(4800, 2**31 // 2, np.int32), 0.5),
        (np.full(4800, 192, np.uint8), 0.5),  # unsigned 8-bit: 128 is silence
        (np.full(4800, np.nan, np.float32), 0.0),
        (np.full(4800, np.inf, np.float32), 1.0),
        (np.full(4800, 3.0, np.float32), 1.0),  # over full scale is clipped
    ],
)
def test_odd_microphone_chunks_become_clean_mono_float(samples: np.ndarray, expected_peak: float) -> None:
    mono = audio.to_mono_float(samples)
    assert mono.ndim == 1 and mono.dtype == np.float32 and len(mono) == 4800
    assert np.all(np.isfinite(mono))
    assert np.max(np.abs(mono)) == pytest.approx(expected_peak, abs=1e-3)


def test_empty_and_tiny_chunks_lose_nothing() -> None:
    mic = audio.MicrophonePath()
    assert mic.feed(48_000, np.zeros(0, np.int16)) == []
    assert mic.feed(48_000, np.zeros((0, 2), np.float32)) == []
    out = []
    for _ in range(100):  # 100 chunks of 1 ms: 100 ms in all
        out += mic.feed(48_000, np.full(48, 1000, np.int16))
    out += mic.flush()
    assert sum(len(c) for c in out) == pytest.approx(2400, abs=2)


def test_rate_change_mid_stream_is_handled() -> None:
    mic = audio.MicrophonePath()
    out = mic.feed(48_000, _signal(48_000, 0.5)) + mic.feed(16_000, _signal(16_000, 0.5)) + mic.flush()
    assert sum(len(c) for c in out) == pytest.approx(24_000, abs=50)


def test_bad_rate_is_refused_in_words() -> None:
    with pytest.raises(ValueError, match="0 Hz is outside"):
        audio.MicrophonePath().feed(0, np.zeros(10))


def test_huge_chunk_is_split_into_valid_appends() -> None:
    mic = audio.MicrophonePath()
    chunks = mic.feed(48_000, np.zeros(48_000 * 60, np.float32)) + mic.flush()  # a minute at once
    assert sum(len(c) for c in chunks) == 60 * protocol.SAMPLE_RATE
    for chunk in chunks[:3]:
        check_client_event(protocol.audio_append(audio.pcm16_bytes(chunk)))


def test_an_append_over_15_mib_is_refused() -> None:
    with pytest.raises(ValueError, match="15 MiB"):
        protocol.audio_append(b"\0" * (protocol.APPEND_LIMIT_BYTES + 2))


def test_wav_round_trip(tmp_path) -> None:
    pcm = audio.float_to_pcm16(_signal(24_000, 0.5))
    path = tmp_path / "x.wav"
    audio.write_wav(str(path), pcm)
    rate, back = audio.read_audio_file(str(path))
    assert rate == 24_000 and np.max(np.abs(audio.float_to_pcm16(back) - pcm)) <= 1
    assert audio.wav_bytes(pcm)[:4] == b"RIFF"
