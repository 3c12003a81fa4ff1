"""One client connection to the rehearsal server: the client events it takes and validates, the
conversation and input buffer it keeps; its responses come from `Responder`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE, Event, error_event, new_id, server_event
from comedy.rehearsal import vad
from comedy.rehearsal.input_audio import InputAudio, public
from comedy.rehearsal.journal import Conduct, Journal
from comedy.rehearsal.responder import Responder, _cut, _Response
from comedy.rehearsal.vad import EnergyVad
from comedy.rehearsal.validation import check_session

log = logging.getLogger("comedy.rehearsal.server")
MIN_COMMIT_MS = 100
CUE_SLACK_SECONDS = 0.5  # a cue this long before the committed audio (the feed and the app in between)
CLIENT_EVENTS = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.truncate",
    "conversation.item.delete",
    "conversation.item.retrieve",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
)


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


class Connection(InputAudio, Responder):
    """One client's session: its settings, conversation, input buffer and current response."""

    def __init__(self, journal: Journal, conduct: Conduct, ws: ServerConnection, model: str) -> None:
        self.journal, self.conduct = journal, conduct
        self.ws = ws
        self.model = model
        self.session = default_session(model)
        self.items: list[dict] = []
        self.audio_spoken = False
        self.input_chunks: list[np.ndarray] = []
        self.input_samples = 0
        self.session_samples = 0  # all the input audio of the session, as audio_start_ms counts it
        self.vad = self._new_vad()
        self.speech_item_id: str | None = None
        self.response: _Response | None = None
        self._last_task: asyncio.Task | None = None
        self.spoken_ms: dict[str, int] = {}
        self.heckled: set[str] = set()  # answers the listener cut short
        self.truncated_at: dict[str, tuple[int, int]] = {}  # item -> (kept ms, spoken ms)

    # --- plumbing

    def _expire(self) -> None:
        """The real API ends a session after 60 minutes: an error event, then the socket closes."""

        async def expire() -> None:
            minutes = self.conduct.max_session_seconds / 60
            with contextlib.suppress(ConnectionClosed):
                await self.error(
                    "session_expired", f"Your session hit the maximum duration of {minutes:g} minutes."
                )
                await self.ws.close(1000, "session_expired")

        self._expiry_task = asyncio.create_task(expire())

    async def send(self, event: Event) -> None:
        self.journal.sent.append(event["type"])
        await self.ws.send(protocol.encode(event))

    async def send_garbage(self, ids: dict) -> None:
        """Frames a client must skip: the garbage fault, for tests of what clients survive."""
        bad_audio = protocol.encode(server_event("response.output_audio.delta", **ids, delta="@@"))
        for frame in ("not json {", b"\x00\xff binary", "[1, 2]", '{"no": "type"}', bad_audio):
            await self.ws.send(frame)

    async def error(
        self,
        code: str,
        message: str,
        param: str | None = None,
        event_id: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        self.journal.errors.append(f"{code}: {message}")
        await self.send(error_event(message, code=code, param=param, type_=type_, event_id=event_id))

    def _new_vad(self) -> EnergyVad | None:
        audio_in = self.session["audio"]["input"]
        if not audio_in.get("turn_detection"):
            return None
        heard_ms = self.session_samples * 1000 // SAMPLE_RATE  # audio_start_ms counts the whole session
        return vad.for_session(audio_in["turn_detection"], audio_in.get("noise_reduction"), heard_ms)

    async def run(self) -> None:
        await self.send(server_event("session.created", session=self.session))
        expiry = asyncio.get_running_loop().call_later(self.conduct.max_session_seconds, self._expire)
        try:
            async for raw in self.ws:
                await self.handle(raw)
        except ConnectionClosed:
            pass
        finally:
            expiry.cancel()
            if self.response:
                self.response.cancel.set()

    async def handle(self, raw: str | bytes) -> None:
        try:
            event = protocol.decode(raw)
        except protocol.ProtocolError as exc:
            await self.error("invalid_json", f"We could not parse the JSON body of your request: {exc}")
            return
        kind = event["type"]
        self.journal.received.append(kind)
        handler = getattr(self, "on_" + kind.replace(".", "_"), None)
        if kind not in CLIENT_EVENTS or handler is None:
            await self.error(
                "invalid_value",
                f"Invalid value: {kind!r}. Supported values are: "
                + ", ".join(repr(k) for k in CLIENT_EVENTS)
                + ".",
                "type",
                event.get("event_id"),
            )
            return
        try:
            await handler(event)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            await self.error("invalid_request", f"Invalid '{kind}' event: {exc}", None, event.get("event_id"))
        except ConnectionClosed:
            raise
        except Exception as exc:  # a bug here must not cost the client its session
            log.exception("rehearsal server failed on %s", kind)
            await self.error(
                "server_error",
                f"The rehearsal server failed on '{kind}': {exc}",
                None,
                event.get("event_id"),
                "server_error",
            )

    # --- session

    async def on_session_update(self, event: Event) -> None:
        update = event.get("session")
        if problem := check_session(update, self.model, self.conduct.today()):
            await self.error(*problem, event.get("event_id"))
            return
        if self.conduct.refuse_prompts and update.get("prompt") is not None:
            await self.error(
                "invalid_value",
                f"Prompt '{update['prompt'].get('id')}' cannot be used: stored prompts (v1/prompts) were "
                "shut down on 2026-11-30. Move the prompt into 'instructions'.",
                "session.prompt",
                event.get("event_id"),
            )
            return
        new_voice = (update.get("audio") or {}).get("output", {}).get("voice")
        if new_voice and new_voice != self.session["audio"]["output"]["voice"] and self.audio_spoken:
            await self.error(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                "session.audio.output.voice",
                event.get("event_id"),
            )
            return
        self.session = protocol.merge_session(self.session, update)
        self.journal.session_updates.append(self.session)
        listening = (update.get("audio") or {}).get("input") or {}
        if "turn_detection" in listening or "noise_reduction" in listening:
            self.vad = self._new_vad()
        await self.send(server_event("session.updated", session=self.session))

    # --- conversation

    async def on_conversation_item_create(self, event: Event) -> None:
        item = dict(event["item"])
        if item.get("type") != "message" or item.get("role") not in ("user", "assistant", "system"):
            await self.error(
                "invalid_value",
                "Only message items are supported in rehearsal mode.",
                "item.type",
                event.get("event_id"),
            )
            return
        if not isinstance(item.get("content"), list):
            await self.error(
                "missing_required_parameter",
                "Missing required parameter: 'item.content'.",
                "item.content",
                event.get("event_id"),
            )
            return
        item.setdefault("id", new_id("item"))
        item.update(object="realtime.item", status="completed")
        previous = event.get("previous_item_id") or (self.items[-1]["id"] if self.items else None)
        self.items.append(item)
        await self.send(server_event("conversation.item.added", previous_item_id=previous, item=item))
        await self.send(server_event("conversation.item.done", previous_item_id=previous, item=item))

    async def on_conversation_item_delete(self, event: Event) -> None:
        item_id = event["item_id"]
        if not any(i["id"] == item_id for i in self.items):
            await self.error(
                "item_not_found", f"Item with item_id not found: {item_id}", "item_id", event.get("event_id")
            )
            return
        self.items = [i for i in self.items if i["id"] != item_id]
        await self.send(server_event("conversation.item.deleted", item_id=item_id))

    async def on_conversation_item_retrieve(self, event: Event) -> None:
        item = next((i for i in self.items if i["id"] == event["item_id"]), None)
        if item is None:
            await self.error(
                "item_not_found",
                f"Item with item_id not found: {event['item_id']}",
                "item_id",
                event.get("event_id"),
            )
            return
        await self.send(server_event("conversation.item.retrieved", item=public(item)))

    async def on_conversation_item_truncate(self, event: Event) -> None:
        item_id, end_ms = event["item_id"], event["audio_end_ms"]
        item = next((i for i in self.items if i["id"] == item_id), None)
        if item is None or item.get("role") != "assistant":
            await self.error(
                "invalid_value",
                f"Item with item_id not found or not an assistant message: {item_id}",
                "item_id",
                event.get("event_id"),
            )
            return
        spoken = self.spoken_ms.get(item_id, 0)
        if not isinstance(end_ms, int) or end_ms < 0 or end_ms > spoken:
            await self.error(
                "invalid_value",
                f"Audio content of {spoken}ms is shorter than the requested truncation point of {end_ms}ms.",
                "audio_end_ms",
                event.get("event_id"),
            )
            return
        if item["content"]:  # a finished answer; one still in progress is cut when it ends
            content = item["content"][event.get("content_index", 0)]
            content["transcript"] = _cut(content.get("transcript") or "", end_ms, spoken)
        self.truncated_at[item_id] = (end_ms, spoken)
        self.spoken_ms[item_id] = end_ms
        self.heckled.add(item_id)
        self.journal.truncations.append((item_id, end_ms))
        await self.send(
            server_event(
                "conversation.item.truncated",
                item_id=item_id,
                content_index=event.get("content_index", 0),
                audio_end_ms=end_ms,
            )
        )

    async def on_output_audio_buffer_clear(self, event: Event) -> None:
        await self.error(
            "invalid_value",
            "output_audio_buffer.clear is only supported for WebRTC.",
            "type",
            event.get("event_id"),
        )

    # --- responses
