"""The echo canceller, the microphone's frames, and the ear in double talk, in a simulated laptop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from comedy.house.voice import speak
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.rehearsal import audience, vad
from comedy.sound.ear import Ear
from comedy.sound.echo import EchoCanceller
from comedy.web.engine_frames import WITH_REFERENCE, microphone_frame, read_microphone_frame
from harness.laptop import Laptop, active_level, at_level

ROOT = Path(__file__).resolve().parents[1]

FRAME = SAMPLE_RATE // 50
LINES = (
    "So I went to the airport and the man at the desk asked me if I packed my own bag.",
    "I said no, my mother did, she always does, and I am forty two years old.",
    "My doctor told me to watch my drinking, so now I do it in front of a mirror.",
)


def _answer(n: int) -> np.ndarray:
    return np.asarray(speak(LINES[n % len(LINES)], "alloy"))


def _db(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(10 * np.log10(np.mean(x * x) + 1e-9))


def _through(canceller: EchoCanceller, played: np.ndarray, mic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame by frame as the page sends them: the cancelled microphone and the linear output."""
    audio, linear = [], []
    for at in range(0, len(mic) - FRAME + 1, FRAME):
        reference = played[at : at + FRAME]
        out = canceller.process(mic[at : at + FRAME], reference if np.any(reference) else None)
        audio.append(out.audio)
        linear.append(out.linear)
    return np.concatenate(audio), np.concatenate(linear)


def _mic(laptop: Laptop, played: np.ndarray, visitor: np.ndarray | None = None, at: int = 0) -> np.ndarray:
    heard = laptop.echo(played)
    if visitor is not None:
        heard[at : at + len(visitor)] += visitor[: len(heard) - at]
    return np.clip(np.round(heard), -32768, 32767).astype(np.int16)


def test_with_nothing_played_the_microphone_passes_untouched() -> None:
    canceller = EchoCanceller()
    speech = np.asarray(speak("tell me a joke about cats", "ash"))
    out = canceller.process(speech, None)
    assert out.audio is speech and not canceller.active and canceller.settled
    assert canceller.seconds == 0.0  # AEC3 never ran: no CPU spent for a visitor who hears nothing


