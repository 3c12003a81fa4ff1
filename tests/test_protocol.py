"""Every client event the app builds is valid for the SDK's types, with no unknown field anywhere."""

from __future__ import annotations

import pytest
from openai.types.realtime.realtime_reasoning_effort import RealtimeReasoningEffort

from comedy import prompts
from comedy.prompts.stored import StoredPrompt
from comedy.realtime import models, protocol
from tests.schema import check_client_event

STORED = StoredPrompt("pmpt_123", "4")

CLIENT_EVENTS = [
    protocol.session_update(),
    protocol.session_update(
        voice="cedar",
        instructions="Be funny.",
        output_modalities=("text",),
        turn_detection=protocol.server_vad(threshold=0.7),
        transcription_model=None,
    ),
    prompts.session_update(prompts.SetUp(voice="ash", style="dry", reaction="silent", topic="cats")),
    prompts.session_update(
        prompts.SetUp(),
        prompt=STORED.reference(prompts.SetUp()),
        hands_free=False,
        event_id=StoredPrompt.event_id(),
    ),
    prompts.session_update(prompts.SetUp(), prompts.Tuning("gpt-realtime-2.1-mini", "minimal", 300)),
    prompts.session_update(prompts.SetUp(), prompts.Tuning("gpt-realtime", "high", 4096)),
    prompts.session_update(
        prompts.SetUp(microphone="headset"),
        prompts.Tuning(listening=prompts.Listening("semantic_vad", eagerness="low", noise_strength=0.5)),
    ),
    prompts.session_update(prompts.SetUp(microphone="off"), prompts.Tuning(listening=prompts.Listening())),
    protocol.response_create(instructions=prompts.tag_instructions(prompts.SetUp(), "laughter")),
    protocol.user_text("Tell me a joke about airports"),
    protocol.assistant_text("Airports are the only place..."),
    protocol.audio_append(b"\x01\x00" * 2400),
    protocol.audio_commit(),
    protocol.audio_clear(),
    protocol.response_create(),
    protocol.response_create(instructions="Shorter, please."),
    protocol.response_cancel(),
    protocol.response_cancel("resp_123"),
    protocol.item_truncate("item_1", 1234),
    protocol.item_delete("item_2"),
]


@pytest.mark.parametrize("event", CLIENT_EVENTS, ids=lambda e: e["type"])
def test_client_event_is_valid_for_the_sdk(event: dict) -> None:
    check_client_event(event)


def test_no_beta_shapes_anywhere() -> None:
    update = protocol.session_update()
    assert "modalities" not in update["session"] and "voice" not in update["session"]
    assert "temperature" not in update["session"]
    assert update["session"]["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24_000}


def test_stored_prompt_carries_the_variables() -> None:
    set_up = prompts.SetUp(style="absurd", reaction="heckling", topic="moon")
    update = prompts.session_update(set_up, prompt=StoredPrompt("pmpt_abc", "2").reference(set_up))
    prompt = update["session"]["prompt"]
    assert prompt == {
        "id": "pmpt_abc",
        "version": "2",
        "variables": {
            "comedy_style": {"type": "input_text", "text": "absurd"},
            "audience_reaction": {"type": "input_text", "text": "heckling"},
            "edge": {"type": "input_text", "text": "club"},
            "topic": {"type": "input_text", "text": "moon"},
        },
    }
    assert "instructions" not in update["session"]


def test_the_default_session_is_2_1_with_low_reasoning_gpt_transcribe_and_a_length_limit() -> None:
    session = prompts.session_update(prompts.SetUp())["session"]
    assert models.DEFAULT_MODEL == "gpt-realtime-2.1" and models.reasons(models.DEFAULT_MODEL)
    assert session["reasoning"] == {"effort": "low"}
    assert session["audio"]["input"]["transcription"] == {"model": "gpt-transcribe"}
    assert session["max_output_tokens"] == prompts.DEFAULT_MAX_OUTPUT_TOKENS
    assert "prompt" not in session and "Comedy style: witty" in session["instructions"]


def test_retiring_models_get_no_reasoning_field() -> None:
    session = prompts.session_update(prompts.SetUp(), prompts.Tuning("gpt-realtime"))["session"]
    assert "reasoning" not in session


def test_our_reasoning_efforts_are_the_sdks() -> None:
    assert RealtimeReasoningEffort.__args__ == models.REASONING_EFFORTS


@pytest.mark.parametrize("raw", ["", "{", "[]", "3", '{"type": 3}', b"\xff\xfe"])
def test_decode_refuses_non_events_in_words(raw) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(raw)


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        ("Rate limit reached. Please try again in 1.5s.", 1.5),
        ("Please try again in 20ms.", 0.02),
        ("Slow down.", None),
    ],
)
def test_retry_after_is_read_from_the_message(message: str, seconds: float | None) -> None:
    error = protocol.ApiError.from_event(
        {
            "type": "error",
            "error": {"type": "rate_limit_error", "code": "rate_limit_exceeded", "message": message},
        }
    )
    assert error.retry_after == (pytest.approx(seconds) if seconds else None)
    assert error.retryable


def test_api_error_tolerates_a_malformed_error_event() -> None:
    error = protocol.ApiError.from_event({"type": "error", "error": "boom"})
    assert error.message and not error.retryable


def test_merge_session_replaces_whole_objects_where_the_api_does() -> None:
    base = protocol.session_update(voice="ash")["session"]
    update = {"audio": {"input": {"turn_detection": None}}, "prompt": {"id": "p"}}
    merged = protocol.merge_session(base, update)
    assert merged["audio"]["output"]["voice"] == "ash"
    assert merged["audio"]["input"]["turn_detection"] is None
    assert merged["prompt"] == {"id": "p"}
