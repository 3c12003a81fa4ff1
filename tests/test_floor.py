"""Hold, then decide: the floor's transition table, and the stage over a player that reports (the
page's), where any sound over the comedian holds it, a laugh holds it until the laugh fades, a
cough lets it go on, and speech cuts it at what was heard before the hold. Pure: no sockets."""

from __future__ import annotations

import numpy as np
import pytest

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.realtime.reading import Kind
from comedy.rehearsal import audience
from comedy.stage.actions import DropSpeech, Hold, HoldDue, Resume
from comedy.stage.floor import (
    DECIDING_SECONDS,
    ECHO_TAIL_SECONDS,
    HELD,
    LAUGH_SECONDS,
    OPEN,
    QUIET_PROOF_SECONDS,
    RIDING,
    TRANSITIONS,
    UNDECIDED_SECONDS,
    Floor,
    FloorState,
)
from harness.speech import spoken
from tests.test_stage import T0, _heard, _kinds, _sent, _sound, _speaking, _stage

# --- the machine


def test_every_state_is_reachable_and_every_hold_ends() -> None:
    reached = {OPEN} | set(TRANSITIONS.values())
    assert reached == set(FloorState)
    # from every held state there is a way back to the open floor, both by resuming and by a cut
    for state in (HELD, RIDING):
        assert TRANSITIONS[(state, "resume")] is OPEN and TRANSITIONS[(state, "cut")] is OPEN


def test_a_sound_holds_once_with_a_deadline_and_the_deadline_resumes() -> None:
    floor = Floor()
    actions = floor.sound("onset", T0)
    assert actions == [Hold(), HoldDue(T0 + UNDECIDED_SECONDS)] and floor.state is HELD
    assert floor.sound("onset", T0 + 0.1) == []  # a hold over a hold is the same hold
    assert floor.due(T0 + 0.2, deciding=False) == []  # not yet
    assert floor.due(T0 + UNDECIDED_SECONDS, deciding=False) == [Resume()] and floor.state is OPEN
    assert floor.counts.holds == 1 and floor.counts.resumes == 1


def test_a_reported_sound_is_held_while_the_ear_decides_but_not_for_ever() -> None:
    floor = Floor()
    floor.sound("onset", T0)
    assert floor.sound("reported", T0 + 0.1, deciding=True) == [HoldDue(T0 + DECIDING_SECONDS)]
    assert floor.due(T0 + UNDECIDED_SECONDS, deciding=True) == []
    assert floor.due(T0 + DECIDING_SECONDS, deciding=True) == [Resume()]


def test_a_laugh_holds_until_it_fades_or_the_cap() -> None:
    floor = Floor()
    floor.sound("reported", T0, deciding=True)
    assert floor.laugh("laughter", T0 + 0.4) == [HoldDue(T0 + 0.4 + LAUGH_SECONDS)]
    assert floor.state is RIDING and floor.held.since == T0
    assert floor.due(T0 + DECIDING_SECONDS + 1, deciding=False) == []  # the ear's limit is not the laugh's
    assert floor.due(T0 + 0.4 + LAUGH_SECONDS, deciding=False) == [Resume()]
    # a laugh heard with no hold before it holds at once
    assert floor.laugh("applause", T0 + 20)[0] == Hold()


def test_a_cut_ends_the_hold_without_a_resume() -> None:
    floor = Floor()
    floor.sound("onset", T0)
    floor.cut(T0 + 0.3)
    assert floor.state is OPEN and floor.held is None and floor.counts.cuts == 1
    assert floor.due(T0 + 5, deciding=False) == []


# --- the stage, over a player that reports what it played


def _reporting_stage(seconds: float = 8.0):
    stage = _stage()
    _speaking(stage, "A", seconds=seconds)
    stage.speaker.report("A", SAMPLE_RATE)  # the page's player: 1 s played
    return stage


def _holds(actions) -> list[str]:
    return [type(a).__name__ for a in actions if isinstance(a, Hold | Resume | DropSpeech)]


def test_laughter_over_the_comedian_holds_it_and_it_goes_on_when_the_laugh_fades() -> None:
    stage = _reporting_stage()
    actions = _sound(stage, audience.laughter(1.5, seed=3), "U1", T0 + 2, tail=1.5)
    assert _holds(actions) == ["Hold", "Resume"]  # held at its first sight, resumed when it faded
    assert stage.barges == 0 and "conversation.item.truncate" not in _kinds(actions)
    assert stage.floor.counts.laughs == 1 and stage.floor.state is OPEN
    assert stage.verdicts[-1].hearing.kind == "laughter"


