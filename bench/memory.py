"""Figure 6: memory over a 10-minute set. Nothing may grow but the bounded buffers.

The set runs unpaced (10 minutes of microphone audio and a joke every 20 s, as fast as the machine
goes) with the speaker's real-time pacing lifted, so ten minutes take well under one.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import numpy as np

from bench.report import table
from comedy import prompts
from comedy.house.voice import speak
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint, Limits
from comedy.web import gradio_speech

SR = protocol.SAMPLE_RATE
MINUTES = 10
TURN_SECONDS = 20


def _voice_cache_bytes() -> int:
    """Memory held by the rehearsal voice (its bounded cache of spoken lines)."""
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, "*house/voice.py")])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _visitor_turn() -> list[np.ndarray]:
    """20 s of microphone: a question, then silence while the comedian answers."""
    speech = speak("tell me another one about airports", "alloy")
    turn = np.zeros(SR * TURN_SECONDS, np.int16)
    turn[SR // 2 : SR // 2 + len(speech)] = speech
    return [turn[i : i + SR // 10] for i in range(0, len(turn), SR // 10)]


async def _set(samples: list[tuple[float, float, float, float]]) -> ComedySet:
    gradio_speech.LEAD_SECONDS = 1e9  # lift the real-time pacing of the speaker for this run
    async with RehearsalServer(pace=0) as server:
        comedy_set = ComedySet(
            Endpoint(server.url, "bench", True), prompts.SetUp(), limits=Limits(max_seconds=3600)
        )
        await comedy_set.start()

        async def play() -> None:
            async for _ in gradio_speech.chunks(comedy_set):
                pass

        player = asyncio.create_task(play())
        turn = _visitor_turn()
        for minute in range(MINUTES):
            for _ in range(60 // TURN_SECONDS):
                for chunk in turn:
                    comedy_set.receive(SR, chunk)
                    await asyncio.sleep(0)
                await asyncio.sleep(0.3)
            gc.collect()
            current, _ = tracemalloc.get_traced_memory()
            recorder = comedy_set.recorder.nbytes
            voices = _voice_cache_bytes()
            samples.append((minute + 1, current / 1e6, recorder / 1e6, voices / 1e6))
        player.cancel()
        await comedy_set.close()
        return comedy_set


def run() -> dict:
    """Measure and print figure 6."""
    tracemalloc.start()
    samples: list[tuple[float, float, float, float]] = []
    comedy_set = asyncio.run(_set(samples))
    tracemalloc.stop()
    rows = [
        (f"{m} min", f"{total:.1f} MB", f"{rec:.1f} MB", f"{voices:.1f} MB", f"{total - rec - voices:.1f} MB")
        for m, total, rec, voices in samples
    ]
    other = [total - rec - voices for _, total, rec, voices in samples]
    growth = other[-1] - other[1]
    table(
        f"6. Memory over a {MINUTES}-minute set ({len(comedy_set.stage.transcript)} transcript lines; the "
        "set recording is the one buffer that grows, capped at the set's length)",
        [
            "simulated time",
            "Python heap",
            "the recording",
            "rehearsal voice cache (64 lines max)",
            "everything else",
        ],
        rows,
    )
    print(
        f"Everything but those two bounded buffers grew {growth:+.2f} MB from minute 2 to minute {MINUTES}."
    )
    return {"growth_mb": growth}


if __name__ == "__main__":
    run()
