"""Laughter is not a heckle, on real sockets: the rehearsal audience laughs, claps or heckles into
the visitor's microphone, and the set (turn detection reporting only) decides what each sound is."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator

import pytest

from comedy import prompts
from comedy.rehearsal import RehearsalServer
from comedy.show import recording
from comedy.show.comedy_set import ComedySet
from comedy.sound import audio
from comedy.web.page_view import messages
from harness.sets import answers, endpoint, in_the_room, until


@pytest.fixture
async def live() -> AsyncIterator[RehearsalServer]:
    """A rehearsal server paced as a live stream: sounds land while the comedian talks."""
    async with RehearsalServer(pace=1.0, seed=3) as running:
        yield running


@pytest.fixture
async def show(live: RehearsalServer) -> AsyncIterator[tuple[ComedySet, RehearsalServer]]:
    """A hands-free set with the room's microphone and a listener playing its speech."""
    async with in_the_room(
        ComedySet(endpoint(live), prompts.SetUp(reaction="auto"), hands_free=True), live
    ) as playing:
        yield playing, live


def _asked(server: RehearsalServer) -> list[str]:
    return [str(params.get("instructions") or "") for params in server.journal.asked]


async def _talking(comedy_set: ComedySet) -> None:
    await comedy_set.tell("airports")
    await until(
        lambda: sum(comedy_set.stage.speaker.played.values()) > 12_000, what="the comedian to be heard"
    )


async def test_the_session_reports_speech_and_leaves_the_decisions_to_the_set(show) -> None:
    _, server = show
    detection = server.journal.session_updates[-1]["audio"]["input"]["turn_detection"]
    assert detection["create_response"] is False and detection["interrupt_response"] is False
    assert server.journal.session_updates[-1]["audio"]["input"]["noise_reduction"] == {"type": "far_field"}


@pytest.mark.parametrize("kind", ["laughter", "applause"])
async def test_the_room_reacting_mid_joke_never_cuts_the_comedian_nor_becomes_a_turn(show, kind: str) -> None:
    comedy_set, server = show
    await _talking(comedy_set)
    server.conduct.audience.cue(kind, seed=5)
    await until(lambda: any(v.hearing.kind == kind for v in comedy_set.stage.verdicts), what=f"{kind} heard")
    await until(lambda: not comedy_set.stage.responding, what="the answer to end")
    assert comedy_set.stage.barges == 0 and not server.journal.truncations
    assert "response.cancel" not in server.journal.received
    # committed by the server, its transcript (a laugh's "ha"s, nothing for applause) is no line: deleted
    await until(
        lambda: "conversation.item.delete" in server.journal.received, what=f"the {kind}'s item deleted"
    )
    assert [t.role for t in comedy_set.stage.transcript] == [
        "user",
        "assistant",
    ]  # the joke's request, the joke
    assert "cut" not in answers(comedy_set)[0].note


async def test_a_heckle_mid_joke_cuts_it_where_it_was_heard_and_the_set_answers_it(show) -> None:
    comedy_set, server = show
    await _talking(comedy_set)
    server.conduct.audience.cue("heckle", seed=1)
    await until(lambda: comedy_set.stage.barges == 1, what="the heckle to cut the comedian")
    # the truncate follows the player's word on where it fell silent (or a short wait for it)
    await until(lambda: bool(server.journal.truncations), what="the cut joke truncated where it was heard")
    assert any(t.note == "heckle" for t in comedy_set.stage.transcript)
    asked = len(_asked(server))
    await until(lambda: len(_asked(server)) > asked, timeout=15, what="the set to answer the heckle")
    await until(lambda: len(answers(comedy_set)) >= 2, timeout=15, what="the answer to the heckle")


async def test_after_the_punchline_the_comedian_rides_the_laugh_then_tags_the_joke(show) -> None:
    comedy_set, server = show
    server.conduct.audience.cue("laughter", after="punchline", seed=2)
    await comedy_set.tell("dentists")
    await until(lambda: len(_asked(server)) >= 2, timeout=30, what="a tag line after the laugh")
    assert "tag line" in _asked(server)[-1]
    joke = answers(comedy_set)[0]
    assert joke.score is not None and joke.score.kind == "laughter" and joke.score.laugh > 0
    assert comedy_set.stage.room.reaction == "laughing"
    await until(
        lambda: (
            "- Audience reaction: laughing" in (server.journal.session_updates[-1].get("instructions") or "")
        ),
        what="the room's verdict in the session",
    )
    assert [t.role for t in comedy_set.stage.transcript].count("user") == 1  # the laugh never became a turn
    score = f"laugh {round(joke.score.laugh * 10)}/10"
    assert score in messages(comedy_set)[1]["content"]  # its score beside the joke, once heard
    with zipfile.ZipFile(io.BytesIO(recording.archive(comedy_set))) as archive:
        markdown = archive.read("set.md").decode()
        rate, bit = audio.read_audio_file(io.BytesIO(archive.read("best-bit.wav")))
    assert "## The scorecard, joke by joke" in markdown and "| laughter" in markdown
    assert (
        f"| {comedy_set.stage.set_up.voice} |" in markdown and " ms | $" in markdown
    )  # latency, cost, voice
    assert rate == 24_000 and 2.0 < len(bit) / rate <= 20.0  # the joke and its laugh
    assert f"**Best joke:** \u201c{joke.text.strip()}\u201d (laughter" in markdown


async def test_a_laugh_whose_transcript_holds_words_is_answered_as_late_speech(show) -> None:
    comedy_set, server = show
    await _talking(comedy_set)
    asked = len(_asked(server))
    server.conduct.audience.cue("laughter", seed=5, said="Ha ha, now tell us one about cats")
    await until(
        lambda: any(v.hearing.kind == "laughter" for v in comedy_set.stage.verdicts), what="laughter heard"
    )
    await until(
        lambda: any(t.note == "heard late" for t in comedy_set.stage.transcript),
        what="its words to overrule the ear",
    )
    late = next(t for t in comedy_set.stage.transcript if t.note == "heard late")
    assert late.role == "user" and "cats" in late.text
    await until(lambda: len(_asked(server)) > asked, timeout=15, what="the set to answer it")
