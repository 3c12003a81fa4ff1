"""The room reader (`comedy.room`) and the audience reaction on "auto"."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from comedy import prompts, protocol
from comedy.club import ComedySet
from comedy.rehearsal import RehearsalServer, audience
from comedy.room import read_room
from harness.clips import clips, confusion, decide
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
        if comedy_set.room is not None:
            break
    await until(
        lambda: "- Audience reaction: laughing\n" in (server.session_updates[-1].get("instructions") or ""),
        what="the room's verdict in the instructions",
    )
    listener.task.cancel()
    await comedy_set.close()
    assert comedy_set.room.kind == "laughter" and comedy_set.room.meter()["laughter"] > 0.5


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
