"""The session module against the rehearsal server: real sockets, real faults."""

from __future__ import annotations

import asyncio
import socket

import pytest
from websockets.asyncio.server import serve

from comedy import prompts
from comedy.realtime import protocol
from comedy.realtime.session import AuthenticationError, ConnectionFailed, ModelRefused, RealtimeSession
from comedy.rehearsal import RehearsalServer
from tests.conftest import KEY, appends, spoken
from tests.schema import check_client_event


async def _answer(session: RealtimeSession) -> tuple[bytes, str, list[dict]]:
    audio, transcript, events = b"", "", []
    async for event in session:
        events.append(event)
        if event["type"] == "response.output_audio.delta":
            audio += protocol.audio_of(event)
        elif event["type"] == "response.output_audio_transcript.delta":
            transcript += event["delta"]
        elif event["type"] == "response.done":
            return audio, transcript, events
    raise AssertionError("the session ended before response.done")


class _Recording(RealtimeSession):
    """A session that schema-checks every event it sends."""

    async def send(self, event: dict) -> None:
        check_client_event(event)
        await super().send(event)


async def test_text_to_audio(server: RehearsalServer) -> None:
    async with _Recording(server.url, KEY) as session:
        await session.send(prompts.session_update(prompts.SetUp(voice="echo", topic="computers")))
        await session.send(protocol.user_text("Tell me a joke about computers"))
        await session.send(protocol.response_create())
        audio, transcript, events = await _answer(session)
    assert events[0]["type"] == "session.created"
    assert len(audio) > protocol.SAMPLE_RATE and transcript


async def test_spoken_audio_to_audio_with_server_vad(server: RehearsalServer) -> None:
    async with _Recording(server.url, KEY) as session:
        # the server answers by itself here (the app's sets decide instead: tests/test_laughter.py)
        await session.send(protocol.session_update(turn_detection=protocol.server_vad()))
        for event in appends(spoken("what do you think about airports")):
            await session.send(event)
        audio, _, events = await _answer(session)
    kinds = [e["type"] for e in events]
    assert "input_audio_buffer.speech_stopped" in kinds and "input_audio_buffer.committed" in kinds
    assert len(audio) > protocol.SAMPLE_RATE


async def test_explicit_commit_without_vad(server: RehearsalServer) -> None:
    async with _Recording(server.url, KEY) as session:
        await session.send(prompts.session_update(prompts.SetUp(), hands_free=False))
        for event in appends(spoken("dogs please")):
            await session.send(event)
        await session.send(protocol.audio_commit())
        await session.send(protocol.response_create())
        audio, _, events = await _answer(session)
    assert "input_audio_buffer.speech_started" not in [e["type"] for e in events]
    assert audio


async def test_dropped_socket_reconnects_and_reapplies_settings(server: RehearsalServer) -> None:
    server.conduct.faults.drop_after_deltas = 3
    update = prompts.session_update(prompts.SetUp(voice="sage", style="dark"))
    async with RealtimeSession(server.url, KEY, backoff_initial=0.05) as session:
        await session.send(update)
        await session.send(protocol.user_text("work"))
        await session.send(protocol.response_create())
        kinds = []
        async for event in session:
            kinds.append(event["type"])
            if event["type"] == "local.reconnected":
                assert event["lost_answer"] is True
                break
        assert "local.disconnected" in kinds
        assert session.reconnects == 1
        # The new session got the old settings back, and the next request works.
        await session.send(protocol.user_text("work"))
        await session.send(protocol.response_create())
        audio, _, _events = await _answer(session)
    assert audio
    assert server.journal.session_updates[-1]["audio"]["output"]["voice"] == "sage"
    assert "- Comedy style: dark\n" in server.journal.session_updates[-1]["instructions"]
    assert server.journal.connections == 2


async def test_a_drop_is_said_at_once_not_after_the_reconnect(server: RehearsalServer) -> None:
    """The page learns of a drop while the server is still down, not once it is back."""
    async with RealtimeSession(server.url, KEY, backoff_initial=0.05) as session:
        assert (await anext(session))["type"] == "session.created"
        server.outage(1.0)
        event = await anext(session)
        assert event["type"] == "local.disconnected" and "dropped" in event["message"]
        assert session.reconnects == 0 and server.journal.connections == 1  # said before any reconnecting
        kinds = [(await anext(session))["type"] for _ in range(2)]
    assert kinds == ["session.created", "local.reconnected"] and server.journal.connections == 2


