"""The rehearsal server speaks the Realtime protocol as the SDK's types define it, on a real socket."""

from __future__ import annotations

import base64
import datetime as dt

import numpy as np
import pytest
from openai import AsyncOpenAI
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from comedy import prompts
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer, audience
from comedy.rehearsal.server import FAILED_ERROR
from tests.conftest import KEY, RawClient, appends, spoken

RESPONSE_ORDER = [
    "response.created",
    "rate_limits.updated",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
]
RESPONSE_END = [
    "response.output_audio.done",
    "response.output_audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
]


def _kinds(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


async def test_text_turn_gets_the_full_ordered_audio_answer(raw: RawClient) -> None:
    await raw.send(
        prompts.session_update(
            prompts.SetUp(voice="cedar", style="dad jokes", reaction="groaning", topic="cats")
        )
    )
    assert (await raw.recv())["type"] == "session.updated"
    await raw.send(protocol.user_text("Tell me a joke about cats"))
    await raw.send(protocol.response_create())
    events = await raw.until("response.done")
    kinds = [
        k
        for k in _kinds(events)
        if k not in ("response.output_audio.delta", "response.output_audio_transcript.delta")
    ]
    assert kinds[:2] == ["conversation.item.added", "conversation.item.done"]
    assert kinds[2:] == RESPONSE_ORDER + RESPONSE_END
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in events if e["type"] == "response.output_audio.delta"
    )
    deltas = [e for e in events if e["type"] == "response.output_audio.delta"]
    assert len(audio) > 2 * protocol.SAMPLE_RATE  # over a second of speech
    assert all(len(base64.b64decode(d["delta"])) <= 4800 for d in deltas)  # ~100 ms each
    transcript = "".join(e["delta"] for e in events if e["type"] == "response.output_audio_transcript.delta")
    done = events[-1]["response"]
    assert done["status"] == "completed"
    assert done["output"][0]["content"][0]["transcript"] == transcript
    assert "cat" in transcript.lower() or "meow" in transcript.lower()
    usage = done["usage"]
    assert usage["output_token_details"]["audio_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_text_modality_answers_in_text(raw: RawClient) -> None:
    update = protocol.session_update(
        voice="ash", instructions="Comedy style: dry.", output_modalities=("text",)
    )
    await raw.send(update)
    await raw.recv()
    await raw.send(protocol.user_text("work"))
    await raw.send(protocol.response_create())
    events = await raw.until("response.done")
    assert "response.output_audio.delta" not in _kinds(events)
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text and events[-1]["response"]["output"][0]["content"][0]["text"] == text


async def test_server_vad_hears_real_speech_and_answers(raw: RawClient) -> None:
    await raw.send(protocol.session_update(voice="marin", turn_detection=protocol.server_vad()))
    await raw.recv()
    for event in appends(spoken("tell me a joke about cats")):
        await raw.send(event)
    events = await raw.until("response.done")
    kinds = _kinds(events)
    started = next(e for e in events if e["type"] == "input_audio_buffer.speech_started")
    stopped = next(e for e in events if e["type"] == "input_audio_buffer.speech_stopped")
    assert 0 <= started["audio_start_ms"] < 400  # 250 ms of lead-in, minus prefix padding
    assert 1200 < stopped["audio_end_ms"] - started["audio_start_ms"] < 4000
    assert kinds.index("input_audio_buffer.committed") < kinds.index("response.created")
    heard = next(e for e in events if e["type"] == "conversation.item.input_audio_transcription.completed")
    assert heard["item_id"] == stopped["item_id"]


async def _reported(raw: RawClient, update: dict, pcm) -> list[dict]:
    """What turn detection reports about `pcm` under the settings in `update` (then 2 s of quiet)."""
    await raw.send(update)
    assert (await raw.recv())["type"] == "session.updated"
    for event in appends(np.concatenate([pcm, np.zeros(protocol.SAMPLE_RATE * 2, np.int16)])):
        await raw.send(event)
    await raw.send(protocol.audio_clear())
    return await raw.until("input_audio_buffer.cleared")


async def test_reporting_only_turn_detection_reports_speech_and_neither_answers_nor_cuts(
    raw: RawClient,
) -> None:
    detection = protocol.server_vad(create_response=False, interrupt_response=False)
    events = await _reported(raw, protocol.session_update(turn_detection=detection), spoken("hello there"))
    kinds = _kinds(events)
    assert "input_audio_buffer.speech_started" in kinds and "input_audio_buffer.committed" in kinds
    assert "response.created" not in kinds


async def test_noise_reduction_keeps_a_steady_room_from_being_speech(raw: RawClient) -> None:
    hum = audience.room_noise(3.0, -30.0)
    detection = protocol.server_vad(create_response=False)
    plain = await _reported(raw, protocol.session_update(turn_detection=detection), hum)
    assert "input_audio_buffer.speech_started" in _kinds(plain)
    reduced = protocol.session_update(
        turn_detection=detection, noise_reduction=protocol.noise_reduction("far_field")
    )
    quiet = await _reported(raw, reduced, hum)
    assert "input_audio_buffer.speech_started" not in _kinds(quiet)
    # a voice over the same room still comes through
    voice = (hum[: len(spoken("hello there"))].astype(int) + spoken("hello there")).clip(-32768, 32767)
    heard = await _reported(raw, reduced, np.asarray(voice, np.int16))
    assert "input_audio_buffer.speech_started" in _kinds(heard)


async def test_semantic_eagerness_is_how_long_the_server_waits_for_the_visitor_to_go_on(
    raw: RawClient,
) -> None:
    gap = np.zeros(protocol.SAMPLE_RATE * 6 // 10, np.int16)  # a 0.6 s pause mid-sentence
    pcm = np.concatenate([spoken("so my wife", silence_after=0.0), gap, spoken("said no", silence_after=0.0)])
    stops = {}
    for eagerness in ("high", "low"):
        update = protocol.session_update(
            turn_detection=protocol.semantic_vad(eagerness, create_response=False)
        )
        stops[eagerness] = _kinds(await _reported(raw, update, pcm)).count(
            "input_audio_buffer.speech_stopped"
        )
    assert stops == {"high": 2, "low": 1}


async def test_audio_start_ms_counts_the_whole_session_across_settings_changes(raw: RawClient) -> None:
    detection = protocol.server_vad(create_response=False)
    first = await _reported(raw, protocol.session_update(turn_detection=detection), spoken("one"))
    second = await _reported(raw, protocol.session_update(turn_detection=detection), spoken("two"))
    start = [e["audio_start_ms"] for e in first + second if e["type"] == "input_audio_buffer.speech_started"]
    assert len(start) == 2 and start[1] > start[0] + 2000  # the second sound comes after the first's 3 s


async def test_silence_alone_starts_no_turn(raw: RawClient) -> None:
    await raw.send(protocol.session_update(turn_detection=protocol.server_vad()))
    await raw.recv()
    for event in appends(np.zeros(protocol.SAMPLE_RATE * 2, np.int16)):
        await raw.send(event)
    await raw.send(protocol.audio_clear())
    assert (await raw.recv())["type"] == "input_audio_buffer.cleared"


async def test_cancel_stops_the_answer_and_truncate_cuts_it(server: RehearsalServer) -> None:
    server.conduct.pace = 4.0  # slow enough to cancel mid-answer
    async with connect(
        f"{server.url}?model=gpt-realtime-2.1", additional_headers={"Authorization": f"Bearer {KEY}"}
    ) as ws:
        raw = RawClient(ws)
        await raw.recv()
        await raw.send(protocol.user_text("airports"))
        await raw.send(protocol.response_create())
        events = await raw.until("response.output_audio.delta")
        item_id = events[-1]["item_id"]
        await raw.send(protocol.response_cancel())
        done = (await raw.until("response.done"))[-1]["response"]
        assert done["status"] == "cancelled"
        assert done["status_details"] == {"type": "cancelled", "reason": "client_cancelled"}
        await raw.send(protocol.item_truncate(item_id, 50))
        truncated = (await raw.until("conversation.item.truncated"))[-1]
        assert truncated["audio_end_ms"] == 50 and truncated["item_id"] == item_id
        await raw.send(protocol.item_truncate(item_id, 999_999))
        error = (await raw.until("error"))[-1]["error"]
        assert error["param"] == "audio_end_ms"
        await raw.send(protocol.response_cancel())
        assert (await raw.until("error"))[-1]["error"]["code"] == "response_cancel_not_active"


@pytest.mark.parametrize(
    ("frame", "param", "code"),
    [
        (protocol.session_update(voice="onyx"), "session.audio.output.voice", "invalid_value"),
        (
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
                },
            },
            "session.audio.input.format.rate",
            "invalid_value",
        ),
        (
            {"type": "session.update", "session": {"type": "realtime", "temperature": 0.8}},
            "session.temperature",
            "unknown_parameter",
        ),
        (
            {"type": "session.update", "session": {"modalities": ["text", "audio"]}},
            "session.modalities",
            "unknown_parameter",
        ),
        ({"type": "response.audio.delta"}, "type", "invalid_value"),
        ("{not json", None, "invalid_json"),
        (protocol.session_update(reasoning_effort="extreme"), "session.reasoning.effort", "invalid_value"),
        (
            {
                "type": "session.update",
                "session": {"type": "realtime", "reasoning": {"effort": "low", "x": 1}},
            },
            "session.reasoning.x",
            "unknown_parameter",
        ),
        (protocol.session_update(max_output_tokens=0), "session.max_output_tokens", "invalid_value"),
        (protocol.session_update(max_output_tokens=4097), "session.max_output_tokens", "invalid_value"),
        (
            {"type": "response.create", "response": {"max_output_tokens": -1}},
            "response.max_output_tokens",
            "invalid_value",
        ),
        (
            protocol.session_update(transcription_model="gpt-5-transcribe"),
            "session.audio.input.transcription.model",
            "invalid_value",
        ),
        (
            protocol.session_update(turn_detection=protocol.semantic_vad("eager")),
            "session.audio.input.turn_detection.eagerness",
            "invalid_value",
        ),
        (
            protocol.session_update(turn_detection={**protocol.server_vad(), "create_response": "no"}),
            "session.audio.input.turn_detection.create_response",
            "invalid_type",
        ),
        (
            protocol.session_update(turn_detection={**protocol.semantic_vad(), "silence_duration_ms": 500}),
            "session.audio.input.turn_detection.silence_duration_ms",
            "unknown_parameter",
        ),
        (
            protocol.session_update(noise_reduction=protocol.noise_reduction("headset")),
            "session.audio.input.noise_reduction.type",
            "invalid_value",
        ),
        (
            protocol.session_update(noise_reduction=protocol.noise_reduction("far_field", "max")),
            "session.audio.input.noise_reduction.strength",
            "invalid_type",
        ),
        (
            protocol.session_update(noise_reduction=protocol.noise_reduction("near_field", -1)),
            "session.audio.input.noise_reduction.strength",
            "decimal_below_min_value",
        ),
    ],
)
async def test_bad_input_gets_an_error_naming_the_param_and_the_socket_stays_open(
    raw: RawClient, frame: dict | str, param: str | None, code: str
) -> None:
    await raw.send(frame)
    error = (await raw.recv())["error"]
    assert error["param"] == param and error["code"] == code and error["message"]
    await raw.send(protocol.session_update(voice="verse"))
    assert (await raw.recv())["type"] == "session.updated"


