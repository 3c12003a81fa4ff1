"""Reading server events: their kinds, a response's usage and end (`Done`), and a streamed
`Delta`. Pure, like `protocol`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from comedy.realtime.protocol import Event, audio_of


class Kind:
    """The server event kinds the client reads (and the `local.*` ones the session module makes)."""

    AUDIO_DELTA = "response.output_audio.delta"
    TRANSCRIPT_DELTA = "response.output_audio_transcript.delta"
    TEXT_DELTA = "response.output_text.delta"
    RESPONSE_CREATED = "response.created"
    RESPONSE_DONE = "response.done"
    SPEECH_STARTED = "input_audio_buffer.speech_started"
    SPEECH_STOPPED = "input_audio_buffer.speech_stopped"
    COMMITTED = "input_audio_buffer.committed"
    HEARD = "conversation.item.input_audio_transcription.completed"
    NOT_HEARD = "conversation.item.input_audio_transcription.failed"
    ERROR = "error"
    DISCONNECTED = "local.disconnected"
    RECONNECTED = "local.reconnected"
    GAVE_UP = "local.gave_up"
    RESPONSE_TIMEOUT = "local.response_timeout"
    PROTOCOL_ERROR = "local.protocol_error"


@dataclass(frozen=True)
class Usage:
    """The token counts of a `response.done` usage object, by kind; missing fields count as zero."""

    text_in: int = 0
    audio_in: int = 0
    text_cached: int = 0
    audio_cached: int = 0
    text_out: int = 0
    audio_out: int = 0

    @classmethod
    def read(cls, usage: Mapping | None) -> Usage:
        """Read a usage object as the API sends it."""
        usage = usage if isinstance(usage, Mapping) else {}
        details_in = usage.get("input_token_details") or {}
        cached = details_in.get("cached_tokens_details") or {}
        details_out = usage.get("output_token_details") or {}
        return cls(
            text_in=int(details_in.get("text_tokens") or 0),
            audio_in=int(details_in.get("audio_tokens") or 0),
            text_cached=int(cached.get("text_tokens") or 0),
            audio_cached=int(cached.get("audio_tokens") or 0),
            text_out=int(details_out.get("text_tokens") or 0),
            audio_out=int(details_out.get("audio_tokens") or 0),
        )


@dataclass(frozen=True)
class Done:
    """A `response.done`: how the answer ended, what it used, and the items it made."""

    response: Mapping
    usage: Usage | None
    output_ids: tuple[str, ...]

    @classmethod
    def read(cls, event: Event) -> Done:
        """Read a `response.done` event."""
        response = event.get("response") if isinstance(event.get("response"), Mapping) else {}
        usage = response.get("usage")
        output = response.get("output") or []
        ids = tuple(str(item.get("id")) for item in output if isinstance(item, Mapping) and item.get("id"))
        return cls(response, Usage.read(usage) if usage else None, ids)


@dataclass(frozen=True)
class Delta:
    """An audio, transcript or text delta: which item it belongs to and what it carries."""

    item_id: str
    text: str = ""
    pcm16: bytes = b""

    @classmethod
    def read(cls, event: Event) -> Delta:
        """Read a delta; an audio delta's base64 is decoded (ProtocolError when it is not base64)."""
        item_id = str(event.get("item_id") or "")
        if event["type"] == Kind.AUDIO_DELTA:
            return cls(item_id, pcm16=audio_of(event))
        return cls(item_id, text=str(event.get("delta") or ""))
