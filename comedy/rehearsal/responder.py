"""The rehearsal server's responses: what the house comedian says and how it streams, as the real
API does (items, content parts, audio and transcript deltas, usage, every ending)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed

from comedy.house import voice
from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE, Event, new_id, server_event
from comedy.rehearsal.faults import Faults
from comedy.rehearsal.material import AUDIO_MS_PER_TOKEN, SAY_EXACTLY, choose_line, estimate_usage, tokens
from comedy.rehearsal.thinking import think_seconds
from comedy.rehearsal.validation import check_max_output_tokens

DELTA_SAMPLES = SAMPLE_RATE // 10  # 100 ms of audio per delta, as the real API sends
PREAMBLES = ("Okay, okay.", "Alright, here we go.", "Oh, I've got one.")
FAILED_ERROR = {"type": "server_error", "code": "server_error", "message": "The model failed to respond."}


@dataclass
class _Response:
    id: str
    voice: str
    modalities: list[str]
    item_ids: list[str] = field(default_factory=list)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = "client_cancelled"

    def stop(self, reason: str, lag: float = 0.0) -> None:
        """Stop streaming, `lag` seconds on (what the server sends until then is still delivered)."""
        self.cancel_reason = reason
        if lag > 0:
            asyncio.get_running_loop().call_later(lag, self.cancel.set)
        else:
            self.cancel.set()


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


RATE_LIMITS = [
    {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
    {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5},
]


def response_body(
    r: _Response, session: dict, status: str, output: list, usage: dict | None, details: dict | None = None
) -> dict:
    """A `response` object as the API sends it in `response.created` and `response.done`."""
    fmt = session["audio"]["output"]["format"]
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


class Responder:
    """The responding half of a connection (mixed into it): `response.create` and `response.cancel`
    in, a whole response out."""

    async def on_response_create(self, event: Event) -> None:
        params = event.get("response") or {}
        if "max_output_tokens" in params and (
            problem := check_max_output_tokens(params["max_output_tokens"], "response.max_output_tokens")
        ):
            await self.error(*problem, event.get("event_id"))
            return
        self.journal.asked.append(params)
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
        self._cancel(self.response, "client_cancelled", self.conduct.cancel_lag)

    def _cancel(self, response: _Response, reason: str, lag: float = 0.0) -> None:
        """Stop a response; it stops counting as active at once, as in the real API."""
        response.stop(reason, lag)
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
        faults = self.conduct.faults.fire()
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

    async def _respond(
        self, r: _Response, params: dict, faults: Faults | None, previous_task: asyncio.Task | None
    ) -> None:
        if previous_task is not None:  # a cancelled answer finishes its events first
            with contextlib.suppress(Exception):
                await previous_task
        line = choose_line(self.session, self.items, self.heckled, params, self.conduct.rng)
        lines = [line]
        if self.conduct.preambles and not SAY_EXACTLY.search(params.get("instructions") or ""):
            lines.insert(0, self.conduct.rng.choice(PREAMBLES))  # a 2.x model's short preamble item
        limit = params.get("max_output_tokens", self.session.get("max_output_tokens", "inf"))
        budget = _Budget(math.inf if limit == "inf" else limit)
        output: list[dict] = []
        status, details = "completed", None
        try:
            await self.send(
                server_event(
                    "response.created", response=response_body(r, self.session, "in_progress", [], None)
                )
            )
            await self.send(server_event("rate_limits.updated", rate_limits=RATE_LIMITS))
            if faults and faults.failed:
                status, details = "failed", {"type": "failed", "error": FAILED_ERROR}
                lines = []
            await self._think(r)
            if r.cancel.is_set():  # cancelled while it thought: nothing was said
                status, details = "cancelled", {"type": "cancelled", "reason": r.cancel_reason}
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
        usage = estimate_usage(self.session, self.items, self.spoken_ms, budget.text, output)
        self.journal.usages.append(usage)
        if status == "completed" and self.spoken_ms:  # the punchline: the audience may react to it
            self.conduct.audience.punchline(time.monotonic())
        with contextlib.suppress(ConnectionClosed):
            await self.send(
                server_event(
                    "response.done", response=response_body(r, self.session, status, output, usage, details)
                )
            )

    async def _think(self, r: _Response) -> None:
        """The model thinks before its first item, as the live API does (at the server's pace)."""
        pace = self.conduct.pace
        if not self.conduct.thinks or pace <= 0:
            return
        delay = think_seconds(self.model, self.session, self.conduct.rng) / pace
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(r.cancel.wait(), delay)

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
                if r.cancel.is_set() or not budget.take(tokens(word)):
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
        pace = self.conduct.pace
        start = time.monotonic()
        next_word = 0
        for i in range(chunks):
            # The transcript runs a little ahead of the audio, as the real API's does.
            due_words = math.ceil(len(words) * min(1.0, (i + 2) / chunks))
            while next_word < due_words:
                if not budget.take(tokens(words[next_word])):
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
                self.journal.first_audio_sent.append((item_id, time.monotonic()))
            await self.send(
                server_event(
                    "response.output_audio.delta",
                    **ids,
                    delta=protocol.audio_append(chunk.tobytes())["audio"],
                )
            )
            self.audio_spoken = True
            self.spoken_ms[item_id] = (i * DELTA_SAMPLES + len(chunk)) * 1000 // SAMPLE_RATE


def _cut(transcript: str, kept_ms: int, spoken_ms: int) -> str:
    """The words of a transcript heard in the first `kept_ms` of `spoken_ms` of audio."""
    words = transcript.split()
    kept = len(words) * kept_ms // spoken_ms if spoken_ms else 0
    return " ".join(words[:kept])


def _words(line: str) -> list[str]:
    parts = line.split(" ")
    return [p + " " for p in parts[:-1]] + parts[-1:]
