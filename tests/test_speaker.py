"""The speaker ledger (`comedy.stage.speaker`): what arrived, what was heard, and where a cut falls."""

from __future__ import annotations

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.stage.speaker import Cut, Speaker


def test_a_cut_falls_in_the_item_being_heard_at_what_was_heard() -> None:
    speaker = Speaker()
    speaker.arrived("pre", SAMPLE_RATE)
    speaker.arrived("joke", SAMPLE_RATE * 3)
    speaker.handed("pre", SAMPLE_RATE)  # the preamble was heard whole
    speaker.handed("joke", SAMPLE_RATE // 2)
    assert speaker.unheard() == ["joke"]
    assert speaker.cut() == Cut("joke", 500, ())
    assert speaker.cut() is None and speaker.last_item is None  # it starts over after a cut


def test_items_after_the_one_being_heard_are_named_as_never_heard() -> None:
    speaker = Speaker()
    for item in ("a", "b", "c"):
        speaker.arrived(item, SAMPLE_RATE)
    speaker.handed("a", SAMPLE_RATE // 10)
    assert speaker.cut() == Cut("a", 100, ("b", "c"))


def test_a_players_report_never_counts_past_what_arrived_nor_goes_back() -> None:
    speaker = Speaker()
    speaker.arrived("a", SAMPLE_RATE)
    speaker.report("a", SAMPLE_RATE * 5)
    assert speaker.played["a"] == SAMPLE_RATE and speaker.reports
    speaker.report("a", 10)
    assert speaker.played["a"] == SAMPLE_RATE
    speaker.report("unknown", 10)
    assert "unknown" not in speaker.played


def test_an_item_heard_in_full_is_forgotten_when_the_next_answer_starts() -> None:
    speaker = Speaker()
    speaker.arrived("a", SAMPLE_RATE)
    speaker.handed("a", SAMPLE_RATE)
    speaker.new_answer()
    speaker.arrived("b", SAMPLE_RATE)
    assert speaker.cut() == Cut("b", 0, ())


def test_the_first_sample_heard_is_timed_once() -> None:
    speaker = Speaker()
    assert not speaker.heard_first("a", 1.0)  # nothing arrived for it yet
    speaker.arrived("a", 10)
    assert speaker.heard_first("a", 2.0) and not speaker.heard_first("a", 3.0)
    assert speaker.first_heard == {"a": 2.0}
