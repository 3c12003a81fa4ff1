"""One output item of a rehearsal response, streamed as the real API streams it: the item and its
content part announced, the transcript a little ahead of the audio in 100 ms deltas at the
server's pace, the token budget spent as it goes, and every `.done` after."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass

from websockets.exceptions import ConnectionClosed

from comedy.house import voice
from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE, new_id, server_event
from comedy.rehearsal.conversation import Conversation, Response
from comedy.rehearsal.faults import Faults
from comedy.rehearsal.journal import Conduct, Journal
from comedy.rehearsal.material import AUDIO_MS_PER_TOKEN, tokens
from comedy.rehearsal.wire import Wire

DELTA_SAMPLES = SAMPLE_RATE // 10  # 100 ms of audio per delta, as the real API sends


@dataclass
class Budget:
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


class ItemStream:
    """The output items of a connection's responses, each streamed whole (or until it is stopped)."""

    def __init__(self, conversation: Conversation, wire: Wire, journal: Journal, conduct: Conduct) -> None:
        self.conversation, self.wire, self.journal, self.conduct = conversation, wire, journal, conduct

    async def say(
        self, r: Response, index: int, line: str, faults: Faults | None, budget: Budget, filtered: bool
    ) -> dict:
        """One output item of a response, from `output_item.added` to `conversation.item.done`."""
        audio_out = "audio" in r.modalities
        item_id = new_id("item")
        r.item_ids.append(item_id)
        previous = self.conversation.last_item_id()
        item = {"id": item_id, "type": "message", "object": "realtime.item", "role": "assistant"}
        item.update(status="in_progress", content=[])
        ids = {"response_id": r.id, "item_id": item_id, "output_index": index, "content_index": 0}
        sent_text: list[str] = []
        await self.wire.send(
            server_event("response.output_item.added", response_id=r.id, output_index=index, item=item)
        )
        self.conversation.items.append(item)
        await self.wire.send(server_event("conversation.item.added", previous_item_id=previous, item=item))
        empty_part = {"type": "audio", "transcript": ""} if audio_out else {"type": "text", "text": ""}
        await self.wire.send(server_event("response.content_part.added", **ids, part=empty_part))
        if faults and faults.garbage and index == 0:
            await self.wire.send_garbage(ids)
        if faults and faults.stall:
            await r.cancel.wait()
        elif audio_out:
            await self._speak(r, line, ids, sent_text, faults, budget, filtered)
        else:
            for word in _words(line):
                if r.cancel.is_set() or not budget.take(tokens(word)):
                    break
                await self.wire.send(server_event("response.output_text.delta", **ids, delta=word))
                sent_text.append(word)
        text = "".join(sent_text).strip()
        if item_id in self.conversation.truncated_at:  # the listener cut it while it was being spoken
            text = cut_transcript(text, *self.conversation.truncated_at[item_id])
        if audio_out:
            content = {"type": "output_audio", "transcript": text}
            part = {"type": "audio", "transcript": text}
        else:
            content = {"type": "output_text", "text": text}
            part = {"type": "text", "text": text}
        finished = not (r.cancel.is_set() or budget.exhausted or filtered)
        item.update(status="completed" if finished else "incomplete", content=[content])
        if audio_out:
            await self.wire.send(server_event("response.output_audio.done", **ids))
            await self.wire.send(
                server_event("response.output_audio_transcript.done", **ids, transcript=text)
            )
        else:
            await self.wire.send(server_event("response.output_text.done", **ids, text=text))
        await self.wire.send(server_event("response.content_part.done", **ids, part=part))
        await self.wire.send(
            server_event("response.output_item.done", response_id=r.id, output_index=index, item=item)
        )
        await self.wire.send(server_event("conversation.item.done", previous_item_id=previous, item=item))
        return item

    async def _speak(
        self,
        r: Response,
        line: str,
        ids: dict,
        sent_text: list[str],
        faults: Faults | None,
        budget: Budget,
        filtered: bool,
    ) -> None:
        pcm = await asyncio.to_thread(voice.speak, line, r.voice)
        words = _words(line)
        chunks = max(1, math.ceil(len(pcm) / DELTA_SAMPLES))
        if filtered:  # the content filter stops it halfway
            chunks = max(1, chunks // 2)
            words = words[: max(1, len(words) // 2)]
        item_id = ids["item_id"]
        pace = self.conduct.pace
        start = time.monotonic()
        next_word = 0
        for i in range(chunks):
            # The transcript runs a little ahead of the audio, as the real API's does.
            due_words = math.ceil(len(words) * min(1.0, (i + 2) / chunks))
            while next_word < due_words:
                if not budget.take(tokens(words[next_word])):
                    return
                await self.wire.send(
                    server_event("response.output_audio_transcript.delta", **ids, delta=words[next_word])
                )
                sent_text.append(words[next_word])
                next_word += 1
            if faults and faults.drop_after_deltas is not None and i >= faults.drop_after_deltas:
                self.wire.drop()  # a dropped socket: no close frame
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
                self.journal.first_audio_sent.append((item_id, time.monotonic()))
            await self.wire.send(
                server_event(
                    "response.output_audio.delta",
                    **ids,
                    delta=protocol.audio_append(chunk.tobytes())["audio"],
                )
            )
            self.conversation.audio_spoken = True
            self.conversation.spoken_ms[item_id] = (i * DELTA_SAMPLES + len(chunk)) * 1000 // SAMPLE_RATE


def cut_transcript(transcript: str, kept_ms: int, spoken_ms: int) -> str:
    """The words of a transcript heard in the first `kept_ms` of `spoken_ms` of audio."""
    words = transcript.split()
    kept = len(words) * kept_ms // spoken_ms if spoken_ms else 0
    return " ".join(words[:kept])


def _words(line: str) -> list[str]:
    parts = line.split(" ")
    return [p + " " for p in parts[:-1]] + parts[-1:]
