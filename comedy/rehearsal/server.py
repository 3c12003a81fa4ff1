"""The rehearsal server: the Realtime protocol on loopback, with a house comedian behind it.

It is the app's embedded default (no key, no network) and the real socket every test talks to.
It speaks only what the SDK's types allow, in the order the real API sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import http
import logging
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from comedy import models, protocol, redaction
from comedy.audio import pcm16_array
from comedy.protocol import SAMPLE_RATE, Event, error_event, new_id, server_event
from comedy.rehearsal import voice
from comedy.rehearsal.comedian import load_joke_book, read_set_up
from comedy.rehearsal.vad import EnergyVad
from comedy.rehearsal.validation import check_max_output_tokens, check_session

log = logging.getLogger(__name__)
redaction.guard_logs()  # websockets logs request headers at DEBUG, Authorization included

PATH = "/v1/realtime"
DELTA_SAMPLES = SAMPLE_RATE // 10  # 100 ms of audio per delta, as the real API sends
AUDIO_MS_PER_TOKEN = 50  # output audio is counted at a token per 50 ms
MIN_COMMIT_MS = 100
PREAMBLES = ("Okay, okay.", "Alright, here we go.", "Oh, I've got one.")
FAILED_ERROR = {"type": "server_error", "code": "server_error", "message": "The model failed to respond."}
SAY_EXACTLY = re.compile(r'Say exactly this line[^:]*:\s*"(.+)"\s*$', re.DOTALL)
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


@dataclass
class Faults:
    """Switches that make the server misbehave for tests; each fires for `times` responses."""

    drop_after_deltas: int | None = None  # cut the TCP connection after N audio deltas
    stall: bool = False  # send response.created, then nothing
    error_code: str | None = None  # "rate_limit_exceeded" or "server_error" instead of answering
    garbage: bool = False  # frames no client can read (not JSON, binary, no type, bad audio) first
    incomplete: str | None = None  # "content_filter": the answer stops halfway, status incomplete
    failed: bool = False  # the answer ends at once with status failed
    retry_after_s: float = 0.2
    times: int = 1

    @property
    def armed(self) -> bool:
        """Whether any switch is on."""
        return self.times > 0 and (
            self.drop_after_deltas is not None
            or self.stall
            or self.error_code is not None
            or self.garbage
            or self.incomplete is not None
            or self.failed
        )

    def fire(self) -> Faults | None:
        """Take one shot of the armed faults for the response starting now."""
        if not self.armed:
            return None
        self.times -= 1
        shot = replace(self, times=1)
        if self.times <= 0:
            self.drop_after_deltas, self.stall, self.error_code, self.garbage = None, False, None, False
            self.incomplete, self.failed = None, False
        return shot


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


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


@dataclass
class _Response:
    id: str
    voice: str
    modalities: list[str]
    item_ids: list[str] = field(default_factory=list)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = "client_cancelled"


@dataclass
class _Budget:
    """Output tokens a response may spend (`max_output_tokens`); audio costs a token per 50 ms."""

    limit: float
    text: int = 0
    audio: int = 0
    exhausted: bool = False

    def take(self, tokens: int, audio: bool = False) -> bool:
        """Spend `tokens` if the limit allows; else mark the budget exhausted."""
        if self.text + self.audio + tokens > self.limit:
            self.exhausted = True
            return False
        if audio:
            self.audio += tokens
        else:
            self.text += tokens
        return True


class _Connection:
    """One client's session: its settings, conversation, input buffer and current response."""

    def __init__(self, server: RehearsalServer, ws: ServerConnection, model: str) -> None:
        self.server = server
        self.ws = ws
        self.model = model
        self.session = default_session(model)
        self.items: list[dict] = []
        self.audio_spoken = False
        self.input_chunks: list[np.ndarray] = []
        self.input_samples = 0
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
            minutes = self.server.max_session_seconds / 60
            with contextlib.suppress(ConnectionClosed):
                await self.error(
                    "session_expired", f"Your session hit the maximum duration of {minutes:g} minutes."
                )
                await self.ws.close(1000, "session_expired")

        self._expiry_task = asyncio.create_task(expire())

    async def send(self, event: Event) -> None:
        self.server.sent.append(event["type"])
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
        await self.send(error_event(message, code=code, param=param, type_=type_, event_id=event_id))

    def _new_vad(self) -> EnergyVad | None:
        td = self.session["audio"]["input"].get("turn_detection")
        if not td:
            return None
        return EnergyVad(
            threshold=td.get("threshold", 0.5),
            prefix_padding_ms=td.get("prefix_padding_ms", 300),
            silence_duration_ms=td.get("silence_duration_ms", 500),
        )

    async def run(self) -> None:
        await self.send(server_event("session.created", session=self.session))
        expiry = asyncio.get_running_loop().call_later(self.server.max_session_seconds, self._expire)
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
        self.server.received.append(kind)
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
        if problem := check_session(update, self.model, self.server.today()):
            await self.error(*problem, event.get("event_id"))
            return
        if self.server.refuse_prompts and update.get("prompt") is not None:
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
        self.server.session_updates.append(self.session)
        td_changed = "turn_detection" in ((update.get("audio") or {}).get("input") or {})
        if td_changed:
            self.vad = self._new_vad()
        await self.send(server_event("session.updated", session=self.session))

    # --- input audio

    async def on_input_audio_buffer_append(self, event: Event) -> None:
        try:
            pcm = pcm16_array(protocol.audio_of(event))
        except protocol.ProtocolError as exc:
            await self.error("invalid_value", f"Invalid 'audio': {exc}", "audio", event.get("event_id"))
            return
        self.input_chunks.append(pcm)
        self.input_samples += len(pcm)
        if self.vad is None:
            return
        for transition, at_ms in self.vad.feed(pcm):
            if transition == "started":
                self.speech_item_id = new_id("item")
                await self.send(
                    server_event(
                        "input_audio_buffer.speech_started", audio_start_ms=at_ms, item_id=self.speech_item_id
                    )
                )
                td = self.session["audio"]["input"]["turn_detection"] or {}
                if self.response and td.get("interrupt_response", True):
                    self._cancel(self.response, "turn_detected")
            else:
                item_id = self.speech_item_id or new_id("item")
                await self.send(
                    server_event("input_audio_buffer.speech_stopped", audio_end_ms=at_ms, item_id=item_id)
                )
                await self._commit(item_id)
                td = self.session["audio"]["input"]["turn_detection"] or {}
                if td.get("create_response", True):
                    await self._start_response({})

    async def on_input_audio_buffer_commit(self, event: Event) -> None:
        ms = self.input_samples * 1000 // SAMPLE_RATE
        if ms < MIN_COMMIT_MS:
            await self.error(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at "
                f"least {MIN_COMMIT_MS}ms of audio, but buffer only has {ms:.2f}ms of audio.",
                None,
                event.get("event_id"),
            )
            return
        await self._commit(new_id("item"))

    async def on_input_audio_buffer_clear(self, event: Event) -> None:
        self._clear_input()
        await self.send(server_event("input_audio_buffer.cleared"))

    def _clear_input(self) -> None:
        self.input_chunks, self.input_samples = [], 0
        if self.vad:
            self.vad.reset()

    async def _commit(self, item_id: str) -> None:
        seconds = self.input_samples / SAMPLE_RATE
        self._clear_input()
        previous = self.items[-1]["id"] if self.items else None
        await self.send(
            server_event("input_audio_buffer.committed", item_id=item_id, previous_item_id=previous)
        )
        transcription = self.session["audio"]["input"].get("transcription")
        item = {
            "id": item_id,
            "type": "message",
            "object": "realtime.item",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
            "_seconds": seconds,
        }
        self.items.append(item)
        await self.send(
            server_event("conversation.item.added", previous_item_id=previous, item=_public(item))
        )
        await self.send(server_event("conversation.item.done", previous_item_id=previous, item=_public(item)))
        if transcription:
            # The rehearsal room has no speech recogniser: it says honestly what it heard.
            transcript = f"({seconds:.1f} s of speech; rehearsal mode does not make out words)"
            item["content"][0]["transcript"] = transcript
            usage = {"type": "duration", "seconds": round(seconds, 3)}
            self.server.transcriptions.append(usage)
            await self.send(
                server_event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item_id,
                    content_index=0,
                    transcript=transcript,
                    usage=usage,
                )
            )

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
        await self.send(server_event("conversation.item.retrieved", item=_public(item)))

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
        self.server.truncations.append((item_id, end_ms))
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

    async def on_response_create(self, event: Event) -> None:
        params = event.get("response") or {}
        if "max_output_tokens" in params and (
            problem := check_max_output_tokens(params["max_output_tokens"], "response.max_output_tokens")
        ):
            await self.error(*problem, event.get("event_id"))
            return
        await self._start_response(params, event.get("event_id"))

    async def on_response_cancel(self, event: Event) -> None:
        wanted = event.get("response_id")
        if self.response is None or (wanted and wanted != self.response.id):
            await self.error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                None,
                event.get("event_id"),
            )
            return
        self._cancel(self.response, "client_cancelled")

    def _cancel(self, response: _Response, reason: str) -> None:
        """Stop a response; it stops counting as active at once, as in the real API."""
        response.cancel_reason = reason
        response.cancel.set()
        if self.response is response:
            self.response = None

    async def _start_response(self, params: dict, event_id: str | None = None) -> None:
        if self.response is not None:
            await self.error(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: "
                f"{self.response.id}. Wait until the response is finished before "
                f"creating a new one.",
                None,
                event_id,
            )
            return
        faults = self.server.faults.fire()
        if faults and faults.error_code:
            if faults.error_code == "rate_limit_exceeded":
                await self.error(
                    "rate_limit_exceeded",
                    f"Rate limit reached for {self.model}. Please try again in {faults.retry_after_s:.3f}s.",
                    None,
                    event_id,
                    "rate_limit_error",
                )
            else:
                await self.error(
                    faults.error_code,
                    "The server had an error while processing your request. Sorry about that!",
                    None,
                    event_id,
                    "server_error",
                )
            return
        modalities = params.get("output_modalities") or self.session["output_modalities"]
        voice_name = self.session["audio"]["output"]["voice"]
        response = _Response(new_id("resp"), voice_name, list(modalities))
        self.response = response
        previous, self._last_task = self._last_task, None
        self._last_task = asyncio.create_task(self._respond(response, params, faults, previous))

    def _choose_line(self, params: dict) -> str:
        """What the house comedian says: a line it was told to say, else a joke for the moment."""
        if said := SAY_EXACTLY.search(params.get("instructions") or ""):
            return said.group(1)
        set_up = read_set_up(
            protocol.merge_session(
                self.session, {k: v for k, v in params.items() if k in ("instructions", "prompt")}
            )
        )
        request = set_up.get("topic", "")
        for item in reversed(self.items):
            if item.get("role") == "user":
                texts = [c.get("text") or "" for c in item.get("content", [])]
                request = " ".join(texts) + " " + request
                break
        spoken = [
            c.get("transcript") or c.get("text") or ""
            for i in self.items
            if i.get("role") == "assistant"
            for c in i.get("content", [])
        ]
        book = load_joke_book()
        told = frozenset(j.text for j in book.jokes if any(j.text in line for line in spoken))
        last_answer = next((i for i in reversed(self.items) if i.get("role") == "assistant"), None)
        if last_answer is not None and last_answer["id"] in self.heckled:
            set_up["audience_reaction"] = "heckling"  # answer the heckle first
        return book.pick(
            request,
            set_up.get("comedy_style", ""),
            set_up.get("audience_reaction", ""),
            told,
            self.server.rng,
        )

    def _response_body(
        self, r: _Response, status: str, output: list, usage: dict | None, details: dict | None = None
    ) -> dict:
        fmt = self.session["audio"]["output"]["format"]
        return {
            "id": r.id,
            "object": "realtime.response",
            "status": status,
            "status_details": details,
            "output": output,
            "conversation_id": "conv_rehearsal",
            "output_modalities": r.modalities,
            "max_output_tokens": "inf",
            "audio": {"output": {"format": fmt, "voice": r.voice}},
            "usage": usage,
            "metadata": None,
        }

    async def _respond(
        self, r: _Response, params: dict, faults: Faults | None, previous_task: asyncio.Task | None
    ) -> None:
        if previous_task is not None:  # a cancelled answer finishes its events first
            with contextlib.suppress(Exception):
                await previous_task
        line = self._choose_line(params)
        lines = [line]
        if self.server.preambles and not SAY_EXACTLY.search(params.get("instructions") or ""):
            lines.insert(0, self.server.rng.choice(PREAMBLES))  # a 2.x model's short preamble item
        limit = params.get("max_output_tokens", self.session.get("max_output_tokens", "inf"))
        budget = _Budget(math.inf if limit == "inf" else limit)
        output: list[dict] = []
        status, details = "completed", None
        try:
            await self.send(
                server_event("response.created", response=self._response_body(r, "in_progress", [], None))
            )
            await self.send(
                server_event(
                    "rate_limits.updated",
                    rate_limits=[
                        {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
                        {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5},
                    ],
                )
            )
            if faults and faults.failed:
                status, details = "failed", {"type": "failed", "error": FAILED_ERROR}
                lines = []
            for index, said in enumerate(lines):
                last = index == len(lines) - 1
                filtered = faults.incomplete == "content_filter" if faults and last else False
                item = await self._say(r, index, said, faults, budget, filtered)
                output.append(item)
                if r.cancel.is_set():
                    status, details = "cancelled", {"type": "cancelled", "reason": r.cancel_reason}
                elif budget.exhausted:
                    status, details = "incomplete", {"type": "incomplete", "reason": "max_output_tokens"}
                elif filtered:
                    status, details = "incomplete", {"type": "incomplete", "reason": "content_filter"}
                if status != "completed":
                    break
        except ConnectionClosed:
            return
        finally:
            self.response = None if self.response is r else self.response
        usage = self._usage(budget, output)
        self.server.usages.append(usage)
        with contextlib.suppress(ConnectionClosed):
            await self.send(
                server_event("response.done", response=self._response_body(r, status, output, usage, details))
            )

    async def _say(
        self, r: _Response, index: int, line: str, faults: Faults | None, budget: _Budget, filtered: bool
    ) -> dict:
        """One output item of a response, from `output_item.added` to `conversation.item.done`."""
        audio_out = "audio" in r.modalities
        item_id = new_id("item")
        r.item_ids.append(item_id)
        previous = self.items[-1]["id"] if self.items else None
        item = {
            "id": item_id,
            "type": "message",
            "object": "realtime.item",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        ids = {"response_id": r.id, "item_id": item_id, "output_index": index, "content_index": 0}
        sent_text: list[str] = []
        await self.send(
            server_event("response.output_item.added", response_id=r.id, output_index=index, item=item)
        )
        self.items.append(item)
        await self.send(server_event("conversation.item.added", previous_item_id=previous, item=item))
        empty_part = {"type": "audio", "transcript": ""} if audio_out else {"type": "text", "text": ""}
        await self.send(server_event("response.content_part.added", **ids, part=empty_part))
        if faults and faults.garbage and index == 0:
            await self.send_garbage(ids)
        if faults and faults.stall:
            await r.cancel.wait()
        elif audio_out:
            await self._speak(r, line, ids, sent_text, faults, budget, filtered)
        else:
            for word in _words(line):
                if r.cancel.is_set() or not budget.take(_tokens(word)):
                    break
                await self.send(server_event("response.output_text.delta", **ids, delta=word))
                sent_text.append(word)
        text = "".join(sent_text).strip()
        if item_id in self.truncated_at:  # the listener cut it while it was being spoken
            text = _cut(text, *self.truncated_at[item_id])
        if audio_out:
            content = {"type": "output_audio", "transcript": text}
            part = {"type": "audio", "transcript": text}
        else:
            content = {"type": "output_text", "text": text}
            part = {"type": "text", "text": text}
        finished = not (r.cancel.is_set() or budget.exhausted or filtered)
        item.update(status="completed" if finished else "incomplete", content=[content])
        if audio_out:
            await self.send(server_event("response.output_audio.done", **ids))
            await self.send(server_event("response.output_audio_transcript.done", **ids, transcript=text))
        else:
            await self.send(server_event("response.output_text.done", **ids, text=text))
        await self.send(server_event("response.content_part.done", **ids, part=part))
        await self.send(
            server_event("response.output_item.done", response_id=r.id, output_index=index, item=item)
        )
        await self.send(server_event("conversation.item.done", previous_item_id=previous, item=item))
        return item

    async def _speak(
        self,
        r: _Response,
        line: str,
        ids: dict,
        sent_text: list[str],
        faults: Faults | None,
        budget: _Budget,
        filtered: bool,
    ) -> None:
        pcm = await asyncio.to_thread(voice.speak, line, r.voice)
        words = _words(line)
        chunks = max(1, math.ceil(len(pcm) / DELTA_SAMPLES))
        if filtered:  # the content filter stops it halfway
            chunks = max(1, chunks // 2)
            words = words[: max(1, len(words) // 2)]
        item_id = ids["item_id"]
        pace = self.server.pace
        start = time.monotonic()
        next_word = 0
        for i in range(chunks):
            # The transcript runs a little ahead of the audio, as the real API's does.
            due_words = math.ceil(len(words) * min(1.0, (i + 2) / chunks))
            while next_word < due_words:
                if not budget.take(_tokens(words[next_word])):
                    return
                await self.send(
                    server_event("response.output_audio_transcript.delta", **ids, delta=words[next_word])
                )
                sent_text.append(words[next_word])
                next_word += 1
            if faults and faults.drop_after_deltas is not None and i >= faults.drop_after_deltas:
                self.ws.transport.abort()  # a dropped socket: no close frame
                raise ConnectionClosed(None, None)
            if pace > 0:
                due = start + i * 0.1 / pace
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(r.cancel.wait(), max(0.0, due - time.monotonic()))
            if r.cancel.is_set():
                return
            chunk = pcm[i * DELTA_SAMPLES : (i + 1) * DELTA_SAMPLES]
            if not budget.take(math.ceil(len(chunk) * 1000 / SAMPLE_RATE / AUDIO_MS_PER_TOKEN), audio=True):
                return
            if i == 0:
                self.server.first_audio_sent.append((item_id, time.monotonic()))
            await self.send(
                server_event(
                    "response.output_audio.delta",
                    **ids,
                    delta=protocol.audio_append(chunk.tobytes())["audio"],
                )
            )
            self.audio_spoken = True
            self.spoken_ms[item_id] = (i * DELTA_SAMPLES + len(chunk)) * 1000 // SAMPLE_RATE

    def _usage(self, budget: _Budget, output: list[dict]) -> dict:
        """A usage object of the real shape, estimated from what this conversation holds."""
        answer_ids = {item["id"] for item in output}
        instructions = self.session.get("instructions") or ""
        context_text = instructions + " ".join(
            c.get("text") or c.get("transcript") or ""
            for i in self.items
            if i["id"] not in answer_ids
            for c in i.get("content", [])
        )
        audio_in_s = sum(i.get("_seconds", 0.0) for i in self.items)
        text_in, audio_in = _tokens(context_text), round(audio_in_s * 10)
        cached_text = (text_in // 64) * 64 if text_in >= 1024 else 0
        text_out = budget.text
        audio_out = sum(round(self.spoken_ms.get(i, 0) / AUDIO_MS_PER_TOKEN) for i in answer_ids)
        return {
            "total_tokens": text_in + audio_in + text_out + audio_out,
            "input_tokens": text_in + audio_in,
            "output_tokens": text_out + audio_out,
            "input_token_details": {
                "text_tokens": text_in,
                "audio_tokens": audio_in,
                "image_tokens": 0,
                "cached_tokens": cached_text,
                "cached_tokens_details": {"text_tokens": cached_text, "audio_tokens": 0, "image_tokens": 0},
            },
            "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
        }


def _cut(transcript: str, kept_ms: int, spoken_ms: int) -> str:
    """The words of a transcript heard in the first `kept_ms` of `spoken_ms` of audio."""
    words = transcript.split()
    kept = len(words) * kept_ms // spoken_ms if spoken_ms else 0
    return " ".join(words[:kept])


def _words(line: str) -> list[str]:
    parts = line.split(" ")
    return [p + " " for p in parts[:-1]] + parts[-1:]


def _public(item: dict) -> dict:
    return {k: v for k, v in item.items() if not k.startswith("_")}


class RehearsalServer:
    """The rehearsal server on an asyncio loop: `async with RehearsalServer() as server: ...`.

    `pace` is the speed of the audio stream against real time (1.0 live, 0 as fast as possible).
    `faults` holds the test switches; `refuse_prompts` and `preambles` switch on behaviours of the
    real API; `session_updates`, `received`, `sent`, `usages`, `transcriptions` and `truncations`
    record what happened, for tests and the UI.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, pace: float = 1.0, seed: int | None = None
    ) -> None:
        self.host, self.port, self.pace = host, port, pace
        self.faults = Faults()
        self.rng = random.Random(seed)
        self.session_updates: deque[dict] = deque(maxlen=100)
        self.received: deque[str] = deque(maxlen=10_000)
        self.sent: deque[str] = deque(maxlen=10_000)
        self.usages: deque[dict] = deque(maxlen=1_000)
        self.transcriptions: deque[dict] = deque(maxlen=1_000)  # input transcription usage
        self.truncations: deque[tuple[str, int]] = deque(maxlen=1_000)
        self.first_audio_sent: deque[tuple[str, float]] = deque(maxlen=1_000)  # (item, when)
        self.connections = 0
        self.refused_keys: set[str] = set()  # keys answered as the API answers a wrong or revoked key
        self.refuse_prompts = False  # refuse `session.prompt` as the API does once stored prompts end
        self.preambles = False  # answer as 2.x models may: a short preamble item, then the answer
        self.today: Callable[[], dt.date] = models.today  # the calendar for shutdown dates
        self.max_session_seconds = 3600.0  # the real API's limit
        self._down_until = 0.0  # an outage: new connections are answered 503 until then (monotonic)
        self._server = None

    @property
    def url(self) -> str:
        """The Realtime URL clients connect to."""
        return f"ws://{self.host}:{self.port}{PATH}"

    @property
    def open_connections(self) -> int:
        """Clients connected now."""
        return len(self._server.connections) if self._server is not None else 0

    async def start(self) -> RehearsalServer:
        """Listen; with port 0 a free port is chosen and `port` updated."""
        voice.warm_up()
        load_joke_book()
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._check_request,
            close_timeout=2,
            max_size=16 * 1024 * 1024,
            server_header="comedy-rehearsal",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def outage(self, seconds: float) -> None:
        """Go down for `seconds`, as the API does in an incident: every open connection drops with
        no close frame and new ones are answered HTTP 503 until the time is up."""
        self._down_until = time.monotonic() + seconds
        if self._server is not None:
            for connection in list(self._server.connections):
                connection.transport.abort()

    async def __aenter__(self) -> RehearsalServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if time.monotonic() < self._down_until:
            return _json_response(
                http.HTTPStatus.SERVICE_UNAVAILABLE, "server_error", "The server is temporarily unavailable."
            )
        if urlsplit(request.path).path.rstrip("/") != PATH:
            return _json_response(http.HTTPStatus.NOT_FOUND, "not_found", f"No route {request.path}")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _json_response(
                http.HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        key = auth[7:].strip()
        if key in self.refused_keys:
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            return _json_response(
                http.HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        query = parse_qs(urlsplit(ws.request.path).query)
        model = (query.get("model") or [models.DEFAULT_MODEL])[0]
        if ws.request.headers.get("OpenAI-Beta", "").startswith("realtime"):
            await ws.send(
                protocol.encode(
                    error_event(
                        "The Realtime API beta interface has been shut down. Remove the 'OpenAI-Beta: "
                        "realtime=v1' header and use the GA interface.",
                        code="beta_api_shape_disabled",
                    )
                )
            )
            await ws.close(4000, "beta_api_shape_disabled")
            return
        known = models.find(model)
        if known is None or known.retired(self.today()):
            await ws.send(
                protocol.encode(
                    error_event(
                        f"The model '{model}' does not exist or you do not have access to it.",
                        code="model_not_found",
                        param="model",
                    )
                )
            )
            await ws.close(1008, "model_not_found")
            return
        await _Connection(self, ws, model).run()


def _json_response(status: http.HTTPStatus, code: str, message: str) -> Response:
    body = protocol.encode(
        {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    ).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


class RehearsalThread:
    """The rehearsal server on its own thread and loop, for synchronous hosts (the app, scripts)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, pace: float = 1.0) -> None:
        self.server = RehearsalServer(host, port, pace=pace)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rehearsal", daemon=True)

    def start(self) -> RehearsalThread:
        """Start the thread and wait until the server listens."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=30)
        return self

    @property
    def url(self) -> str:
        """The Realtime URL clients connect to."""
        return self.server.url

    def outage(self, seconds: float) -> None:
        """Take the server down for `seconds` (see `RehearsalServer.outage`), from any thread."""
        self._loop.call_soon_threadsafe(self.server.outage, seconds)

    def stop(self) -> None:
        """Stop the server and the thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
