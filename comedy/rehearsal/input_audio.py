"""The input audio buffer of a rehearsal connection: appends, the turn detection's speech reports,
commits into user items and their transcription, as the real API does them."""

from __future__ import annotations

import time

import numpy as np

from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE, Event, new_id, server_event
from comedy.rehearsal import vad
from comedy.rehearsal.conversation import Conversation
from comedy.rehearsal.journal import Conduct, Journal
from comedy.rehearsal.responder import Responder
from comedy.rehearsal.wire import Wire
from comedy.sound.audio import pcm16_array

MIN_COMMIT_MS = 100
CUE_SLACK_SECONDS = 0.5  # a cue this long before the committed audio (the feed and the app in between)


def public(item: dict) -> dict:
    """An item as the client sees it (without the server's own `_` fields)."""
    return {k: v for k, v in item.items() if not k.startswith("_")}


class InputAudio:
    """`input_audio_buffer.*`: the buffer and the turn detection are its own; it adds user items to
    the conversation and, as turn detection is set, cancels and starts the responder's answers."""

    def __init__(
        self, conversation: Conversation, wire: Wire, responder: Responder, journal: Journal, conduct: Conduct
    ) -> None:
        self.conversation, self.wire, self.responder = conversation, wire, responder
        self.journal, self.conduct = journal, conduct
        self.chunks: list[np.ndarray] = []
        self.samples = 0
        self.session_samples = 0  # all the input audio of the session, as audio_start_ms counts it
        self.speech_item_id: str | None = None
        self.vad = self._new_vad()

    def retune(self) -> None:
        """The session's turn detection or noise reduction changed: a new detector."""
        self.vad = self._new_vad()

    def _new_vad(self) -> vad.EnergyVad | None:
        audio_in = self.conversation.session["audio"]["input"]
        if not audio_in.get("turn_detection"):
            return None
        heard_ms = self.session_samples * 1000 // SAMPLE_RATE  # audio_start_ms counts the whole session
        return vad.for_session(audio_in["turn_detection"], audio_in.get("noise_reduction"), heard_ms)

    def _turn_detection(self) -> dict:
        return self.conversation.session["audio"]["input"]["turn_detection"] or {}

    async def on_append(self, event: Event) -> None:
        try:
            pcm = pcm16_array(protocol.audio_of(event))
        except protocol.ProtocolError as exc:
            await self.wire.error("invalid_value", f"Invalid 'audio': {exc}", "audio", event.get("event_id"))
            return
        self.chunks.append(pcm)
        self.samples += len(pcm)
        self.session_samples += len(pcm)
        self.journal.appended_samples += len(pcm)
        if self.vad is None:
            return
        for transition, at_ms in self.vad.feed(pcm):
            if transition == "started":
                self.speech_item_id = new_id("item")
                await self.wire.send(
                    server_event(
                        "input_audio_buffer.speech_started", audio_start_ms=at_ms, item_id=self.speech_item_id
                    )
                )
                response = self.conversation.response
                if response and self._turn_detection().get("interrupt_response", True):
                    self.responder.cancel(response, "turn_detected")
            else:
                item_id = self.speech_item_id or new_id("item")
                await self.wire.send(
                    server_event("input_audio_buffer.speech_stopped", audio_end_ms=at_ms, item_id=item_id)
                )
                await self._commit(item_id)
                if self._turn_detection().get("create_response", True):
                    await self.responder.start({})

    async def on_commit(self, event: Event) -> None:
        ms = self.samples * 1000 // SAMPLE_RATE
        if ms < MIN_COMMIT_MS:
            await self.wire.error(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at "
                f"least {MIN_COMMIT_MS}ms of audio, but buffer only has {ms:.2f}ms of audio.",
                None,
                event.get("event_id"),
            )
            return
        await self._commit(new_id("item"))

    async def on_clear(self, event: Event) -> None:
        self._clear_input()
        await self.wire.send(server_event("input_audio_buffer.cleared"))

    def _clear_input(self) -> None:
        self.chunks, self.samples = [], 0
        if self.vad:
            self.vad.reset()

    async def _commit(self, item_id: str) -> None:
        seconds = self.samples / SAMPLE_RATE
        self._clear_input()
        previous = self.conversation.last_item_id()
        await self.wire.send(
            server_event("input_audio_buffer.committed", item_id=item_id, previous_item_id=previous)
        )
        transcription = self.conversation.session["audio"]["input"].get("transcription")
        item = {
            "id": item_id,
            "type": "message",
            "object": "realtime.item",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
            "_seconds": seconds,
        }
        self.conversation.items.append(item)
        await self.wire.send(
            server_event("conversation.item.added", previous_item_id=previous, item=public(item))
        )
        await self.wire.send(
            server_event("conversation.item.done", previous_item_id=previous, item=public(item))
        )
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
            await self.wire.send(
                server_event(
                    "conversation.item.input_audio_transcription.completed",
                    item_id=item_id,
                    content_index=0,
                    transcript=transcript,
                    usage=usage,
                )
            )
