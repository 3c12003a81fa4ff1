"""The set recording (`comedy.show.recording`): both sides on one timeline, as long as the set."""

from __future__ import annotations

import asyncio
import io
import zipfile

import numpy as np
import pytest
import soundfile

from comedy import prompts
from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.rehearsal import RehearsalServer
from comedy.show import recording
from comedy.show.comedy_set import ComedySet
from comedy.show.recording import SetRecorder
from comedy.sound import audio
from harness.sets import Listener, answers, endpoint, until
from tests.conftest import spoken

SR = protocol.SAMPLE_RATE


async def test_recording_is_as_long_as_the_set_with_both_sides(server: RehearsalServer) -> None:
    comedy_set = ComedySet(endpoint(server), prompts.SetUp(), hands_free=True)
    await comedy_set.start()
    listener = Listener(comedy_set)
    visitor = spoken("tell me a joke about dogs", silence_after=1.0)
    for start in range(0, len(visitor), SR // 10):
        comedy_set.receive(SR, visitor[start : start + SR // 10])
        await asyncio.sleep(0.1)  # in real time, as a microphone sends (faster is paced)
    await until(lambda: answers(comedy_set) and "your turn" in comedy_set.stage.status)
    await until(
        lambda: (
            listener.samples >= comedy_set.stage.speaker.received.get(comedy_set.stage.speaker.last_item, 1)
        )
    )
    await asyncio.sleep(0.5)
    await comedy_set.close()
    listener.task.cancel()
    archive = zipfile.ZipFile(io.BytesIO(recording.archive(comedy_set)))
    assert sorted(archive.namelist()) == ["set.md", "set.wav"]
    pcm, rate = soundfile.read(io.BytesIO(archive.read("set.wav")), dtype="int16")
    length = comedy_set.ended_at - comedy_set.started_at
    assert rate == SR and len(pcm) / SR == pytest.approx(length, abs=0.01)
    markdown = archive.read("set.md").decode()
    assert "**Comedian**" in markdown and "**Visitor**" in markdown and "Cost so far" in markdown
    assert audio.rms_dbfs(pcm) > -45
    # Both sides are in the mix: the visitor first, then the comedian.
    visitor_part = pcm[: int(SR * 1.5)]
    assert audio.rms_dbfs(visitor_part) > -45


def test_the_best_bit_is_the_joke_and_its_laugh_at_most_20_seconds() -> None:
    from comedy.show.recording import best_bit

    whole = np.arange(SR * 60, dtype=np.int64).astype(np.int16)  # a minute of set; sample = position
    bit = best_bit(whole, start=10.0, joke_seconds=4.0, laugh_seconds=2.0)
    assert len(bit) == round((0.3 + 4.0 + 3.0) * SR)  # the beat before, the joke, the laugh and its fade
    long = best_bit(whole, start=5.0, joke_seconds=30.0, laugh_seconds=2.0)
    assert len(long) == 20 * SR and long[-1] == whole[round((5.0 + 30.0 + 3.0) * SR) - 1]  # ends on the laugh


def test_the_recorder_holds_no_more_samples_than_twice_the_set_whatever_the_clock() -> None:
    recorder = SetRecorder(max_seconds=10.0)
    second = np.ones(SAMPLE_RATE, np.int16)
    for _ in range(100):  # a flood: a hundred seconds of microphone, all "at" the first second
        recorder.add(0.5, second)
    assert recorder.nbytes <= 2 * 10 * SAMPLE_RATE * 2
    assert len(recorder.render(10.0)) == 10 * SAMPLE_RATE
