"""An answer's lifecycle as its transition table says it, pure: each state the table names is
reached by the events a set really sees, and a step the table does not name leaves the state as
it was."""

from __future__ import annotations

import pytest

from comedy import prompts
from comedy.money import pricing
from comedy.money.meters import Meters
from comedy.realtime.reading import Kind
from comedy.stage.lifecycle import BUSY, TRANSITIONS, AnswerState
from comedy.stage.stage import Stage

IDLE, ASKED, ANSWERING, CANCELLING, LOST = AnswerState
T0 = 1000.0


def _stage() -> Stage:
    meters = Meters(pricing.LIST_PRICES["gpt-realtime-2.1"])
    return Stage(prompts.SetUp(), prompts.Tuning("gpt-realtime-2.1", "low", 1200), meters, started_at=T0)


def _created(stage: Stage) -> None:
    stage.on_event({"type": Kind.RESPONSE_CREATED, "response": {"id": "resp_1"}}, T0 + 1)


def _done(stage: Stage, status: str = "completed") -> None:
    response = {"id": "resp_1", "status": status, "output": [], "usage": None}
    stage.on_event({"type": Kind.RESPONSE_DONE, "response": response}, T0 + 3)


def test_every_state_has_a_way_in_and_every_busy_state_a_way_out() -> None:
    reached = set(TRANSITIONS.values())
    assert reached == set(AnswerState)
    for state in BUSY:
        assert TRANSITIONS[(state, "done")] is IDLE
        assert TRANSITIONS[(state, "dropped")] is IDLE


def test_a_joke_goes_asked_answering_idle() -> None:
    stage = _stage()
    assert stage.answers.state is IDLE
    stage.joke("airports", T0)
    assert stage.answers.state is ASKED and stage.busy
    _created(stage)
    assert stage.answers.state is ANSWERING and stage.responding
    _done(stage)
    assert stage.answers.state is IDLE and not stage.busy


def test_a_cut_cancels_and_the_cancelled_answer_ends_idle() -> None:
    stage = _stage()
    stage.joke("airports", T0)
    _created(stage)
    assert stage.cut("a heckle", T0 + 2) is not None
    assert stage.answers.state is CANCELLING and stage.busy
    _done(stage, "cancelled")
    assert stage.answers.state is IDLE


@pytest.mark.parametrize("lost", [True, False])
def test_a_drop_mid_answer_is_lost_until_retold(lost: bool) -> None:
    stage = _stage()
    stage.joke("airports", T0)
    _created(stage)
    stage.answers.dropped(lost)
    assert stage.answers.state is (LOST if lost else IDLE)
    stage.retell("Connected again: the set goes on")
    assert stage.answers.state is (ASKED if lost else IDLE)  # a lost answer is asked for again


def test_a_step_the_table_does_not_name_leaves_the_state() -> None:
    stage = _stage()
    assert (IDLE, "cut") not in TRANSITIONS
    assert stage.cut("nothing said", T0) is None
    assert stage.answers.state is IDLE
    assert (IDLE, "retold") not in TRANSITIONS
    stage.retell("Connected again")
    assert stage.answers.state is IDLE