async def test_voice_is_fixed_once_the_model_has_spoken(raw: RawClient) -> None:
    await raw.send(protocol.user_text("dogs"))
    await raw.send(protocol.response_create())
    await raw.until("response.done")
    await raw.send(protocol.session_update(voice="shimmer"))
    error = (await raw.until("error"))[-1]["error"]
    assert error["param"] == "session.audio.output.voice"


async def test_missing_key_is_refused_with_http_401(server: RehearsalServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{server.url}?model=gpt-realtime-2.1"):
            pass
    assert refused.value.response.status_code == 401


async def test_beta_header_is_turned_away_as_the_real_api_does(server: RehearsalServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}", "OpenAI-Beta": "realtime=v1"}
    async with connect(f"{server.url}?model=gpt-realtime-2.1", additional_headers=headers) as ws:
        raw = RawClient(ws)
        assert (await raw.recv())["error"]["code"] == "beta_api_shape_disabled"
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4000


async def test_official_sdk_client_completes_text_to_audio(server: RehearsalServer) -> None:
    client = AsyncOpenAI(api_key=KEY, websocket_base_url=server.url.removesuffix("/realtime"))
    async with client.realtime.connect(model="gpt-realtime-2.1") as connection:
        await connection.session.update(
            session={
                "type": "realtime",
                "output_modalities": ["audio"],
                "audio": {"output": {"voice": "coral"}},
                "instructions": "Comedy style: absurd.",
            }
        )
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Tell me a joke about the moon"}],
            }
        )
        await connection.response.create()
        audio = b""
        async for event in connection:
            if event.type == "response.output_audio.delta":
                audio += base64.b64decode(event.delta)
            if event.type == "response.done":
                assert event.response.status == "completed"
                break
    assert len(audio) > protocol.SAMPLE_RATE  # at least half a second of speech


