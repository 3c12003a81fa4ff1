"""Property-based tests: odd audio, odd frames and odd events never crash or hang anything."""

from __future__ import annotations

import asyncio
import json
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays, floating_dtypes, integer_dtypes
from websockets.asyncio.client import connect

from comedy.prompts import SetUp
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from comedy.sound import audio
from comedy.web.page_view import messages, status_line
from tests.conftest import KEY

DTYPES = st.one_of(integer_dtypes(endianness="="), floating_dtypes(endianness="=", sizes=(32, 64)))
SHAPES = st.one_of(st.tuples(st.integers(0, 5000)), st.tuples(st.integers(0, 3000), st.integers(1, 4)))
RATES = st.sampled_from([8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000])


@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(st.tuples(RATES, arrays(DTYPES, SHAPES)), max_size=6))
def test_any_microphone_chunks_become_valid_pcm16_appends(chunks) -> None:
    mic = audio.MicrophonePath()
    out = []
    for rate, samples in chunks:
        out += mic.feed(rate, samples)
    out += mic.flush()
    for chunk in out:
        assert chunk.dtype == np.int16 and chunk.ndim == 1 and len(chunk) <= audio.APPEND_SAMPLES
        event = protocol.audio_append(audio.pcm16_bytes(chunk))
        assert event["type"] == "input_audio_buffer.append"
    mono = audio.to_mono_float(chunks[0][1]) if chunks else np.zeros(0)
    assert np.all(np.isfinite(mono)) and (mono.size == 0 or np.max(np.abs(mono)) <= 1.0)


@settings(max_examples=200, deadline=None)
@given(
    raw=st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.builds(
            json.dumps,
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                max_leaves=10,
            ),
        ),
    )
)
def test_decode_either_returns_an_event_or_says_why(raw) -> None:
    try:
        event = protocol.decode(raw)
    except protocol.ProtocolError as exc:
        assert str(exc)
    else:
        assert isinstance(event["type"], str)


SERVER_EVENT_TYPES = [
    "response.created",
    "response.output_audio.delta",
    "response.output_audio_transcript.delta",
    "response.done",
    "error",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "conversation.item.input_audio_transcription.completed",
    "response.output_text.delta",
    "session.updated",
]
FIELD_VALUES = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(
        st.sampled_from(["status", "usage", "output", "error", "message"]),
        st.one_of(st.none(), st.text(max_size=8), st.integers()),
        max_size=3,
    ),
)
RANDOM_EVENTS = st.lists(
    st.builds(
        lambda kind, fields: {"type": kind, **fields},
        st.sampled_from(SERVER_EVENT_TYPES),
        st.dictionaries(
            st.sampled_from(["delta", "item_id", "response", "transcript", "error", "audio_start_ms"]),
            FIELD_VALUES,
            max_size=4,
        ),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=RANDOM_EVENTS)
def test_the_set_survives_random_and_out_of_order_server_events(events) -> None:
    async def feed() -> None:
        comedy_set = ComedySet(Endpoint("ws://unused", "k", True), SetUp())
        async with asyncio.timeout(5):  # never a hang
            for event in events:
                comedy_set.stage.on_event(event, time.monotonic())  # the stage, fed directly
        messages(comedy_set)
        status_line(comedy_set)

    try:
        asyncio.run(feed())
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # The reader catches what its handler raises; nothing may escape as anything worse.
        assert not isinstance(exc, asyncio.TimeoutError)


FRAMES = st.one_of(
    st.text(max_size=300),
    st.builds(
        json.dumps,
        st.dictionaries(
            st.sampled_from(
                ["type", "session", "item", "audio", "response", "item_id", "audio_end_ms", "event_id"]
            ),
            st.one_of(
                st.none(),
                st.integers(),
                st.text(max_size=30),
                st.sampled_from(
                    protocol_types := [
                        "session.update",
                        "input_audio_buffer.append",
                        "conversation.item.create",
                        "conversation.item.truncate",
                        "response.create",
                        "response.cancel",
                    ]
                ),
                st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=3),
            ),
            max_size=5,
        ),
    ),
)


async def test_the_rehearsal_server_answers_malformed_frames_with_errors_and_stays_up() -> None:
    with warnings.catch_warnings():  # a fixed sample of odd frames, drawn once
        warnings.simplefilter("ignore")
        frames = st.lists(FRAMES, min_size=30, max_size=30).example()
    async with (
        RehearsalServer(pace=0) as server,
        connect(
            f"{server.url}?model=gpt-realtime-2.1", additional_headers={"Authorization": f"Bearer {KEY}"}
        ) as ws,
    ):
        await ws.recv()
        for frame in frames:
            await ws.send(frame)
        await ws.send(protocol.encode(protocol.session_update(voice="sage")))
        async with asyncio.timeout(20):
            while json.loads(await ws.recv())["type"] != "session.updated":
                pass
    assert protocol_types
