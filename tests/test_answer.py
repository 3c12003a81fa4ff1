"""One whole answer (`comedy.show.answer`, for the CLI and the audition) on the same stage as a live set."""

from __future__ import annotations

import pytest

from comedy.realtime import protocol
from comedy.realtime.session import RealtimeError, RealtimeSession
from comedy.rehearsal import RehearsalServer
from comedy.show.answer import ask
from tests.conftest import KEY

ASK = [protocol.user_text("Tell me a joke about penguins.")]


async def test_a_whole_answer_is_collected(server: RehearsalServer) -> None:
    async with RealtimeSession(server.url, KEY) as session:
        answer = await ask(session, ASK, [protocol.response_create()], on_text=lambda *_, **__: None)
    assert answer.ending.completed and answer.transcript and len(answer.audio) > protocol.SAMPLE_RATE
    assert answer.usage["output_token_details"]["audio_tokens"] > 0


async def test_a_dropped_answer_is_asked_for_again_on_the_new_session(server: RehearsalServer) -> None:
    server.conduct.faults.drop_after_deltas = 2
    said: list[str] = []
    async with RealtimeSession(server.url, KEY, backoff_initial=0.01) as session:
        answer = await ask(
            session, ASK, [protocol.response_create()], on_text=lambda t="", **_: said.append(t)
        )
    assert server.journal.connections == 2 and answer.ending.completed and answer.transcript
    assert any("dropped" in note for note in answer.notes)


async def test_a_failed_answer_is_given_up_after_three_tries_in_words(server: RehearsalServer) -> None:
    server.conduct.faults.failed, server.conduct.faults.times = True, 3
    async with RealtimeSession(server.url, KEY) as session:
        with pytest.raises(RealtimeError, match="No answer after 3 tries"):
            await ask(session, ASK, [protocol.response_create()], on_text=lambda *_, **__: None)
