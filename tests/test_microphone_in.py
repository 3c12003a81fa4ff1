"""The microphone on its way to the API, pure: the engine's frames gathered to the API's 100 ms
chunks, passed through untouched when nothing played, and made ready off the event loop."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.show.microphone_in import MicrophoneIn
from comedy.sound import threads as hearing_threads
from comedy.sound.audio import APPEND_SAMPLES

FRAME = SAMPLE_RATE // 50


def _frames(count: int, start: int = 0) -> list[np.ndarray]:
    return [np.arange(start + k * FRAME, start + (k + 1) * FRAME, dtype=np.int16) for k in range(count)]


async def test_the_engines_frames_are_gathered_to_the_apis_next_chunk() -> None:
    microphone = MicrophoneIn()
    for frame in _frames(3):
        assert microphone.take(SAMPLE_RATE, frame) is None
    waiting = asyncio.ensure_future(microphone.next())
    await asyncio.sleep(0.05)
    assert not waiting.done()  # 60 ms: nothing would be sent yet
    for frame in _frames(2, 3 * FRAME):
        microphone.take(SAMPLE_RATE, frame)
    batch = await asyncio.wait_for(waiting, 5)
    assert len(batch) == 5
    ready = microphone.ready(batch)
    assert len(ready.chunks) == 1 and len(ready.pcm) == APPEND_SAMPLES
    assert np.array_equal(ready.pcm, np.concatenate(_frames(5)))  # untouched: nothing played


async def test_the_end_of_a_push_to_talk_turn_ends_a_batch() -> None:
    microphone = MicrophoneIn()
    microphone.take(SAMPLE_RATE, _frames(1)[0])
    await microphone.end_turn()
    batch = await asyncio.wait_for(microphone.next(), 5)
    assert batch[-1] is None
    ready = microphone.ready(batch)
    assert ready.turn_ended and np.array_equal(ready.pcm, _frames(1)[0])  # what was said, sent whole


async def test_an_unreadable_chunk_is_skipped_and_said_and_the_rest_goes_through() -> None:
    microphone = MicrophoneIn()
    ready = microphone.ready(
        [(1, np.zeros(480, np.int16), None), (SAMPLE_RATE, np.zeros(APPEND_SAMPLES, np.int16), None)]
    )
    assert len(ready.problems) == 1 and "unreadable" in ready.problems[0]
    assert len(ready.pcm) == APPEND_SAMPLES


async def test_the_hearing_runs_off_the_event_loop() -> None:
    microphone, seen = MicrophoneIn(), []

    def ready(batch):
        seen.append(threading.current_thread().name)
        return microphone.ready(batch)

    played = (np.sin(np.arange(APPEND_SAMPLES) / 3.0) * 8000).astype(np.int16)
    await hearing_threads.run(ready, [(SAMPLE_RATE, played // 4, played)])
    assert seen and seen[0].startswith("hearing") and seen[0] != threading.current_thread().name
    assert microphone.echo.seconds > 0  # the canceller ran there