async def test_faults_rate_limit_then_server_error_then_recovery(
    raw: RawClient, server: RehearsalServer
) -> None:
    server.conduct.faults.error_code = "rate_limit_exceeded"
    await raw.send(protocol.user_text("cats"))
    await raw.send(protocol.response_create())
    error = protocol.ApiError.from_event((await raw.until("error"))[-1])
    assert error.code == "rate_limit_exceeded" and error.retry_after == pytest.approx(0.2)
    server.conduct.faults.error_code = "server_error"
    server.conduct.faults.times = 1
    await raw.send(protocol.response_create())
    assert (await raw.until("error"))[-1]["error"]["type"] == "server_error"
    await raw.send(protocol.response_create())
    assert (await raw.until("response.done"))[-1]["response"]["status"] == "completed"


async def test_reasoning_is_for_reasoning_models_only(server: RehearsalServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with connect(f"{server.url}?model=gpt-realtime", additional_headers=headers) as ws:
        raw = RawClient(ws)
        await raw.recv()
        await raw.send(protocol.session_update(reasoning_effort="low"))
        error = (await raw.recv())["error"]
        assert error["param"] == "session.reasoning" and error["code"] == "unsupported_parameter"
        await raw.send(protocol.session_update())
        assert (await raw.recv())["type"] == "session.updated"


async def test_new_fields_are_applied_and_shown_in_session_updated(raw: RawClient) -> None:
    await raw.send(protocol.session_update(reasoning_effort="minimal", max_output_tokens=300))
    session = (await raw.recv())["session"]
    assert session["reasoning"] == {"effort": "minimal"} and session["max_output_tokens"] == 300
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-transcribe"}


async def test_retired_models_are_refused_from_their_shutdown_day(server: RehearsalServer) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    server.conduct.today = lambda: dt.date(2027, 1, 19)
    async with connect(f"{server.url}?model=gpt-realtime-mini", additional_headers=headers) as ws:
        assert (await RawClient(ws).recv())["type"] == "session.created"
    server.conduct.today = lambda: dt.date(2027, 1, 20)
    async with connect(f"{server.url}?model=gpt-realtime-mini", additional_headers=headers) as ws:
        assert (await RawClient(ws).recv())["error"]["code"] == "model_not_found"
    async with connect(f"{server.url}?model=gpt-realtime-2.1", additional_headers=headers) as ws:
        raw = RawClient(ws)
        await raw.recv()
        server.conduct.today = lambda: dt.date(2027, 2, 26)  # whisper-1 and gpt-4o-*-transcribe end
        await raw.send(protocol.session_update(transcription_model="gpt-4o-mini-transcribe"))
        error = (await raw.recv())["error"]
        assert error["param"] == "session.audio.input.transcription.model"
        assert "shut down on 2027-02-26" in error["message"]


async def test_max_output_tokens_cuts_the_answer_as_incomplete(raw: RawClient) -> None:
    await raw.send(protocol.session_update(max_output_tokens=20))
    await raw.recv()
    await raw.send(protocol.user_text("cats"))
    await raw.send(protocol.response_create())
    done = (await raw.until("response.done"))[-1]["response"]
    assert done["status"] == "incomplete"
    assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
    assert done["usage"]["output_tokens"] <= 20 and done["output"][0]["status"] == "incomplete"


async def test_a_preamble_answer_has_two_items_in_order(raw: RawClient, server: RehearsalServer) -> None:
    server.conduct.preambles = True
    await raw.send(protocol.user_text("cats"))
    await raw.send(protocol.response_create())
    events = await raw.until("response.done")
    added = [e for e in events if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [0, 1]
    first, second = (e["item"]["id"] for e in added)
    audio_items = [e["item_id"] for e in events if e["type"] == "response.output_audio.delta"]
    assert audio_items.index(second) > len(audio_items) - audio_items[::-1].index(first) - 1  # in order
    output = events[-1]["response"]["output"]
    assert [i["id"] for i in output] == [first, second] and output[0]["content"][0]["transcript"]


@pytest.mark.parametrize(
    ("switch", "status", "details"),
    [
        ({"incomplete": "content_filter"}, "incomplete", {"type": "incomplete", "reason": "content_filter"}),
        ({"failed": True}, "failed", {"type": "failed", "error": FAILED_ERROR}),
    ],
)
async def test_every_ending_is_sent_as_the_sdk_types_it(
    raw: RawClient, server: RehearsalServer, switch: dict, status: str, details: dict
) -> None:
    for name, value in switch.items():
        setattr(server.conduct.faults, name, value)
    await raw.send(protocol.user_text("cats"))
    await raw.send(protocol.response_create())
    done = (await raw.until("response.done"))[-1]["response"]  # each event checked against the SDK
    assert done["status"] == status and done["status_details"] == details


def test_the_model_thinks_longer_as_its_reasoning_effort_rises() -> None:
    import random

    from comedy.rehearsal.thinking import THINK_SECONDS, think_seconds

    def median(model: str, session: dict) -> float:
        rng = random.Random(1)
        return sorted(think_seconds(model, session, rng) for _ in range(201))[100]

    efforts = ["minimal", "low", "medium", "high", "xhigh"]
    medians = [median("gpt-realtime-2.1", {"reasoning": {"effort": e}}) for e in efforts]
    assert medians == sorted(medians)
    assert median("gpt-realtime-2.1", {}) == pytest.approx(THINK_SECONDS["low"], rel=0.1)  # the default
    assert median("gpt-realtime", {"reasoning": {"effort": "xhigh"}}) == pytest.approx(
        THINK_SECONDS[None], rel=0.1
    )  # no reasoning model thinks by effort


async def _thinking_session(server: RehearsalServer, effort: str):
    ws = await connect(
        f"{server.url}?model=gpt-realtime-2.1", additional_headers={"Authorization": f"Bearer {KEY}"}
    )
    client = RawClient(ws)
    await client.recv()  # session.created
    await client.send(protocol.session_update(voice="cedar", instructions="x", reasoning_effort=effort))
    await client.until("session.updated")
    await client.send(protocol.user_text("cats"))
    await client.send(protocol.response_create())
    return ws, client


async def test_a_fresh_answer_starts_after_the_model_thinks_and_a_cancel_then_leaves_no_output() -> None:
    import time

    async with RehearsalServer(pace=1.0, seed=3) as paced:
        ws, client = await _thinking_session(paced, "minimal")
        async with ws:
            await client.until("response.created")
            asked = time.monotonic()
            await client.until("response.output_item.added")
            assert time.monotonic() - asked >= 0.1  # a lower bound: it thought before its first item
            await client.send(protocol.response_cancel())
            await client.until("response.done")
        ws, client = await _thinking_session(paced, "xhigh")  # seconds of thought: cancelled in it
        async with ws:
            await client.until("response.created")
            await client.send(protocol.response_cancel())
            done = (await client.until("response.done"))[-1]["response"]
            assert done["status"] == "cancelled" and done["output"] == []
            assert not [e for e in client.events if e["type"] == "response.output_item.added"]


@pytest.mark.parametrize("typed", [True, False], ids=["typed-topic", "spoken-heckle"])
def test_a_typed_topic_that_cut_a_joke_is_a_topic_and_a_spoken_line_a_heckle(typed: bool) -> None:
    """The house comedian thinks as the live model would: a joke cut by a new topic the visitor
    typed is followed by that topic's joke, not an answer to a heckle; cut by the visitor's voice,
    it answers the heckle first."""
    import random

    from comedy.house.jokes import load_joke_book
    from comedy.rehearsal.material import choose_line

    joke = {
        "id": "A",
        "role": "assistant",
        "content": [{"type": "output_audio", "transcript": "So airports"}],
    }
    after = (
        protocol.user_text("Tell me a joke about dentists.")["item"]
        if typed
        else {"id": "U", "role": "user", "content": [{"type": "input_audio", "transcript": None}]}
    )
    items = [protocol.user_text("Tell me a joke about airports.")["item"], joke, after]
    line = choose_line({"instructions": ""}, items, {"A"}, {}, random.Random(1))
    heckle_openers = load_joke_book().openers["heckling"]
    assert any(line.startswith(o) for o in heckle_openers) is not typed
