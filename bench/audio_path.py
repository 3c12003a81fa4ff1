"""Figure 1: CPU per second of live audio through the microphone path and the speaker path."""

from __future__ import annotations

import base64
import json
import time

import numpy as np

from bench.report import table
from comedy.realtime import protocol
from comedy.sound import audio

RATE = 48_000
SECONDS = 20.0


def _cpu(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def mic_path(chunk_s: float, signal: np.ndarray) -> None:
    """48 kHz float32 chunks -> 24 kHz pcm16 -> base64 append events, as the set sends them."""
    mic = audio.MicrophonePath()
    step = int(RATE * chunk_s)
    for start in range(0, len(signal), step):
        for chunk in mic.feed(RATE, signal[start : start + step]):
            protocol.encode(protocol.audio_append(audio.pcm16_bytes(chunk)))


def copy_floor(chunk_s: float, signal: np.ndarray) -> None:
    """The floor: merely copying the same bytes chunk by chunk."""
    data = signal.tobytes()
    step = int(RATE * chunk_s) * 4
    for start in range(0, len(data), step):
        bytes(data[start : start + step])


def speaker_path(frames: list[str]) -> None:
    """Server frames (JSON with base64 pcm16) -> int16 arrays -> 16-bit WAV bytes for Gradio."""
    for frame in frames:
        pcm = audio.pcm16_array(protocol.audio_of(protocol.decode(frame)))
        audio.wav_bytes(pcm)


def speaker_floor(frames: list[str]) -> None:
    """The floor: parse the JSON and decode the base64, nothing else."""
    for frame in frames:
        base64.b64decode(json.loads(frame)["delta"])


def run() -> dict:
    """Measure both paths; return the figures."""
    t = np.arange(int(RATE * SECONDS)) / RATE
    signal = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    rows, worst = [], 0.0
    for chunk_ms in (20, 50, 100, 250, 500):
        cpu = _cpu(lambda c=chunk_ms: mic_path(c / 1000, signal))
        floor = _cpu(lambda c=chunk_ms: copy_floor(c / 1000, signal))
        share = 100 * cpu / SECONDS
        worst = max(worst, share)
        rows.append(
            (
                f"mic, {chunk_ms} ms chunks",
                f"{share:.3f} %",
                f"{100 * floor / SECONDS:.4f} %",
                f"{cpu / max(floor, 1e-9):.0f}x",
            )
        )
    pcm = 0.3 * np.sin(2 * np.pi * 220 * np.arange(int(protocol.SAMPLE_RATE * SECONDS)) / 24_000) * 32767
    pcm = pcm.astype(np.int16)
    step = protocol.SAMPLE_RATE // 10
    frames = [
        protocol.encode(
            protocol.server_event(
                "response.output_audio.delta",
                response_id="r",
                item_id="i",
                output_index=0,
                content_index=0,
                delta=base64.b64encode(pcm[i : i + step].tobytes()).decode(),
            )
        )
        for i in range(0, len(pcm), step)
    ]
    cpu = _cpu(lambda: speaker_path(frames))
    floor = _cpu(lambda: speaker_floor(frames))
    speaker_share = 100 * cpu / SECONDS
    rows.append(
        (
            "speaker, 100 ms deltas",
            f"{speaker_share:.3f} %",
            f"{100 * floor / SECONDS:.4f} %",
            f"{cpu / max(floor, 1e-9):.1f}x",
        )
    )
    table(
        "1. Audio paths: CPU per second of live audio (target < 1 % of one core per visitor)",
        ["path", "CPU, % of one core", "floor", "ratio to floor"],
        rows,
    )
    return {"mic_worst_percent": worst, "speaker_percent": speaker_share}


if __name__ == "__main__":
    run()
