"""Finding where the comedian's echo sits in the microphone, and following it when it moves."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from comedy.house.voice import speak
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.rehearsal import audience
from comedy.sound.echo_delay import CLEAR, DelayTracker, gcc_phat
from harness import room_clips
from harness.laptop import Laptop

FRAME = SAMPLE_RATE // 50
ANSWER = np.asarray(speak("So I went to the airport and they asked if I packed my own bag.", "alloy"))


DIRECT_MS = 1.0  # the room's direct sound, 1 ms into its response


def _heard(delay_ms: float, played: np.ndarray = ANSWER) -> np.ndarray:
    return np.round(Laptop(0.0, delay_ms).echo(played)).astype(np.int16)


def _samples(ms: float) -> float:
    return (ms + DIRECT_MS) * SAMPLE_RATE / 1000


def _feed(tracker: DelayTracker, mic: np.ndarray, played: np.ndarray) -> None:
    for at in range(0, len(mic) - FRAME + 1, FRAME):
        tracker.feed(mic[at : at + FRAME], played[at : at + FRAME])


@pytest.mark.parametrize("delay_ms", [40.0, 143.0, 300.0])
def test_the_echo_is_found_where_the_device_put_it(delay_ms: float) -> None:
    window, reach = SAMPLE_RATE // 4, int(0.4 * SAMPLE_RATE)
    mic, played, end = _heard(delay_ms).astype(float), ANSWER.astype(float), SAMPLE_RATE
    clarity = gcc_phat(mic[end - window : end], played[end - window - reach : end], reach)
    assert abs(int(np.argmax(clarity)) - _samples(delay_ms)) <= 2  # the room's direct path
    assert clarity.max() >= CLEAR


def test_a_move_is_followed_once_two_estimates_agree() -> None:
    tracker = DelayTracker(SAMPLE_RATE)
    _feed(tracker, _heard(143.0), ANSWER)
    assert tracker.delay is not None and abs(tracker.delay - _samples(143)) <= 2 and not tracker.unsure
    _feed(tracker, _heard(153.0), ANSWER)  # the output path moved by one 10 ms buffer
    assert abs(tracker.delay - _samples(153)) <= 2 and tracker.moves == 1 and not tracker.unsure


def test_after_a_pause_the_delay_is_doubted_until_the_new_audio_agrees() -> None:
    tracker = DelayTracker(SAMPLE_RATE)
    _feed(tracker, _heard(80.0), ANSWER)
    tracker.forget_moves()
    assert tracker.unsure
    _feed(tracker, _heard(80.0)[: SAMPLE_RATE // 2], ANSWER[: SAMPLE_RATE // 2])
    assert not tracker.unsure and tracker.moves == 0


def _visitor(kind: str) -> np.ndarray:
    """A sound from someone besides the comedian. (Not the house voice: its voices share the
    waveforms of their speech sounds, and correlate as no two people do.)"""
    if kind == "laugh":
        return audience.laughter(seconds=4.0, seed=3)
    path = room_clips.ROOM_CLIPS / "speech-01.wav"
    if not path.is_file():
        pytest.skip(f"{room_clips.ROOM_CLIPS} is not here: real speech needs it")
    pcm, rate = soundfile.read(path, dtype="int16")
    assert rate == SAMPLE_RATE
    return pcm


@pytest.mark.parametrize("kind", ["laugh", "real speech"])
def test_someone_else_alone_never_moves_the_delay(kind: str) -> None:
    tracker = DelayTracker(SAMPLE_RATE)
    _feed(tracker, _heard(80.0), ANSWER)
    found = tracker.delay
    visitor = _visitor(kind)
    mic = np.zeros(len(ANSWER), np.int16)
    mic[SAMPLE_RATE // 3 :] = np.resize(visitor, len(ANSWER) - SAMPLE_RATE // 3)  # they cut in
    _feed(tracker, mic, ANSWER)  # headphones: the microphone hears only the visitor
    assert tracker.delay == found and tracker.moves == 0
