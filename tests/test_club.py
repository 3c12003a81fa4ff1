"""The set (`comedy.venue.club`) on a real socket: a heckle cuts where the visitor stopped hearing, and a
new topic cuts the joke being told."""

from __future__ import annotations

import asyncio

from comedy import prompts
from comedy.house.jokes import load_joke_book
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from harness.sets import Listener, answers, endpoint, until
from tests.conftest import spoken

SR = protocol.SAMPLE_RATE


async def test_heckle_cancels_and_truncates_at_the_played_position() -> None:
    async with RehearsalServer(pace=3.0) as server:  # audio arrives faster than it plays, as live
        comedy_set = ComedySet(endpoint(server), prompts.SetUp(voice="ash"), hands_free=True)
        await comedy_set.start()
        listener = Listener(comedy_set)
        await comedy_set.tell("airports")
        await until(lambda: listener.samples >= SR * 1.5, what="1.5 s of the joke played")
        heckle = spoken("boo, you are not funny at all", voice="echo", silence_after=1.2)
        played_at_heckle = None
        for start in range(0, len(heckle), SR // 10):  # the visitor talks over the comedian
            comedy_set.receive(SR, heckle[start : start + SR // 10])
            await asyncio.sleep(0.1)
            if comedy_set.stage.barges and played_at_heckle is None:
                played_at_heckle = listener.samples
        await until(lambda: server.journal.truncations, what="the truncate")
        await until(
            lambda: len(answers(comedy_set)) >= 2 and "your turn" in comedy_set.stage.status,
            what="the comedian's answer to the heckle",
        )
        listener.task.cancel()
        await comedy_set.close()
    item_id, audio_end_ms = server.journal.truncations[0]
    cut = next(t for t in comedy_set.stage.transcript if t.item_id == item_id)
    assert comedy_set.stage.barges == 1
    assert "response.cancel" in server.journal.received
    # Cut where the listener was: what had been handed to the player, not what had arrived.
    assert abs(audio_end_ms - played_at_heckle * 1000 // SR) <= 100
    assert audio_end_ms < comedy_set.stage.speaker.received[item_id] * 1000 // SR
    assert cut.note.startswith("heckled: cut at")
    assert any(t.note == "heckle" for t in comedy_set.stage.transcript if t.role == "user")
    openers = load_joke_book().openers["heckling"]
    assert any(answers(comedy_set)[-1].text.startswith(o) for o in openers)


async def test_a_new_topic_mid_joke_cuts_the_joke_and_tells_the_next() -> None:
    async with RehearsalServer(pace=2.0) as server:
        comedy_set = ComedySet(endpoint(server), prompts.SetUp())
        await comedy_set.start()
        listener = Listener(comedy_set)
        await comedy_set.tell("airports")
        await until(lambda: listener.samples >= SR, what="a second of the first joke")
        await comedy_set.tell("cats")
        await until(
            lambda: len(answers(comedy_set)) >= 2 and "your turn" in comedy_set.stage.status,
            what="the second joke",
        )
        listener.task.cancel()
        await comedy_set.close()
    first = answers(comedy_set)[0]
    assert first.note.startswith("skipped for a new joke: cut at")
    assert not comedy_set.stage.last_error  # no "already has an active response"
    assert "cat" in answers(comedy_set)[-1].text.lower() or "meow" in answers(comedy_set)[-1].text.lower()
