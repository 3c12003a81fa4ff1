"""The Realtime protocol without I/O: pure functions that build and read events.

Both the session module (the client) and the rehearsal server (the server) use these, so the two
sides cannot drift apart. Every event is a plain dict, exactly what goes on the wire as JSON.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Event = dict[str, Any]

SAMPLE_RATE = 24_000
APPEND_LIMIT_BYTES = 15 * 1024 * 1024  # the API refuses a larger input_audio_buffer.append
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
DEFAULT_VOICE = "marin"
# whisper-1 and gpt-4o-*-transcribe shut down on 2027-02-26; gpt-transcribe is their successor.
TRANSCRIPTION_MODEL = "gpt-transcribe"
MAX_OUTPUT_TOKENS_LIMIT = 4096  # the SDK: "an integer between 1 and 4096 ... or inf"
LOCAL_PREFIX = "local."  # events the session module makes itself; never sent on the wire


class ProtocolError(ValueError):
    """A frame that is not a valid Realtime event."""


def new_id(prefix: str) -> str:
    """An id shaped like the API's own (`item_…`, `resp_…`, `event_…`)."""
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


# --- client events -------------------------------------------------------------------------


def server_vad(
    threshold: float = 0.5,
    prefix_padding_ms: int = 300,
    silence_duration_ms: int = 500,
    create_response: bool = True,
    interrupt_response: bool = True,
) -> Event:
    """Turn detection by the server's voice activity detector."""
    return {
        "type": "server_vad",
        "threshold": threshold,
        "prefix_padding_ms": prefix_padding_ms,
        "silence_duration_ms": silence_duration_ms,
        "create_response": create_response,
        "interrupt_response": interrupt_response,
    }


def semantic_vad(
    eagerness: str = "auto", create_response: bool = True, interrupt_response: bool = True
) -> Event:
    """Turn detection by the server's semantic model: `eagerness` low, medium, high or auto."""
    return {
        "type": "semantic_vad",
        "eagerness": eagerness,
        "create_response": create_response,
        "interrupt_response": interrupt_response,
    }


def noise_reduction(kind: str, strength: float | None = None) -> Event:
    """Input noise reduction: `near_field` (a headset) or `far_field` (a laptop, a room), and how
    hard it suppresses (the API's default is 1 when first turned on)."""
    reduction: Event = {"type": kind}
    if strength is not None:
        reduction["strength"] = strength
    return reduction


def prompt_reference(prompt_id: str, variables: Mapping[str, str], version: str | None = None) -> Event:
    """A stored prompt with its variables, each sent as an `input_text`."""
    prompt: Event = {
        "id": prompt_id,
        "variables": {k: {"type": "input_text", "text": v} for k, v in variables.items()},
    }
    if version:
        prompt["version"] = version
    return prompt


def session_update(
    *,
    voice: str = DEFAULT_VOICE,
    instructions: str | None = None,
    prompt: Event | None = None,
    output_modalities: tuple[str, ...] = ("audio",),
    turn_detection: Event | None = None,
    noise_reduction: Event | None = None,
    transcription_model: str | None = TRANSCRIPTION_MODEL,
    model: str | None = None,
    reasoning_effort: str | None = None,
    max_output_tokens: int | None = None,
    event_id: str | None = None,
) -> Event:
    """`session.update` for a GA realtime session: pcm16 at 24 kHz both ways.

    `reasoning_effort` only for reasoning models (the 2.x family); `event_id` lets an `error`
    be traced back to this update.
    """
    audio_format = {"type": "audio/pcm", "rate": SAMPLE_RATE}
    audio_input: Event = {
        "format": audio_format,
        "turn_detection": turn_detection,
        "noise_reduction": noise_reduction,
    }
    if transcription_model:
        audio_input["transcription"] = {"model": transcription_model}
    session: Event = {
        "type": "realtime",
        "output_modalities": list(output_modalities),
        "audio": {"input": audio_input, "output": {"format": audio_format, "voice": voice}},
    }
    if model:
        session["model"] = model
    if instructions is not None:
        session["instructions"] = instructions
    if prompt is not None:
        session["prompt"] = prompt
    if reasoning_effort is not None:
        session["reasoning"] = {"effort": reasoning_effort}
    if max_output_tokens is not None:
        session["max_output_tokens"] = max_output_tokens
    event: Event = {"type": "session.update", "session": session}
    if event_id:
        event["event_id"] = event_id
    return event


def _text_item(role: str, content_type: str, text: str) -> Event:
    item = {"type": "message", "role": role, "content": [{"type": content_type, "text": text}]}
    return {"type": "conversation.item.create", "item": item}


def user_text(text: str) -> Event:
    """A user message typed rather than spoken."""
    return _text_item("user", "input_text", text)


def system_text(text: str) -> Event:
    """A note to the comedian from the app, in the conversation (not the visitor's words)."""
    return _text_item("system", "input_text", text)


def assistant_text(text: str) -> Event:
    """Something the comedian said earlier, re-told to a fresh session."""
    return _text_item("assistant", "output_text", text)