def test_speech_over_the_comedian_holds_it_then_cuts_it_where_the_hold_began() -> None:
    stage = _reporting_stage()
    actions = _sound(stage, spoken("get off the stage", "ash", 0.0), "U1", T0 + 2)
    assert _holds(actions) == ["Hold", "DropSpeech"]  # no resume: the heckle cuts
    assert stage.floor.state is OPEN and stage.floor.counts.cuts == 1
    stage.speaker.report("A", SAMPLE_RATE)  # the held player's final word: nothing more was played
    truncate = [e for e in _sent(stage.finish_cut(T0 + 3)) if e["type"] == "conversation.item.truncate"]
    assert truncate[0]["audio_end_ms"] == 1000
    assert stage.transcript[-1].note == "heckle"


def test_a_cough_over_the_comedian_holds_it_briefly_and_it_goes_on() -> None:
    stage = _reporting_stage()
    actions = _sound(stage, audience.cough(seed=1), "U1", T0 + 2)
    assert _holds(actions) == ["Hold", "Resume"]
    assert stage.barges == 0 and stage.floor.counts.held_seconds < 1.0


def test_a_sound_the_server_never_reports_is_let_go_after_its_deadline() -> None:
    stage = _reporting_stage()
    click = np.zeros(SAMPLE_RATE // 10, np.int16)
    click[:480] = 8000  # 20 ms of a loud knock, then quiet: the VAD never reports it
    actions = _heard(stage, click, T0 + 2)
    assert _holds(actions) == ["Hold"]
    due = next(a for a in actions if isinstance(a, HoldDue))
    assert due.at == pytest.approx(T0 + 2 + UNDECIDED_SECONDS)
    assert stage.hold_due(due.at) == [Resume()]
    assert stage.floor.state is OPEN and stage.status == "Performing…"


def test_gradios_own_player_cannot_hold_and_is_cut_as_before() -> None:
    stage = _stage()
    _speaking(stage, "A", seconds=8.0)
    stage.speaker.handed("A", SAMPLE_RATE)  # Gradio's audio: no count of its own
    laugh = _sound(stage, audience.laughter(1.5, seed=3), "U1", T0 + 2)
    assert _holds(laugh) == []
    heckle = _sound(stage, spoken("get off the stage", "ash", 0.0), "U2", T0 + 6)
    assert _holds(heckle) == ["DropSpeech"]


def test_the_stage_says_it_is_listening_then_holding_for_the_laugh() -> None:
    stage = _reporting_stage()
    said = []
    laugh = audience.laughter(2.0, seed=3)
    chunk = SAMPLE_RATE // 50
    audio_in = np.concatenate([np.zeros(SAMPLE_RATE // 5, np.int16), laugh])
    for i in range(0, len(audio_in), chunk):
        now = T0 + 2 + i / SAMPLE_RATE
        _heard(stage, audio_in[i : i + chunk], now)
        if i == chunk * 15:
            stage.on_event({"type": Kind.SPEECH_STARTED, "item_id": "U1", "audio_start_ms": 0}, now)
        said.append((stage.floor.state, stage.status))
    assert (HELD, "Listening…") in said
    assert (RIDING, "Holding for the laugh…") in said


def test_a_hold_whose_microphone_goes_quiet_was_for_no_one_and_is_let_go_at_once() -> None:
    floor = Floor()
    floor.sound("onset", T0, echo=True)  # the comedian's own echo, say
    assert floor.heard(True, T0 + ECHO_TAIL_SECONDS - 0.05) == []  # still its tail
    assert floor.heard(False, T0 + ECHO_TAIL_SECONDS + 0.05) == []
    proved = T0 + ECHO_TAIL_SECONDS + QUIET_PROOF_SECONDS
    assert floor.heard(False, proved) == [Resume()] and floor.counts.proved_empty == 1
    # someone there: loud after the tail more than once, and the hold waits for the ear
    floor.sound("onset", T0 + 10, echo=True)
    floor.heard(True, T0 + 10.4)
    floor.heard(True, T0 + 10.5)
    assert floor.heard(False, T0 + 10.8) == [] and floor.state is HELD


def test_a_sound_that_goes_on_is_held_past_the_first_deadline_for_the_servers_report() -> None:
    floor = Floor()
    floor.sound("onset", T0, echo=False)
    floor.heard(True, T0 + 0.2)  # someone is there, the server has not reported it yet
    floor.heard(True, T0 + 0.3)
    assert floor.due(T0 + UNDECIDED_SECONDS, deciding=False) == [HoldDue(T0 + DECIDING_SECONDS)]
    assert floor.due(T0 + DECIDING_SECONDS, deciding=False) == [Resume()]


def test_a_laugh_longer_than_the_cap_is_held_once_and_the_comedian_goes_on_over_the_rest() -> None:
    stage = _reporting_stage(seconds=20.0)
    actions = _sound(stage, np.tile(audience.laughter(2.75, seed=3), 4), "U1", T0 + 2)
    dues = [a.at for a in actions if isinstance(a, HoldDue)]
    actions += stage.hold_due(max(dues))  # the cap's deadline (the pump calls it in time)
    holds = _holds(actions)
    assert holds.count("Hold") == 1 and holds.count("Resume") == 1, holds
