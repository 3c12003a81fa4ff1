"""The stage, pure: server events and the visitor's actions in, actions out, no socket and no clock.

The same decisions run on real sockets in test_show.py, test_faults.py and test_answers.py; here
each rule is pinned on its own, with the time given.
"""

from __future__ import annotations

import base64

import numpy as np

from comedy import prompts
from comedy.money import pricing
from comedy.money.budget import Budget
from comedy.money.meters import Meters
from comedy.prompts.stored import StoredPrompt
from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.realtime.reading import Kind
from comedy.rehearsal import audience
from comedy.sound.room import read_room
from comedy.stage.actions import (
    AwaitCut,
    Caption,
    Close,
    Cover,
    DropSpeech,
    EndOfAnswer,
    LoseSession,
    Play,
    ReadRoom,
    RetryLater,
    Send,
)
from comedy.stage.hearing import WORDS_WAIT_SECONDS
from comedy.stage.playback import Landed
from comedy.stage.room_window import MAX_ROOM_SAMPLES
from comedy.stage.stage import Stage
from harness.speech import spoken

T0 = 1000.0


def _stage(**kwargs) -> Stage:
    kwargs.setdefault("meters", Meters(pricing.LIST_PRICES["gpt-realtime-2.1"]))
    return Stage(prompts.SetUp(), prompts.Tuning("gpt-realtime-2.1", "low", 1200), started_at=T0, **kwargs)


def _audio(item: str, seconds: float) -> dict:
    pcm = np.full(int(SAMPLE_RATE * seconds), 1000, np.int16)
    return {"type": Kind.AUDIO_DELTA, "item_id": item, "delta": base64.b64encode(pcm.tobytes()).decode()}


def _done(status: str = "completed", items: tuple[str, ...] = ("A",), **details) -> dict:
    response = {
        "status": status,
        "output": [{"id": i, "type": "message"} for i in items],
        "usage": {"input_token_details": {"text_tokens": 500}, "output_token_details": {"audio_tokens": 100}},
    }
    if details:
        response["status_details"] = details
    return {"type": Kind.RESPONSE_DONE, "response": response}


def _sent(actions) -> list[dict]:
    return [a.event for a in actions if isinstance(a, Send)]


def _kinds(actions) -> list[str]:
    return [e["type"] for e in _sent(actions)]


def _speaking(stage: Stage, *items: str, seconds: float = 1.0) -> list:
    actions = stage.on_event({"type": Kind.RESPONSE_CREATED}, T0 + 1)
    for item in items:
        actions += stage.on_event(_audio(item, seconds), T0 + 1)
        actions += stage.on_event(
            {"type": Kind.TRANSCRIPT_DELTA, "item_id": item, "delta": f"{item} says"}, T0 + 1
        )
    return actions


def test_audio_is_played_and_the_answer_is_performing() -> None:
    stage = _stage()
    actions = _speaking(stage, "A")
    assert [type(a) for a in actions] == [Play, Caption]
    assert actions[1] == Caption("A", "A says", SAMPLE_RATE)  # words, and how much audio came before them
    assert stage.status == "Performing…" and stage.responding and stage.answers.spoken
    assert stage.speaker.received["A"] == SAMPLE_RATE


def _heard(stage: Stage, pcm: np.ndarray, now: float) -> list:
    """`stage.microphone`, with a room reading it asks for carried out at once (as the pump does)."""
    out = []
    for action in stage.microphone(pcm, now):
        out += (
            stage.room_read(read_room(action.audio), action, now)
            if isinstance(action, ReadRoom)
            else [action]
        )
    return out