@pytest.mark.parametrize("coupling_db", [-6.0, 0.0, 6.0])
def test_the_comedian_is_taken_out_of_a_laptop_microphone(coupling_db: float) -> None:
    laptop, canceller = Laptop(coupling_db, 80.0), EchoCanceller()
    for n in range(3):
        played = np.concatenate([_answer(n), np.zeros(SAMPLE_RATE // 2, np.int16)])
        mic = _mic(laptop, played)
        audio, _ = _through(canceller, played, mic)
    assert canceller.settled  # it learned the room
    assert _db(mic[: len(audio)]) - _db(audio) >= 25.0  # the third answer: at least 25 dB gone
    assert not canceller.active or canceller.seconds > 0


def test_a_visitor_talking_over_the_comedian_is_kept() -> None:
    laptop, canceller = Laptop(0.0, 80.0), EchoCanceller()
    _through(canceller, _answer(0), _mic(laptop, _answer(0)))  # the room learned
    played = _answer(1)
    heckle = at_level(audience.heckle("ash"), active_level(laptop.echo(played).astype(np.int16)) - 6)
    at = SAMPLE_RATE
    audio, linear = _through(canceller, played, _mic(laptop, played, heckle.astype(np.float64), at))
    span = slice(at + SAMPLE_RATE // 2, at + len(heckle))  # past AEC3's first hold
    assert _db(audio[span]) - _db(heckle[SAMPLE_RATE // 2 :]) >= -12.0
    assert _db(linear[span]) - _db(heckle[SAMPLE_RATE // 2 :]) >= -3.0  # whole in the linear output


def test_headphones_have_no_echo_to_learn_and_count_as_settled() -> None:
    canceller = EchoCanceller()
    played = np.concatenate([_answer(0), _answer(1)])
    quiet = (np.random.default_rng(1).standard_normal(len(played)) * 10).astype(np.int16)
    _through(canceller, played, quiet)
    assert canceller.settled


def test_a_reference_of_another_length_is_refused() -> None:
    with pytest.raises(ValueError, match="as long"):
        EchoCanceller().process(np.zeros(480, np.int16), np.ones(240, np.int16))


def test_microphone_frames_carry_the_reference_and_malformed_ones_are_refused() -> None:
    mic, played = np.arange(480, dtype=np.int16), np.full(480, 7, np.int16)
    got_mic, got_played = read_microphone_frame(microphone_frame(mic, played))
    assert microphone_frame(mic, played)[0] == WITH_REFERENCE
    assert np.array_equal(got_mic, mic) and np.array_equal(got_played, played)
    alone, nothing = read_microphone_frame(microphone_frame(mic))
    assert np.array_equal(alone, mic) and nothing is None
    for bad in (b"", b"\x01", b"\x03\x00\x00\x00", b"\x02\x00" + b"\x00" * 6, b"\x01\x05\x00\x00"):
        with pytest.raises(ValueError):
            read_microphone_frame(bad)


def _hear(laptop: Laptop, canceller: EchoCanceller, ear: Ear, played: np.ndarray, mic: np.ndarray) -> list:
    """The set's ear on the cancelled microphone, with the rehearsal server's turn detection."""
    detector, verdicts, sound = vad.EnergyVad(start_ms=ear.tape.total * 1000 // SAMPLE_RATE), [], ""
    for at in range(0, len(mic) - FRAME + 1, FRAME):
        reference = played[at : at + FRAME]
        out = canceller.process(mic[at : at + FRAME], reference if np.any(reference) else None)
        now, talking = (ear.tape.total + at) / SAMPLE_RATE, bool(np.any(played[at:]))
        for kind, ms in detector.feed(out.audio):
            if kind == "started":
                sound = f"s{ms}"
                verdicts.append(ear.started(sound, ms, talking, now))
            else:
                verdicts.append(ear.stopped(sound, now))
        settled = canceller.settled if canceller.echoing else None  # as the set tells its ear
        verdicts.append(ear.heard(out.audio, now, talking, settled, out.linear, out.near)[0])
    return [v for v in verdicts if v is not None and v.talking]


@pytest.mark.parametrize("coupling_db", [-6.0, 6.0])
def test_the_comedian_alone_is_never_heard_as_someone_talking(coupling_db: float) -> None:
    laptop, canceller, ear = Laptop(coupling_db, 80.0), EchoCanceller(), Ear()
    for n in range(3):  # from the very first answer, while the canceller learns the room
        played = np.concatenate([_answer(n), np.zeros(SAMPLE_RATE // 2, np.int16)])
        heard = _hear(laptop, canceller, ear, played, _mic(laptop, played))
        assert not [v for v in heard if v.hearing.kind == "speech"], heard


def test_a_heckle_six_db_under_the_comedian_is_heard_as_someone_talking() -> None:
    laptop, canceller, ear = Laptop(0.0, 80.0), EchoCanceller(), Ear()
    for n in range(2):
        played = _answer(n)
        _hear(laptop, canceller, ear, played, _mic(laptop, played))
    played = np.concatenate([_answer(2), np.zeros(SAMPLE_RATE // 2, np.int16)])
    level = active_level(laptop.echo(played).astype(np.int16))
    heckle = at_level(audience.heckle("coral", audience.HECKLES[2]), level - 6).astype(np.float64)
    heard = _hear(laptop, canceller, ear, played, _mic(laptop, played, heckle, SAMPLE_RATE))
    assert any(v.hearing.kind == "speech" for v in heard), heard


def _learned(coupling_db: float) -> tuple[Laptop, EchoCanceller, Ear]:
    """A laptop whose canceller has heard three answers: it knows the room."""
    laptop, canceller, ear = Laptop(coupling_db, 80.0), EchoCanceller(), Ear()
    for n in range(3):
        played = np.concatenate([_answer(n), np.zeros(SAMPLE_RATE // 2, np.int16)])
        _hear(laptop, canceller, ear, played, _mic(laptop, played))
    assert canceller.settled
    return laptop, canceller, ear


@pytest.mark.parametrize("coupling_db", [-6.0, 0.0, 6.0])
@pytest.mark.parametrize("voice", ["ash", "coral"])
def test_a_heckle_twelve_db_under_the_comedian_is_heard_as_someone_talking(
    coupling_db: float, voice: str
) -> None:
    laptop, canceller, ear = _learned(coupling_db)
    played = np.concatenate([_answer(1), np.zeros(SAMPLE_RATE // 2, np.int16)])
    level = active_level(laptop.echo(played).astype(np.int16))
    line = audience.HECKLES[2]  # words from its first syllable ("Boo!" alone can pass for a laugh)
    heckle = at_level(audience.heckle(voice, line), level - 12).astype(np.float64)
    heard = _hear(laptop, canceller, ear, played, _mic(laptop, played, heckle, SAMPLE_RATE))
    assert any(v.hearing.kind == "speech" for v in heard), heard


def test_the_double_talk_detector_finds_the_visitor_not_the_comedian() -> None:
    laptop, canceller, _ = _learned(0.0)
    played = _answer(1)
    alone = canceller.process(_mic(laptop, played), played)
    assert alone.near is not None
    assert np.mean(alone.near) < 0.05  # the comedian alone: (almost) nobody else (AEC3 varies run to run)
    heckle = at_level(audience.heckle("ash"), active_level(laptop.echo(played).astype(np.int16)) - 12)
    at = SAMPLE_RATE
    heckled = canceller.process(_mic(laptop, played, heckle.astype(np.float64), at), played)
    assert np.mean(heckled.near[at : at + len(heckle)]) > 0.3  # someone besides the comedian, there
    assert np.mean(heckled.near[: at - SAMPLE_RATE // 4]) < 0.05  # and not before they spoke


@pytest.mark.parametrize("jump_ms", [10.0, 30.0, -20.0])
def test_the_comedian_alone_is_never_heard_as_someone_talking_when_the_delay_jumps(jump_ms: float) -> None:
    """A browser's output path moves by whole buffers when playback stops and starts again (seen
    in Chromium: 143 -> 153 -> 163 -> 173 ms over a set): the next answer, on the new delay, is still
    the comedian and nobody else."""
    laptop, canceller, ear = _learned(0.0)
    for n in range(3):
        laptop = Laptop(0.0, laptop.delay_ms + jump_ms)
        played = np.concatenate([_answer(n), np.zeros(SAMPLE_RATE // 2, np.int16)])
        heard = _hear(laptop, canceller, ear, played, _mic(laptop, played))
        assert not [v for v in heard if v.hearing.kind == "speech"], (n, heard)


def test_full_scale_frames_leave_the_log_quiet() -> None:
    """A hostile page's full-scale frames (or a clipping microphone) made SpeexDSP reset its filter
    and print a warning on stderr a hundred times a second, from C, past the app's logging."""
    script = (
        "import numpy as np\n"
        "from comedy.sound.echo import EchoCanceller\n"
        "canceller, loud = EchoCanceller(), np.full(480, 32767, np.int16)\n"
        "loud[::2] = -32768\n"
        "for _ in range(200):\n"
        "    canceller.process(loud, loud)\n"
        "    canceller.process(np.full(480, 32767, np.int16), np.full(480, -32768, np.int16))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert ran.stderr == ""
