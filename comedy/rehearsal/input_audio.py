"""The input audio buffer of a rehearsal connection (mixed into it): appends, the turn detection's
speech reports, commits into user items and their transcription, as the real API does them."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE, Event, new_id, server_event
from comedy.sound.audio import pcm16_array

if TYPE_CHECKING:
    import numpy as np

    from comedy.rehearsal.journal import Conduct, Journal
    from comedy.rehearsal.vad import EnergyVad

MIN_COMMIT_MS = 100
CUE_SLACK_SECONDS = 0.5  # a cue this long before the committed audio (the feed and the app in between)


def public(item: dict) -> dict:
    """An item as the client sees it (without the server's own `_` fields)."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


class InputAudio:
    """`input_audio_buffer.*` for a connection that has a session, items, a VAD, a journal and its conduct."""

    journal: Journal
    conduct: Conduct
    session: dict
    items: list[dict]
    vad: EnergyVad | None
    input_chunks: list[np.ndarray]
    input_samples: int
    session_samples: int
    speech_item_id: str | None

    async def on_input_audio_buffer_append(self, event: Event) -> None:
        try:
            pcm = pcm16_array(protocol.audio_of(event))
        except protocol.ProtocolError as exc:
            await self.error("invalid_value", f"Invalid 'audio': {exc}", "audio", event.get("event_id"))
            return
        self.input_chunks.append(pcm)
        self.input_samples += len(pcm)
        self.session_samples += len(pcm)
        self.journal.appended_samples += len(pcm)
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
        await self.send(server_event("conversation.item.added", previous_item_id=previous, item=public(item)))
        await self.send(server_event("conversation.item.done", previous_item_id=previous, item=public(item)))
        if transcription:
            # The rehearsal room has no speech recogniser: it writes what its audience was cued to
            # say over that audio (a heckle's line, a laugh's "ha"s), or says honestly what it heard.
            now = time.monotonic()
            transcript = self.conduct.audience.said(now - seconds - CUE_SLACK_SECONDS, now) or (
                f"({seconds:.1f} s of speech; rehearsal mode does not make out words)"
            )
            item["content"][0]["transcript"] = transcript
            usage = {"type": "duration", "seconds": round(seconds, 3)}
            self.journal.transcriptions.append(usage)
            await self.send(
                server_event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item_id,
                    content_index=0,
                    transcript=transcript,
                    usage=usage,
                )
            )