async def test_stalled_server_gives_a_response_timeout(server: RehearsalServer) -> None:
    server.conduct.faults.stall = True
    async with RealtimeSession(server.url, KEY, response_timeout=0.5) as session:
        await session.send(protocol.user_text("cats"))
        await session.send(protocol.response_create())
        async for event in session:
            if event["type"].startswith("local."):
                assert event["type"] == "local.response_timeout"
                assert "0.5 s" in event["message"]
                break
        await session.send(protocol.response_cancel())
        await session.send(protocol.response_create())
        async for event in session:
            if event["type"] == "response.done" and event["response"]["status"] == "completed":
                break


async def test_error_events_are_yielded_not_raised(server: RehearsalServer) -> None:
    async with RealtimeSession(server.url, KEY) as session:
        await session.send(protocol.session_update(voice="onyx"))
        async for event in session:
            if event["type"] == "error":
                error = protocol.ApiError.from_event(event)
                assert error.param == "session.audio.output.voice"
                assert "onyx" in str(error)
                break
        assert session.connected


async def _garbage_server(frames: list[str]):
    async def handler(ws):
        await ws.send(protocol.encode(protocol.server_event("session.created", session={"type": "realtime"})))
        for frame in frames:
            await ws.send(frame)
        await ws.wait_closed()

    return await serve(handler, "127.0.0.1", 0)


async def test_garbage_from_the_server_is_reported_not_raised() -> None:
    frames = ["{nope", "[1, 2]", '{"no_type": true}', '{"type": "response.done", "response": {}}']
    async with await _garbage_server(frames) as srv:
        port = srv.sockets[0].getsockname()[1]
        async with RealtimeSession(f"ws://127.0.0.1:{port}/v1/realtime", KEY) as session:
            seen = []
            async for event in session:
                seen.append(event["type"])
                if event["type"] == "response.done":
                    break
    assert seen == ["session.created"] + ["local.protocol_error"] * 3 + ["response.done"]


async def test_wrong_key_is_a_clear_error_without_the_key(server: RehearsalServer) -> None:
    with pytest.raises(AuthenticationError) as refused:
        await RealtimeSession(server.url, "").connect()
    assert "OPENAI_API_KEY" in str(refused.value)


async def test_http_401_is_an_authentication_error() -> None:
    async def reject(connection, request):
        return connection.respond(401, "bad key\n")

    async with serve(lambda ws: None, "127.0.0.1", 0, process_request=reject) as srv:
        port = srv.sockets[0].getsockname()[1]
        with pytest.raises(AuthenticationError) as refused:
            await RealtimeSession(f"ws://127.0.0.1:{port}/v1/realtime", KEY).connect()
    assert "401" in str(refused.value) and KEY not in str(refused.value)


async def test_refused_model_is_named(server: RehearsalServer) -> None:
    with pytest.raises(ModelRefused) as refused:
        await RealtimeSession(server.url, KEY, model="gpt-9-turbo").connect()
    assert "gpt-9-turbo" in str(refused.value)


async def test_unreachable_host_is_a_clear_error_and_the_address_goes_to_the_log_only(caplog) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectionFailed) as failed:
        await RealtimeSession(f"ws://127.0.0.1:{port}/v1/realtime", KEY, connect_timeout=2).connect()
    assert "Could not reach the Realtime API" in str(failed.value)
    assert f"127.0.0.1:{port}" not in str(failed.value) and f"127.0.0.1:{port}" in caplog.text


async def test_close_is_idempotent_and_ends_iteration(server: RehearsalServer) -> None:
    session = RealtimeSession(server.url, KEY)
    await session.__aenter__()
    await session.close()
    await session.close()
    assert [e["type"] async for e in session] == ["session.created"]
    assert not session.connected


async def test_reconnect_gives_up_when_the_server_is_gone() -> None:
    server = RehearsalServer(pace=0)
    await server.start()
    server.conduct.faults.drop_after_deltas = 1
    async with RealtimeSession(
        server.url, KEY, reconnect_window=0.5, backoff_initial=0.01, connect_timeout=1
    ) as session:
        await session.send(protocol.user_text("cats"))
        await session.send(protocol.response_create())
        await asyncio.sleep(0.2)
        await server.stop()
        kinds = [event["type"] async for event in session]
    assert "local.disconnected" in kinds and kinds[-1] == "local.gave_up"
