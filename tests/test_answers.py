"""Every way a visitor's answer can end, and answers of more than one item, on a live set.

The set talks to the rehearsal server on 127.0.0.1; the page shows what `status_line()` and the
transcript say here.
"""

from __future__ import annotations

import asyncio

import pytest

from comedy import prompts
from comedy.money import pricing
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.rehearsal.server import PREAMBLES
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from harness.sets import Listener
from tests.conftest import KEY, spoken
from tests.test_faults import Watched

SR = protocol.SAMPLE_RATE


def _comedian(comedy_set: ComedySet) -> list:
    return [t for t in comedy_set.stage.transcript if t.role == "assistant"]


@pytest.mark.parametrize(
    ("switch", "limit", "note", "words"),
    [
        ("content_filter", 1200, "cut by the content filter", "OpenAI's content filter cut that joke short."),
        (None, 25, "cut: length limit", "reached its length limit"),
    ],
    ids=["content-filter", "max-output-tokens"],
)
async def test_a_cut_answer_is_marked_and_said_and_the_set_goes_on(
    server: RehearsalServer, switch: str | None, limit: int, note: str, words: str
) -> None:
    endpoint = Endpoint(server.url, KEY, True, max_output_tokens=limit)
    watched = Watched(ComedySet(endpoint, prompts.SetUp()))
    await watched.set.start()
    server.conduct.faults.incomplete = switch
    await watched.joke("cats")
    cut = _comedian(watched.set)[-1]
    assert cut.note == note and cut.text  # what was said before the cut stays in the transcript
    assert any(words in line for line in watched.lines), watched.lines
    assert server.journal.session_updates[-1]["max_output_tokens"] == limit

    if switch is None:
        watched.set.endpoint.max_output_tokens = 1200
        await watched.set.change(watched.set.stage.set_up)
    await watched.joke("dogs")  # the next joke is whole
    assert _comedian(watched.set)[-1].note == "" and len(_comedian(watched.set)) == 2
    await watched.set.close()


async def test_a_two_item_answer_is_heard_whole_and_shown_as_two_lines() -> None:
    async with RehearsalServer(pace=4.0) as server:
        server.conduct.preambles = True
        watched = Watched(ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp()))
        await watched.set.start()
        listener = Listener(watched.set)
        await watched.joke("airports")
        preamble, joke = _comedian(watched.set)
        assert preamble.text in PREAMBLES and len(joke.text) > 20
        assert preamble.item_id != joke.item_id and not preamble.note and not joke.note
        received = sum(watched.set.stage.speaker.received[t.item_id] for t in (preamble, joke))
        await watched.until(lambda: listener.samples >= received)  # every item played, in order
        speaker = watched.set.stage.speaker
        assert speaker.played == {i: speaker.received[i] for i in speaker.played}  # each heard whole
        assert not speaker.unheard()  # a cut now would find nothing of it to truncate
        listener.task.cancel()
        await watched.set.close()


async def test_a_cut_during_the_preamble_truncates_it_and_deletes_the_unheard_answer() -> None:
    async with RehearsalServer(pace=4.0) as server:
        server.conduct.preambles = True
        comedy_set = ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp())
        watched = Watched(comedy_set)
        await comedy_set.start()
        listener = Listener(comedy_set)
        await comedy_set.tell("airports")
        await watched.until(lambda: listener.samples >= SR // 10)
        listener.task.cancel()  # the visitor has heard a little of the preamble
        await watched.until(
            lambda: len(comedy_set.stage.speaker.unheard()) == 2
        )  # the answer item is arriving
        preamble, answer = comedy_set.stage.speaker.unheard()
        heard_ms = comedy_set.stage.speaker.played[preamble] * 1000 // SR
        assert 0 < heard_ms < comedy_set.stage.speaker.received[preamble] * 1000 // SR

        await watched.joke("dogs")  # a new topic cuts the answer
        assert server.journal.truncations[0] == (preamble, heard_ms)
        assert "conversation.item.delete" in server.journal.received
        notes = {t.item_id: t.note for t in comedy_set.stage.transcript if t.role == "assistant"}
        assert notes[preamble] == f"skipped for a new joke: cut at {heard_ms / 1000:.1f} s"
        assert notes[answer] == "skipped for a new joke: not heard"
        assert all(kind != "error" for kind in server.journal.sent)  # truncate and delete both accepted
        await comedy_set.close()


async def test_input_transcription_is_costed_apart_from_the_session(server: RehearsalServer) -> None:
    comedy_set = ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp(), prices=pricing.prices_for("x"))
    watched = Watched(comedy_set)
    await comedy_set.start()
    speech = spoken("what do you call a fish with no eyes", voice="echo", silence_after=1.2)
    for start in range(0, len(speech), SR // 10):
        comedy_set.receive(SR, speech[start : start + SR // 10])
        await asyncio.sleep(0.1)  # in real time, as a microphone sends (faster is paced)
    await watched.until(
        lambda: server.journal.transcriptions and comedy_set.stage.meters.transcription_usd > 0
    )
    seconds = sum(u["seconds"] for u in server.journal.transcriptions)
    assert comedy_set.stage.meters.transcribed_s == pytest.approx(seconds)
    assert comedy_set.stage.meters.transcription_usd == pytest.approx(seconds / 60 * 0.0045)
    assert "transcription $" in comedy_set.stage.meters.summary()
    assert (
        comedy_set.stage.meters.cost_usd >= comedy_set.stage.meters.transcription_usd
    )  # the total counts it
    await comedy_set.close()


async def test_what_was_on_the_wire_when_the_set_cut_is_never_played() -> None:
    async with RehearsalServer(pace=2.0) as server:
        server.conduct.cancel_lag = 0.5  # the answer streams on after the cancel, as deltas in flight do
        comedy_set = ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp())
        watched = Watched(comedy_set)
        await comedy_set.start()
        listener = Listener(comedy_set)
        await comedy_set.tell("airports")
        speaker = comedy_set.stage.speaker
        await watched.until(lambda: any(speaker.played.get(i, 0) >= SR // 2 for i in speaker.unheard()))
        cut = speaker.unheard()[0]  # half a second of the answer heard, the rest on its way
        await watched.joke("dogs")  # a new topic cuts the answer
        await watched.until(lambda: not speaker.unheard())  # the new joke heard whole
        assert server.journal.truncations[0][0] == cut
        heard_ms = speaker.played[cut] * 1000 // SR
        assert heard_ms == server.journal.truncations[0][1]  # not a sample of the cut line after its cut
        listener.task.cancel()
        await comedy_set.close()
