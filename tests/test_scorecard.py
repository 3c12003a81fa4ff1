"""The end card's content, pure: a real stage's lines in, the scorecard out (no socket, no clock)."""

from __future__ import annotations

from dataclasses import dataclass

from comedy import prompts
from comedy.money import pricing
from comedy.money.meters import Meters
from comedy.sound.room import RoomReading
from comedy.stage.stage import Stage
from comedy.stage.transcript import Turn
from comedy.web import page_view

T0 = 1000.0
SECOND = 24_000


@dataclass
class _Ended:
    """A set as the page reads it once it is over (`page_view.ShownSet`)."""

    stage: Stage
    endpoint: object = None
    sound: str = "engine"
    closed: bool = True
    length: float = 180.0


def _stage() -> Stage:
    meters = Meters(pricing.LIST_PRICES["gpt-realtime-2.1"])
    return Stage(prompts.SetUp(), prompts.Tuning("gpt-realtime-2.1", "low", 1200), meters, started_at=T0)


def _joke(stage: Stage, item: str, text: str, laugh: float, note: str = "", heard_s: float = 9.0) -> None:
    """A joke that arrived as two pieces (the second at 4 s of audio) and played `heard_s` seconds."""
    half = text.index(" ", len(text) // 2)
    turn = Turn("assistant", text, item, note=note, marks=[(0, half), (4 * SECOND, len(text))])
    turn.score = RoomReading("laughter" if laugh else "silence", laugh, 0.5, 2.0)
    stage.lines.add(turn)
    stage.speaker.played[item] = int(heard_s * SECOND)


def test_a_row_is_the_joke_not_the_line_that_read_the_room() -> None:
    stage = _stage()
    _joke(
        stage,
        "a",
        "Oh, you're laughing already? Great. My dentist says I grind my teeth at night, "
        "which is fair, I do my best work unsupervised.",
        0.6,
    )
    card = page_view.scorecard(_Ended(stage))
    row = card["jokes"][0]["text"]
    assert row.startswith("My dentist says") and "laughing already" not in row
    assert ".…" not in row and row.endswith("…")  # cut at a word, one ellipsis
    assert card["best"].startswith("My dentist says") and card["best"].endswith("unsupervised.")
    assert card["best_lamps"] == 6


def test_a_line_cut_short_is_no_joke_on_the_card() -> None:
    stage = _stage()
    _joke(stage, "a", "Right, airports. The security line is where I learned my belt has opinions.", 0.4)
    _joke(stage, "b", "Tag: and my shoes are now on a watchlist of their own, apparently.", 0.0, heard_s=2.0)
    _joke(
        stage,
        "c",
        "Cats, then. My cat treats the couch like a startup: scratch first, fund later.",
        0.0,
        note="heckle: cut at 1.2 s",
    )
    card = page_view.scorecard(_Ended(stage))
    rows = [row["text"] for row in card["jokes"]]
    assert card["count"] == 1 and rows == ["The security line is where I learned my belt has opinions."]


def test_a_one_sentence_answer_is_all_joke() -> None:
    assert page_view.joke_of("I told my plant a secret and now it won't stop leafing.") == (
        "I told my plant a secret and now it won't stop leafing."
    )
    assert page_view.joke_of("Nice crowd!  My job is  mostly meetings.") == "My job is mostly meetings."