def _sound(stage: Stage, pcm: np.ndarray, item: str, at: float, lead: float = 0.2, tail: float = 1.0) -> list:
    """The microphone hears `pcm` between `lead` and `tail` s of quiet, in 20 ms chunks from `at`;
    the server reports the sound 100 ms after it starts (with its 300 ms of padding), as its VAD does."""
    chunk, actions = SAMPLE_RATE // 50, []
    quiet = np.zeros(int(max(lead, tail) * SAMPLE_RATE), np.int16)
    audio_in = np.concatenate([quiet[: int(lead * SAMPLE_RATE)], pcm, quiet[: int(tail * SAMPLE_RATE)]])
    start = stage.ear.tape.total
    report = start + int((lead + 0.1) * SAMPLE_RATE)
    for i in range(0, len(audio_in), chunk):
        now = at + i / SAMPLE_RATE
        actions += _heard(stage, audio_in[i : i + chunk], now)
        if i <= report - start < i + chunk:
            ms = (start + int(lead * SAMPLE_RATE)) * 1000 // SAMPLE_RATE - 300
            actions += stage.on_event(
                {"type": Kind.SPEECH_STARTED, "item_id": item, "audio_start_ms": ms}, now
            )
    return actions


def test_speech_while_the_comedian_talks_is_a_heckle_cut_where_it_was_heard() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.handed("A", SAMPLE_RATE * 4 // 10)  # 0.4 s went to the player
    actions = _sound(stage, spoken("get off the stage", "ash", 0.0), "U1", T0 + 2)
    assert any(isinstance(a, DropSpeech) for a in actions)
    assert _kinds(actions) == ["response.cancel", "conversation.item.truncate"]
    truncate = next(e for e in _sent(actions) if e["type"] == "conversation.item.truncate")
    assert truncate["audio_end_ms"] == 400
    assert stage.transcript[-1].note == "heckle" and stage.barges == 1
    assert "cut at 0.4 s" in next(t.note for t in stage.transcript if t.item_id == "A")
    assert stage.verdicts[-1].hearing.kind == "speech" and stage.verdicts[-1].talking
    # its words come, the cut answer ends, then the heckle is answered: the set asks, the server does not
    assert _kinds(stage.on_event({"type": Kind.SPEECH_STOPPED, "item_id": "U1"}, T0 + 5)) == []
    words = {"type": Kind.HEARD, "item_id": "U1", "transcript": "Get off the stage!"}
    assert _kinds(stage.on_event(words, T0 + 5.05)) == []
    assert _kinds(stage.on_event(_done("cancelled"), T0 + 5.1)) == ["response.create"]


def test_speech_while_the_comedian_is_quiet_is_a_turn_the_set_answers() -> None:
    stage = _stage()
    actions = _sound(stage, spoken("tell me one about dogs", "coral", 0.0), "U1", T0 + 2)
    assert _kinds(actions) == [] and stage.transcript[-1].note == "" and stage.barges == 0
    actions = stage.on_event({"type": Kind.SPEECH_STOPPED, "item_id": "U1"}, T0 + 4)
    assert stage.status == "Thinking…" and _kinds(actions) == ["response.create"]


def test_laughter_while_the_comedian_talks_never_cuts_it_nor_becomes_a_turn() -> None:
    stage = _stage()
    _speaking(stage, "A", seconds=5.0)
    stage.speaker.handed("A", SAMPLE_RATE)
    actions = _sound(stage, audience.laughter(1.5, seed=3), "U1", T0 + 2)
    assert not any(isinstance(a, DropSpeech) for a in actions) and stage.barges == 0
    assert _kinds(actions) == []  # not cleared: the server commits it, and its words settle it
    assert all(t.role == "assistant" for t in stage.transcript) and stage.responding
    assert stage.verdicts[-1].hearing.kind == "laughter" and stage.ear.laughing is None  # faded after
    assert _sent(stage.on_event({"type": Kind.COMMITTED, "item_id": "U1"}, T0 + 4)) == []
    # its transcript is laughter: the item is deleted, and it is no line
    heard = stage.on_event({"type": Kind.HEARD, "item_id": "U1", "transcript": "ha ha"}, T0 + 4.2)
    assert _sent(heard) == [protocol.item_delete("U1")]
    assert all(t.role == "assistant" for t in stage.transcript)


def test_a_sound_heard_as_the_room_whose_transcript_holds_words_is_answered() -> None:
    stage = _stage()
    _speaking(stage, "A", seconds=5.0)
    stage.speaker.handed("A", SAMPLE_RATE)
    _sound(stage, audience.laughter(1.5, seed=3), "U1", T0 + 2)
    assert stage.verdicts[-1].hearing.kind == "laughter"
    stage.on_event({"type": Kind.SPEECH_STOPPED, "item_id": "U1"}, T0 + 4)
    assert _sent(stage.on_event({"type": Kind.COMMITTED, "item_id": "U1"}, T0 + 4)) == []
    words = {"type": Kind.HEARD, "item_id": "U1", "transcript": "Ha ha, tell us about cats instead"}
    actions = stage.on_event(words, T0 + 4.3)
    assert "response.cancel" in _kinds(actions)  # late speech over the comedian: a heckle, cut
    line = stage.transcript[-1]
    assert line.role == "user" and line.text.endswith("cats instead") and line.note == "heard late"
    assert _kinds(stage.on_event(_done("cancelled"), T0 + 4.4)) == ["response.create"]


def test_a_heckle_whose_transcript_is_only_laughter_lets_the_comedian_pick_up() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.handed("A", SAMPLE_RATE * 4 // 10)
    _sound(stage, spoken("get off the stage", "ash", 0.0), "U1", T0 + 2)
    assert stage.barges == 1 and stage.transcript[-1].note == "heckle"
    stage.on_event({"type": Kind.SPEECH_STOPPED, "item_id": "U1"}, T0 + 5)
    stage.on_event(_done("cancelled"), T0 + 5.05)
    actions = stage.on_event({"type": Kind.HEARD, "item_id": "U1", "transcript": "Hahaha!"}, T0 + 5.2)
    assert _kinds(actions) == ["conversation.item.delete", "response.create"]
    assert "Pick it up" in _sent(actions)[-1]["response"]["instructions"]
    assert all(t.role == "assistant" for t in stage.transcript)


def test_a_heckle_whose_words_are_late_is_answered_without_them() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.handed("A", SAMPLE_RATE * 4 // 10)
    _sound(stage, spoken("get off the stage", "ash", 0.0), "U1", T0 + 2)
    stage.on_event(_done("cancelled"), T0 + 4.9)
    assert _kinds(stage.on_event({"type": Kind.SPEECH_STOPPED, "item_id": "U1"}, T0 + 5)) == []
    silence = np.zeros(SAMPLE_RATE // 50, np.int16)
    assert _kinds(stage.microphone(silence, T0 + 5.5)) == []
    assert _kinds(stage.microphone(silence, T0 + 5 + WORDS_WAIT_SECONDS)) == ["response.create"]


def test_after_the_punchline_the_comedian_rides_the_laugh_then_tags_it() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.handed("A", SAMPLE_RATE)
    stage.on_event(_done(), T0 + 2)
    stage.player(Landed(T0 + 2.5))
    actions = _sound(stage, audience.laughter(1.5, seed=1), "U1", T0 + 2.5)
    creates = [e for e in _sent(actions) if e["type"] == "response.create"]
    assert len(creates) == 1 and "tag line" in creates[0]["response"]["instructions"]
    joke = next(t for t in stage.transcript if t.item_id == "A")
    assert joke.score is not None and joke.score.kind == "laughter" and joke.score.laugh > 0
    assert "laughter" in joke.shown() and stage.room.reaction == "laughing"
    stage.ended("The set is over.")
    assert "Best joke: \u201cA says\u201d" in stage.status


def test_a_cough_or_the_room_is_never_ridden_nor_tagged() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.handed("A", SAMPLE_RATE)
    stage.on_event(_done(), T0 + 2)
    stage.player(Landed(T0 + 2.5))
    actions = _sound(stage, audience.cough(-18, seed=2), "U1", T0 + 2.5, lead=0.2)
    actions += _sound(stage, np.zeros(SAMPLE_RATE * 3, np.int16), "U2", T0 + 3.6, lead=0.0)
    assert "response.create" not in _kinds(actions)
    assert stage.verdicts[-1].hearing.kind != "speech" and stage.room.kind != "laughter"


def test_with_a_player_that_reports_the_cut_waits_for_its_word() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.report("A", SAMPLE_RATE // 4)
    first = stage.cut("heckled", T0 + 2)
    assert isinstance(first[-1], AwaitCut) and "conversation.item.truncate" not in _kinds(first)
    stage.speaker.report("A", SAMPLE_RATE // 2)  # the page's final word: 0.5 s played
    second = stage.finish_cut(T0 + 2.1)
    assert _sent(second) == [protocol.item_truncate("A", 500)]


def test_what_the_server_sent_before_it_heard_the_cancel_is_neither_played_nor_owed() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.speaker.handed("A", SAMPLE_RATE * 4 // 10)
    stage.cut("heckled", T0 + 2)
    text = next(t.text for t in stage.transcript if t.item_id == "A")
    late = stage.on_event(_audio("A", 0.5), T0 + 2.05)  # in flight when the cancel went out
    late += stage.on_event({"type": Kind.TRANSCRIPT_DELTA, "item_id": "A", "delta": " and then"}, T0 + 2.05)
    assert late == []  # the visitor never hears more of a cut line, nor reads it
    assert stage.speaker.unheard() == []  # and nothing of it is owed to the player
    assert next(t.text for t in stage.transcript if t.item_id == "A") == text
    stage.on_event(_done("cancelled"), T0 + 2.1)
    assert _kinds(_speaking(stage, "B")) == [] and stage.speaker.unheard() == ["B"]


def test_a_cut_during_a_preamble_deletes_the_items_never_heard_once_the_answer_ends() -> None:
    stage = _stage()
    _speaking(stage, "pre", "joke")
    stage.speaker.handed("pre", SAMPLE_RATE // 10)
    actions = stage.cut("skipped for a new joke", T0 + 2)
    assert _sent(actions)[-1] == protocol.item_truncate("pre", 100)
    assert "conversation.item.delete" not in _kinds(actions)  # not while the answer is active
    done = stage.on_event(_done("cancelled", ("pre", "joke")), T0 + 2.2)
    assert protocol.item_delete("joke") in _sent(done)
    assert not any(isinstance(a, EndOfAnswer) for a in done)  # a cancelled answer has no tail to play


def test_a_failed_answer_is_asked_again_twice_then_given_up_in_words() -> None:
    stage = _stage()
    stage.joke("cats", T0)
    asks = []
    for _ in range(3):
        stage.on_event({"type": Kind.RESPONSE_CREATED}, T0 + 1)
        asks.append(stage.on_event(_done("failed", error={"message": "boom"}), T0 + 2))
    assert [_kinds(a).count("response.create") for a in asks] == [1, 1, 0]
    assert "Gave up after the answer failed" in stage.last_error


def test_a_completed_answer_clears_the_last_problem() -> None:
    stage = _stage()
    stage.on_event({"type": Kind.PROTOCOL_ERROR, "message": "Skipped a frame"}, T0)
    assert stage.last_error
    _speaking(stage, "A")
    actions = stage.on_event(_done(), T0 + 2)
    assert actions[0] == EndOfAnswer("A") and not stage.last_error and stage.status == "Connected: your turn"


def test_a_lost_answer_is_asked_again_after_the_set_is_retold() -> None:
    stage = _stage(rehearsal=False)
    stage.joke("cats", T0)
    stage.transcript[0].note = ""
    _speaking(stage, "A")
    dropped = stage.on_event({"type": Kind.DISCONNECTED, "message": "dropped", "lost_answer": True}, T0 + 2)
    assert isinstance(dropped[0], DropSpeech) and isinstance(dropped[-1], Cover)  # the house comedian covers
    back = stage.on_event({"type": Kind.RECONNECTED, "message": "back"}, T0 + 5)
    sent = _sent(back)
    assert sent[0] == protocol.assistant_text("A says")  # the set so far, without the lost request
    assert (
        sent[-2] == protocol.user_text("Tell me a joke about cats.") and sent[-1]["type"] == "response.create"
    )


def test_a_connection_given_up_waits_for_the_next_request() -> None:
    stage = _stage()
    actions = stage.on_event({"type": Kind.GAVE_UP, "message": "Could not reconnect for 60 s"}, T0)
    assert actions == [LoseSession()] and "next request" in stage.status


def test_a_rate_limit_waits_as_the_server_says() -> None:
    stage = _stage()
    error = protocol.error_event("Rate limit reached. Please try again in 1.5s.", code="rate_limit_exceeded")
    actions = stage.on_event(error, T0)
    assert actions == [RetryLater(1.5, "the Realtime API was busy")] and "busy" in stage.status


def test_a_refused_stored_prompt_sends_the_same_settings_again_from_the_template() -> None:
    stage = _stage(stored_prompt=StoredPrompt("pmpt_x", None))
    update = stage.session_update()
    assert "prompt" in update["session"]
    refusal = protocol.error_event("Stored prompts have been shut down.", param="session.prompt")
    actions = stage.on_event(refusal, T0)
    assert len(actions) == 1 and actions[0].replace_settings
    assert "prompt" not in actions[0].event["session"] and actions[0].event["session"]["instructions"]


def test_the_budget_caps_each_answer_and_ends_the_set_when_none_fits() -> None:
    budget = Budget(max_visitor_usd=0.03)
    stage = _stage(allowance=budget.allowance("v"))
    asked = stage.joke("cats", T0)
    cap = _sent(asked)[-1]["response"]["max_output_tokens"]
    assert 40 <= cap < 1200
    budget.spend("v", 0.029)
    closing = stage.joke("dogs", T0 + 1)[-1]  # the next request: not even a short answer fits
    assert isinstance(closing, Close) and "spend limit of $0.03" in closing.reason and stage.shown.closing
    stage.say("Performing…")
    assert stage.status == "Not started"  # a set that is ending keeps its status for its reason


def test_answers_the_owner_does_not_pay_for_are_not_capped() -> None:
    stage = _stage()
    assert "max_output_tokens" not in _sent(stage.joke("cats", T0))[-1]["response"]


def test_the_room_is_read_after_the_punchline_and_tells_the_session_on_auto() -> None:
    stage = _stage()
    stage.settings.set_up = prompts.SetUp(reaction="auto")
    stage.player(Landed(T0 + 10))
    laugh = audience.laughter(3.5, seed=4)
    actions = []
    for k in range(35):  # no VAD report: the reader hears the window by itself
        actions += _heard(stage, laugh[k * SAMPLE_RATE // 10 : (k + 1) * SAMPLE_RATE // 10], T0 + 10 + k / 10)
    assert stage.room is not None and stage.room.kind == "laughter" and not stage.listening_to_room
    assert _kinds(actions) == ["session.update"]


def test_a_joke_the_content_filter_cut_shows_a_chip_and_the_next_line_hears_of_it() -> None:
    stage = _stage()
    _speaking(stage, "A")
    stage.on_event(_done("incomplete", reason="content_filter", type="incomplete"), T0 + 2)
    assert stage.shown.censored
    assert "content filter" in next(t.note for t in stage.transcript if t.item_id == "A")
    sent = _sent(stage.joke("cats", T0 + 3))
    notes = [e for e in sent if e.get("item", {}).get("role") == "system"]
    assert len(notes) == 1 and "content filter" in notes[0]["item"]["content"][0]["text"]
    assert _kinds(stage.joke("dogs", T0 + 4)).count("conversation.item.create") == 1  # told once
    stage.on_event(_done(), T0 + 5)
    assert not stage.shown.censored  # the chip goes with the next answer that ends well


def test_a_failed_transcription_leaves_the_ears_verdict_standing() -> None:
    stage = _stage()
    _speaking(stage, "A", seconds=5.0)
    stage.speaker.handed("A", SAMPLE_RATE)
    _sound(stage, audience.laughter(1.5, seed=3), "U1", T0 + 2)
    stage.on_event({"type": Kind.COMMITTED, "item_id": "U1"}, T0 + 4)
    failed = {"type": Kind.NOT_HEARD, "item_id": "U1", "error": {"message": "no"}}
    assert _sent(stage.on_event(failed, T0 + 4.2)) == [protocol.item_delete("U1")]


def test_the_room_is_read_off_the_event_loop_on_at_most_its_window_of_samples() -> None:
    stage = _stage()
    stage.player(Landed(T0))
    laugh = np.tile(audience.laughter(2.0, seed=4), 20)  # 40 s of laughing, sent in one second
    asked = []
    for k in range(0, len(laugh), SAMPLE_RATE // 2):
        asked += [
            a
            for a in stage.microphone(laugh[k : k + SAMPLE_RATE // 2], T0 + k / len(laugh))
            if isinstance(a, ReadRoom)
        ]
    asked += [
        a for a in stage.microphone(np.zeros(SAMPLE_RATE * 4, np.int16), T0 + 20) if isinstance(a, ReadRoom)
    ]
    assert len(asked) == 1 and stage.room is None  # the pump reads it in a thread, then hands it back
    assert len(asked[0].audio) <= 2 * MAX_ROOM_SAMPLES
    stage.room_read(read_room(asked[0].audio), asked[0], T0 + 20.1)
    assert stage.room is not None and stage.room.kind == "laughter"


def test_a_laughs_transcript_that_is_the_comedians_own_echo_is_no_turn() -> None:
    stage = _stage()
    _speaking(stage, "A", seconds=5.0)
    joke = " so my dentist told me to floss the teeth I want to keep"
    stage.on_event({"type": Kind.TRANSCRIPT_DELTA, "item_id": "A", "delta": joke}, T0 + 1)
    stage.speaker.handed("A", SAMPLE_RATE)
    _sound(stage, audience.laughter(1.5, seed=3), "U1", T0 + 2)
    stage.on_event({"type": Kind.COMMITTED, "item_id": "U1"}, T0 + 4)
    echo = "My dentist told me to floss the teeth."  # what the canceller left, transcribed
    heard = stage.on_event({"type": Kind.HEARD, "item_id": "U1", "transcript": echo}, T0 + 4.2)
    assert _sent(heard) == [protocol.item_delete("U1")] and stage.barges == 0


def test_the_microphone_is_counted_as_it_is_sent_and_the_quiet_between_sounds_is_free() -> None:
    budget = Budget(max_visitor_usd=1.0)
    stage = _stage(allowance=budget.allowance("v"))
    stage.sent_microphone(60.0)  # a minute of quiet, hands-free: never committed, never billed
    assert budget.by_visitor.get("v", 0.0) == 0.0
    stage.on_event({"type": Kind.SPEECH_STARTED, "item_id": "U1", "audio_start_ms": 0}, T0)
    stage.sent_microphone(60.0)  # a minute of talk: transcribed, counted before it is billed
    per_second = pricing.TRANSCRIPTION_USD_PER_MINUTE[protocol.TRANSCRIPTION_MODEL] / 60
    assert abs(budget.by_visitor["v"] - 60.3 * per_second) < 1e-9


def test_an_answers_worst_case_is_held_until_it_is_billed() -> None:
    budget = Budget(max_day_usd=1.0)
    stage = _stage(allowance=budget.allowance("v"))
    stage.joke("cats", T0)
    assert budget.held["v"] > 0 and budget.left("other") == 1.0 - budget.held["v"]
    stage.on_event({"type": Kind.RESPONSE_CREATED}, T0 + 1)
    stage.on_event(_done(), T0 + 2)
    assert "v" not in budget.held
