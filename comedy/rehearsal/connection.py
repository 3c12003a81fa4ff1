"""One client connection to the rehearsal server: the client events it takes and validates, and
the session and conversation events it answers itself; the input buffer is `InputAudio`'s, the
answers `Responder`'s, all three writing into one `Conversation` and out through one `Wire`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE, Event, new_id, server_event
from comedy.rehearsal.conversation import Conversation
from comedy.rehearsal.input_audio import InputAudio, public
from comedy.rehearsal.journal import Conduct, Journal
from comedy.rehearsal.responder import Responder
from comedy.rehearsal.speaking import cut_transcript
from comedy.rehearsal.validation import check_session
from comedy.rehearsal.wire import Wire

log = logging.getLogger("comedy.rehearsal.server")


def default_session(model: str) -> dict[str, Any]:
    """The session a new connection starts with, as `session.created` shows it."""
    fmt = {"type": "audio/pcm", "rate": SAMPLE_RATE}
    return {
        "type": "realtime",
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "You are the house comedian of a small comedy club. Keep it short and kind.",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "audio": {
            "input": {
                "format": fmt,
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": protocol.server_vad(silence_duration_ms=500),
            },
            "output": {"format": fmt, "voice": protocol.DEFAULT_VOICE, "speed": 1.0},
        },
    }


class Connection:
    """One client's session: the events it takes, handed to the part that answers them."""

    def __init__(self, journal: Journal, conduct: Conduct, ws: ServerConnection, model: str) -> None:
        self.journal, self.conduct, self.ws = journal, conduct, ws
        self.conversation = Conversation(model, default_session(model))
        self.wire = Wire(ws, journal)
        self.responder = Responder(self.conversation, self.wire, journal, conduct)
        self.input = InputAudio(self.conversation, self.wire, self.responder, journal, conduct)
        self._handlers: dict[str, Callable[[Event], Awaitable[None]]] = {  # the API's client events
            "session.update": self.on_session_update,
            "input_audio_buffer.append": self.input.on_append,
            "input_audio_buffer.commit": self.input.on_commit,
            "input_audio_buffer.clear": self.input.on_clear,
            "conversation.item.create": self.on_conversation_item_create,
            "conversation.item.truncate": self.on_conversation_item_truncate,
            "conversation.item.delete": self.on_conversation_item_delete,
            "conversation.item.retrieve": self.on_conversation_item_retrieve,
            "response.create": self.responder.on_create,
            "response.cancel": self.responder.on_cancel,
            "output_audio_buffer.clear": self.on_output_audio_buffer_clear,
        }

    # --- plumbing

    def _expire(self) -> None:
        """The real API ends a session after 60 minutes: an error event, then the socket closes."""

        async def expire() -> None:
            minutes = self.conduct.max_session_seconds / 60
            with contextlib.suppress(ConnectionClosed):
                await self.wire.error(
                    "session_expired", f"Your session hit the maximum duration of {minutes:g} minutes."
                )
                await self.ws.close(1000, "session_expired")

        self._expiry_task = asyncio.create_task(expire())

    async def run(self) -> None:
        await self.wire.send(server_event("session.created", session=self.conversation.session))
        expiry = asyncio.get_running_loop().call_later(self.conduct.max_session_seconds, self._expire)
        try:
            async for raw in self.ws:
                await self.handle(raw)
        except ConnectionClosed:
            pass
        finally:
            expiry.cancel()
            self.responder.stop()

    async def handle(self, raw: str | bytes) -> None:
        try:
            event = protocol.decode(raw)
        except protocol.ProtocolError as exc:
            await self.wire.error("invalid_json", f"We could not parse the JSON body of your request: {exc}")
            return
        kind = event["type"]
        self.journal.received.append(kind)
        handler = self._handlers.get(kind)
        if handler is None:
            await self.wire.error(
                "invalid_value",
                f"Invalid value: {kind!r}. Supported values are: "
                + ", ".join(repr(k) for k in self._handlers)
                + ".",
                "type",
                event.get("event_id"),
            )
            return
        try:
            await handler(event)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            await self.wire.error(
                "invalid_request", f"Invalid '{kind}' event: {exc}", None, event.get("event_id")
            )
        except ConnectionClosed:
            raise
        except Exception as exc:  # a bug here must not cost the client its session
            log.exception("rehearsal server failed on %s", kind)
            await self.wire.error(
                "server_error",
                f"The rehearsal server failed on '{kind}': {exc}",
                None,
                event.get("event_id"),
                "server_error",
            )

    # --- session

    async def on_session_update(self, event: Event) -> None:
        update = event.get("session")
        if problem := check_session(update, self.conversation.model, self.conduct.today()):
            await self.wire.error(*problem, event.get("event_id"))
            return
        if self.conduct.refuse_prompts and update.get("prompt") is not None:
            await self.wire.error(
                "invalid_value",
                f"Prompt '{update['prompt'].get('id')}' cannot be used: stored prompts (v1/prompts) were "
                "shut down on 2026-11-30. Move the prompt into 'instructions'.",
                "session.prompt",
                event.get("event_id"),
            )
            return
        new_voice = (update.get("audio") or {}).get("output", {}).get("voice")
        if (
            new_voice
            and new_voice != self.conversation.session["audio"]["output"]["voice"]
            and self.conversation.audio_spoken
        ):
            await self.wire.error(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                "session.audio.output.voice",
                event.get("event_id"),
            )
            return
        self.conversation.session = protocol.merge_session(self.conversation.session, update)
        self.journal.session_updates.append(self.conversation.session)
        listening = (update.get("audio") or {}).get("input") or {}
        if "turn_detection" in listening or "noise_reduction" in listening:
            self.input.retune()
        await self.wire.send(server_event("session.updated", session=self.conversation.session))

    # --- conversation

    async def on_conversation_item_create(self, event: Event) -> None:
        item = dict(event["item"])
        if item.get("type") != "message" or item.get("role") not in ("user", "assistant", "system"):
            await self.wire.error(
                "invalid_value",
                "Only message items are supported in rehearsal mode.",
                "item.type",
                event.get("event_id"),
            )
            return
        if not isinstance(item.get("content"), list):
            await self.wire.error(
                "missing_required_parameter",
                "Missing required parameter: 'item.content'.",
                "item.content",
                event.get("event_id"),
            )
            return
        item.setdefault("id", new_id("item"))
        item.update(object="realtime.item", status="completed")
        previous = event.get("previous_item_id") or self.conversation.last_item_id()
        self.conversation.items.append(item)
        await self.wire.send(server_event("conversation.item.added", previous_item_id=previous, item=item))
        await self.wire.send(server_event("conversation.item.done", previous_item_id=previous, item=item))

    async def on_conversation_item_delete(self, event: Event) -> None:
        item_id = event["item_id"]
        if self.conversation.item(item_id) is None:
            await self.wire.error(
                "item_not_found", f"Item with item_id not found: {item_id}", "item_id", event.get("event_id")
            )
            return
        self.conversation.items = [i for i in self.conversation.items if i["id"] != item_id]
        await self.wire.send(server_event("conversation.item.deleted", item_id=item_id))

    async def on_conversation_item_retrieve(self, event: Event) -> None:
        item = self.conversation.item(event["item_id"])
        if item is None:
            await self.wire.error(
                "item_not_found",
                f"Item with item_id not found: {event['item_id']}",
                "item_id",
                event.get("event_id"),
            )
            return
        await self.wire.send(server_event("conversation.item.retrieved", item=public(item)))

    async def on_conversation_item_truncate(self, event: Event) -> None:
        item_id, end_ms = event["item_id"], event["audio_end_ms"]
        item = self.conversation.item(item_id)
        if item is None or item.get("role") != "assistant":
            await self.wire.error(
                "invalid_value",
                f"Item with item_id not found or not an assistant message: {item_id}",
                "item_id",
                event.get("event_id"),
            )
            return
        spoken = self.conversation.spoken_ms.get(item_id, 0)
        if not isinstance(end_ms, int) or end_ms < 0 or end_ms > spoken:
            await self.wire.error(
                "invalid_value",
                f"Audio content of {spoken}ms is shorter than the requested truncation point of {end_ms}ms.",
                "audio_end_ms",
                event.get("event_id"),
            )
            return
        if item["content"]:  # a finished answer; one still in progress is cut when it ends
            content = item["content"][event.get("content_index", 0)]
            content["transcript"] = cut_transcript(content.get("transcript") or "", end_ms, spoken)
        self.conversation.truncated_at[item_id] = (end_ms, spoken)
        self.conversation.spoken_ms[item_id] = end_ms
        self.conversation.heckled.add(item_id)
        self.journal.truncations.append((item_id, end_ms))
        await self.wire.send(
            server_event(
                "conversation.item.truncated",
                item_id=item_id,
                content_index=event.get("content_index", 0),
                audio_end_ms=end_ms,
            )
        )

    async def on_output_audio_buffer_clear(self, event: Event) -> None:
        await self.wire.error(
            "invalid_value",
            "output_audio_buffer.clear is only supported for WebRTC.",
            "type",
            event.get("event_id"),
        )

    # --- responses
