"""Crowd work that remembers the room, on real sockets: the app's set tells the comedian tonight's
record with each answer, and the rehearsal's house comedian, reading it as the live one is asked
to, calls back to an earlier topic and to a heckle's words, and never tells a joke twice."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator

import pytest

from comedy import prompts
from comedy.house.jokes import load_joke_book
from comedy.rehearsal import RehearsalServer
from comedy.rehearsal.material import choose_line
from comedy.show.comedy_set import ComedySet
from comedy.stage import tonight
from comedy.stage.transcript import Transcript, Turn
from harness.sets import answers, endpoint, in_the_room, until

HECKLE = "you call that a joke, my name is Priya"


@pytest.fixture
async def show() -> AsyncIterator[tuple[ComedySet, RehearsalServer]]:
    """A hands-free set (its answers streamed three times faster than live), the room's microphone
    and a listener playing the speech in real time."""
    async with (
        RehearsalServer(pace=3.0, seed=11) as server,
        in_the_room(ComedySet(endpoint(server), prompts.SetUp(), hands_free=True), server) as playing,
    ):
        yield playing, server


async def _joke(comedy_set: ComedySet, topic: str) -> str:
    """Ask for a joke on `topic`; its whole line once the visitor has heard all of it."""
    told = len(answers(comedy_set))
    await comedy_set.tell(topic)
    await until(lambda: len(answers(comedy_set)) > told and not comedy_set.stage.busy, timeout=30, what=topic)
    await until(lambda: not comedy_set.stage.speaker.unheard(), timeout=30, what=f"the {topic} joke heard")
    return answers(comedy_set)[-1].text


async def test_after_two_topics_and_a_heckle_a_later_answer_calls_back_to_them(show) -> None:
    comedy_set, server = show
    await _joke(comedy_set, "airports")
    await comedy_set.tell("my cat")
    await until(lambda: sum(comedy_set.stage.speaker.played.values()) > 24_000, what="the cat joke heard")
    server.conduct.audience.cue("heckle", said=HECKLE)
    await until(lambda: comedy_set.stage.barges == 1, what="the heckle to cut the comedian")
    await until(
        lambda: any(t.note in ("heckle", "heard late") and t.text for t in comedy_set.stage.transcript),
        what="the heckle's words",
    )
    await until(
        lambda: not comedy_set.stage.busy and len(answers(comedy_set)) >= 3, timeout=30, what="its answer"
    )
    assert HECKLE not in answers(comedy_set)[-1].text  # the heckle is answered, not yet called back
    await until(lambda: not comedy_set.stage.speaker.unheard(), timeout=30, what="its answer heard")

    await _joke(comedy_set, "the dentist")
    await _joke(comedy_set, "trains")
    later = " ".join(t.text for t in answers(comedy_set)[2:])  # the heckle's answer and after
    assert f'"{HECKLE}"' in later  # the heckle's words, called back
    assert "airports" in later or "my cat" in later  # an earlier topic, called back
    record = server.journal.asked[-1]["instructions"]  # what the comedian was told with the last ask
    assert '- Earlier topics: "airports"; "my cat"; "the dentist"' in record
    assert f"- Heckles, in the heckler's words: {json.dumps(HECKLE)}" in record
    assert '- The visitor\'s name, as they gave it: "Priya"' in record
    whole = [t.text for t in answers(comedy_set) if "cut" not in t.note and "not heard" not in t.note]
    told = [j.text for text in whole for j in load_joke_book().jokes if j.text in text]
    assert len(set(told)) == len(told) == len(whole)  # a joke in every whole answer, none twice


def _show_of(asks: int, session_lines: int | None = None) -> list[str]:
    """The house comedian's answers to `asks` requests on one topic, each told the record of the
    show as the set renders it; with `session_lines`, the session holds only the last few lines (as
    a new session after a voice change is told them)."""
    transcript, said, rng = Transcript(0.0, []), [], random.Random(4)
    for _ in range(asks):
        transcript.add(Turn("user", prompts.joke_request("airports")))
        items = [
            {"id": f"item_{n}", "role": t.role, "content": [{"type": "text", "text": t.text}]}
            for n, t in enumerate(transcript.lines[-(session_lines or len(transcript.lines)) :])
        ]
        record = prompts.instructions(prompts.SetUp(topic="airports"), tonight.render(transcript))
        line = choose_line({"instructions": record}, items, set(), {}, rng)
        transcript.add(Turn("assistant", line))
        said.append(line)
    return said


def _jokes_in(lines: list[str]) -> list[str]:
    return [j.text for line in lines for j in load_joke_book().jokes if j.text in line]


def test_no_joke_is_told_twice_in_a_fifteen_minute_show() -> None:
    said = _show_of(45)  # a joke every 20 s
    told = _jokes_in(said)
    assert len(set(told)) == len(told) == len(load_joke_book().jokes[:45])
    assert all(line.count(".") >= 1 for line in said)


def test_a_new_session_does_not_bring_back_the_jokes_its_record_holds() -> None:
    told = _jokes_in(_show_of(tonight.JOKES_KEPT + 1, session_lines=2))  # the session: the last answer
    assert len(set(told)) == len(told)
