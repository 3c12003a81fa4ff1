"""Ask for one whole answer and collect it, riding out drops, stalls and rate limits.

The CLI and the voice audition both need "say this, give me all of it"; the live set streams instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from comedy import endings, protocol
from comedy.protocol import Event
from comedy.realtime import RealtimeError, RealtimeSession

MAX_TRIES = 3


@dataclass
class Answer:
    """What the comedian said: 24 kHz pcm16 audio, its transcript, and the usage it reported."""

    audio: bytearray = field(default_factory=bytearray)
    transcript: str = ""
    heard: str = ""
    usage: dict = field(default_factory=dict)
    ending: endings.Ending = field(default_factory=lambda: endings.Ending("completed"))  # or cut short
    items: list[str] = field(default_factory=list)  # output items that spoke, in order (2.x: several)
    notes: list[str] = field(default_factory=list)  # why an answer had to be asked for again
    skipped: list[str] = field(default_factory=list)  # frames that could not be read


async def ask(
    session: RealtimeSession, content: list[Event], trigger: list[Event], on_text: Callable = print
) -> Answer:
    """Send `content` then `trigger`, and collect one full answer.

    A rate-limited, failed or stalled answer is asked for again; after a dropped socket the new
    session has no conversation, so the content is sent again too.
    """
    answer = Answer()
    to_send = content + trigger
    for attempt in range(1, MAX_TRIES + 1):
        for event in to_send:
            await session.send(event)
        retry = await _collect(session, answer, on_text)
        if retry is None:
            return answer
        answer.notes.append(retry.message)
        on_text(f"\n[{retry.message}]" + (" Trying again." if attempt < MAX_TRIES else ""))
        if retry.wait:
            await asyncio.sleep(retry.wait)
        if retry.resend_content:
            to_send = content + (trigger or [protocol.response_create()])
        else:
            to_send = [protocol.response_cancel()] * retry.cancel_first + [protocol.response_create()]
    raise RealtimeError(f"No answer after {MAX_TRIES} tries: {answer.notes[-1]}")


@dataclass
class _Retry:
    message: str
    wait: float = 0.0
    resend_content: bool = False
    cancel_first: bool = False


async def _collect(session: RealtimeSession, answer: Answer, on_text: Callable) -> _Retry | None:
    async for event in session:
        kind = event["type"]
        if kind == "response.created":
            answer.audio.clear()
            answer.transcript = ""
            answer.items.clear()
        elif kind == "response.output_audio.delta":
            try:
                answer.audio += protocol.audio_of(event)
            except protocol.ProtocolError as exc:
                answer.skipped.append(f"an audio delta: {exc}")
        elif kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            if event.get("item_id") not in answer.items:  # a new output item of the same answer
                answer.items.append(event.get("item_id"))
                if answer.transcript:
                    answer.transcript += " "
                    on_text(" ", end="", flush=True)
            answer.transcript += event.get("delta", "")
            on_text(event.get("delta", ""), end="", flush=True)
        elif kind == "conversation.item.input_audio_transcription.completed":
            answer.heard = event.get("transcript", "")
        elif kind == "response.done":
            response = event.get("response") or {}
            ending = endings.read(response)
            if ending.status == "cancelled":
                continue  # the answer we gave up on, not the one we are waiting for
            answer.usage = response.get("usage") or {}
            if ending.failed:
                return _Retry(ending.words, 1.0)
            answer.ending = ending  # completed, or cut short: asking again would cut it again
            on_text("")
            return None
        elif kind == "error":
            error = protocol.ApiError.from_event(event)
            if not error.retryable:
                raise RealtimeError(f"The Realtime API said: {error}")
            return _Retry(f"The Realtime API said: {error}", error.retry_after or 1.0)
        elif kind == "local.disconnected":
            on_text(f"\n[{event['message']}]")
        elif kind == "local.reconnected":
            return _Retry(event["message"], resend_content=True)
        elif kind == "local.gave_up":
            raise RealtimeError(event["message"])
        elif kind == "local.response_timeout":
            return _Retry(event["message"], cancel_first=True)
        elif kind == "local.protocol_error":
            answer.skipped.append(event["reason"])
    raise RealtimeError("The connection closed before the answer finished.")
