"""The room reader (`comedy.sound.room`) and the audience reaction on "auto"."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bench import hearing
from comedy import prompts
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer, audience
from comedy.show.comedy_set import ComedySet
from comedy.sound.room import read_room
from harness import room_clips
from harness.clips import Clip, clips, confusion, decide
from harness.sets import Listener, endpoint, laughter, until
from tests.conftest import spoken

SR = protocol.SAMPLE_RATE


@pytest.mark.parametrize(
    ("pcm", "kind"),
    [
        (laughter(), "laughter"),
        (audience.applause(2.5, seed=2), "applause"),
        (audience.room_noise(3.0, -35.0), "noise"),
        (np.concatenate([audience.cough(-18.0), np.zeros(SR * 2, np.int16)]), "noise"),
        ((np.random.default_rng(3).standard_normal(SR * 3) * 20).astype(np.int16), "silence"),
        (np.concatenate([spoken("what was that supposed to mean", "cedar", 0.3)]), "speech"),
        (spoken("haha no way, tell another one", "shimmer", 0.3), "speech"),
        (np.zeros(SR * 3, np.int16), "silence"),
    ],
)
def test_room_reader_tells_laughter_applause_noise_silence_and_speech(pcm: np.ndarray, kind: str) -> None:
    reading = read_room(pcm)
    assert reading.kind == kind, reading
    if kind == "laughter":
        assert reading.laugh > 0.5 and reading.reaction == "laughing"
    if kind == "silence":
        assert reading.laugh == 0


async def test_auto_reaction_follows_the_room(server: RehearsalServer) -> None:
    comedy_set = ComedySet(endpoint(server), prompts.SetUp(reaction="auto"), hands_free=False)
    await comedy_set.start()
    listener = Listener(comedy_set)
    await comedy_set.tell("cats")
    await until(lambda: comedy_set.stage.listening_to_room, what="the punchline to land")
    laugh = laughter(seconds=4.0)
    for start in range(0, len(laugh), SR // 10):
        comedy_set.receive(SR, laugh[start : start + SR // 10])
        await asyncio.sleep(0.1)
        if comedy_set.stage.room is not None:
            break
    await until(
        lambda: (
            "- Audience reaction: laughing\n"
            in (server.journal.session_updates[-1].get("instructions") or "")
        ),
        what="the room's verdict in the instructions",
    )
    listener.task.cancel()
    await comedy_set.close()
    assert comedy_set.stage.room.kind == "laughter" and comedy_set.stage.room.meter()["laughter"] > 0.5


def test_the_labelled_clips_meet_the_targets_laughs_never_cut_and_heckles_do() -> None:
    """Every clip of harness.clips through the rehearsal server's turn detection and the set's ear:
    at least 95 % of laughter and applause never cut the comedian, at least 95 % of speech does."""
    decisions = [decide(clip) for clip in clips()]
    matrix = confusion(decisions)
    reacting = [d for d in decisions if d.label in ("laughter", "applause")]
    speech = [d for d in decisions if d.label == "speech"]
    assert len(speech) == 80 and len(reacting) == 60
    assert sum(d.heard != "speech" for d in reacting) >= 0.95 * len(reacting), matrix
    assert sum(d.heard == "speech" for d in speech) >= 0.95 * len(speech), matrix
    assert (
        matrix["laughter"].get("laughter", 0) >= 0.9 * 30
        and matrix["applause"].get("applause", 0) >= 0.9 * 30
    )
    assert all(d.after_onset <= 0.3 + 1e-9 for d in decisions if d.heard)  # heard at most 300 ms of it


def test_a_sound_heard_as_the_room_that_turns_into_talk_cuts_the_comedian() -> None:
    """Applause with a heckle straight after it, one sound to the turn detection: the ear rides the
    applause, keeps hearing it, and cuts the comedian when the words come (before: applause only)."""
    rng = np.random.default_rng(4)
    clapping = audience.applause(0.8, seed=4)[: int(0.8 * SR)].astype(np.int32)
    words = spoken("get off the stage, that was terrible", "ash", 0.3).astype(np.int32)
    sound = np.clip(np.concatenate([clapping, words]), -32768, 32767).astype(np.int16)
    room = audience.room_noise(len(sound) / SR + 0.7, -60.0, True, int(rng.integers(1 << 30)))
    mixed = room[: SR // 2 + len(sound)].astype(np.int32)
    mixed[SR // 2 :] += sound
    clip = Clip("speech", "applause, then a heckle", np.clip(mixed, -32768, 32767).astype(np.int16))
    decision = decide(clip)
    assert decision.heard == "speech", decision
    assert decision.after_start > 0.8  # it was the words that cut, not the clapping


@pytest.mark.room_clips
def test_real_room_clips_meet_the_targets_leave_one_source_out() -> None:
    """The real recordings (../shared/room-clips), each heard with weights fitted without its source:
    at least 95 % of laughs and applause never cut the comedian, at least 95 % of speech does, each
    verdict on at most 300 ms of the sound."""
    if not room_clips.ROOM_CLIPS.is_dir():
        pytest.skip(f"{room_clips.ROOM_CLIPS} is not here: the real-clip figures need it")
    real = room_clips.real_clips()
    models = hearing.leave_one_source_out(real, *hearing.dataset(real))
    trials = hearing.score(real, models)
    room_sounds = [t for t in trials if t.label != "speech"]
    speech = [t for t in trials if t.label == "speech"]
    assert len(real) >= 20 and len(room_sounds) >= 100 and len(speech) >= 60
    mistaken = [t for t in trials if (t.heard == "speech") != (t.label == "speech")]
    wrong = sorted({(t.clip, t.room_name, t.level) for t in mistaken})
    assert sum(t.heard != "speech" for t in room_sounds) >= 0.95 * len(room_sounds), wrong
    assert sum(t.heard == "speech" for t in speech) >= 0.95 * len(speech), wrong
    assert all(t.after_onset <= 0.3 + 1e-9 for t in trials if t.heard)