def audio_append(pcm16: bytes) -> Event:
    """`input_audio_buffer.append` of raw little-endian pcm16 at 24 kHz."""
    if len(pcm16) > APPEND_LIMIT_BYTES:
        raise ValueError(f"an audio append may carry at most 15 MiB, not {len(pcm16)} bytes")
    return {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm16).decode("ascii")}


def audio_commit() -> Event:
    """Commit the input audio buffer as a user turn (when not using server VAD)."""
    return {"type": "input_audio_buffer.commit"}


def audio_clear() -> Event:
    """Drop whatever is in the input audio buffer."""
    return {"type": "input_audio_buffer.clear"}


def response_create(instructions: str | None = None, max_output_tokens: int | None = None) -> Event:
    """Ask the model to answer now (at most `max_output_tokens`, where a budget says so)."""
    event: Event = {"type": "response.create"}
    params: dict = {}
    if instructions is not None:
        params["instructions"] = instructions
    if max_output_tokens is not None:
        params["max_output_tokens"] = max_output_tokens
    if params:
        event["response"] = params
    return event


def response_cancel(response_id: str | None = None) -> Event:
    """Stop the response in progress."""
    event: Event = {"type": "response.cancel"}
    if response_id:
        event["response_id"] = response_id
    return event


def item_delete(item_id: str) -> Event:
    """Remove an item from the conversation (an answer the listener never heard)."""
    return {"type": "conversation.item.delete", "item_id": item_id}


def item_truncate(item_id: str, audio_end_ms: int, content_index: int = 0) -> Event:
    """Cut an assistant item at the audio the listener actually heard."""
    return {
        "type": "conversation.item.truncate",
        "item_id": item_id,
        "content_index": content_index,
        "audio_end_ms": max(0, int(audio_end_ms)),
    }


def merge_session(base: Event, update: Event) -> Event:
    """`update` laid over `base` as the API applies a session.update: objects merge key by key,
    except those the API replaces whole (a prompt, a turn detection, an audio format)."""
    merged = dict(base)
    for key, value in update.items():
        whole = key in ("prompt", "turn_detection", "format")  # noise_reduction merges: strength stays
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not whole:
            merged[key] = merge_session(merged[key], value)
        else:
            merged[key] = value
    return merged


def encode(event: Event) -> str:
    """The JSON text of an event, as sent on the wire."""
    return json.dumps(event, separators=(",", ":"))


# --- reading events ------------------------------------------------------------------------


def decode(raw: str | bytes) -> Event:
    """Parse one frame into an event, or raise ProtocolError saying what is wrong with it."""
    try:
        event = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise ProtocolError("an event must be a JSON object")
    if not isinstance(event.get("type"), str):
        raise ProtocolError("an event needs a string 'type'")
    return event


def audio_of(event: Event) -> bytes:
    """The pcm16 bytes carried by an audio delta or append event."""
    data = event.get("delta", event.get("audio", ""))
    try:
        return base64.b64decode(data, validate=True)
    except (ValueError, TypeError) as exc:
        raise ProtocolError(f"audio is not base64: {exc}") from None


def local_event(kind: str, **fields: Any) -> Event:
    """An event the client makes about its own connection (`local.disconnected`, …)."""
    return {"type": LOCAL_PREFIX + kind, **fields}


_RETRY_AFTER = re.compile(r"try again in\s+([0-9.]+)\s*(ms|s)\b", re.IGNORECASE)


@dataclass(frozen=True)
class ApiError:
    """An `error` event from the server, in words."""

    type: str
    code: str | None
    message: str
    param: str | None = None
    event_id: str | None = None  # the client event that caused it, when the server says

    @classmethod
    def from_event(cls, event: Event) -> ApiError:
        """Read the `error` object of an `error` event, tolerating missing fields."""
        error = event.get("error") if isinstance(event.get("error"), dict) else {}
        return cls(
            type=str(error.get("type") or "error"),
            code=error.get("code"),
            message=str(error.get("message") or "the server reported an error"),
            param=error.get("param"),
            event_id=error.get("event_id"),
        )

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait ("try again in 1.5s"), if it said."""
        match = _RETRY_AFTER.search(self.message)
        if not match:
            return None
        value = float(match.group(1))
        return value / 1000 if match.group(2).lower() == "ms" else value

    @property
    def retryable(self) -> bool:
        """Rate limits and server faults pass; bad requests do not."""
        return self.code in {"rate_limit_exceeded", "server_error"} or self.type in {
            "server_error",
            "rate_limit_error",
        }

    def __str__(self) -> str:
        where = f" ({self.param})" if self.param else ""
        return f"{self.message}{where} [{self.code or self.type}]"


# --- server events (for the rehearsal server) --------------------------------------------


def server_event(type_: str, **fields: Any) -> Event:
    """A server event with a fresh `event_id`."""
    return {"type": type_, "event_id": new_id("event"), **fields}


def error_event(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    type_: str = "invalid_request_error",
    event_id: str | None = None,
) -> Event:
    """An `error` event; the socket stays open after it."""
    return server_event(
        "error",
        error={"type": type_, "code": code, "message": message, "param": param, "event_id": event_id},
    )
