"""The rehearsal server's responses: what the house comedian says and how it streams, as the real
API does (items, content parts, audio and transcript deltas, usage, every ending)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

from websockets.exceptions import ConnectionClosed

from comedy.realtime.protocol import Event, new_id, server_event
from comedy.rehearsal.conversation import Conversation, Response
from comedy.rehearsal.faults import Faults
from comedy.rehearsal.journal import Conduct, Journal
from comedy.rehearsal.material import SAY_EXACTLY, choose_line, estimate_usage
from comedy.rehearsal.speaking import Budget, ItemStream
from comedy.rehearsal.thinking import think_seconds
from comedy.rehearsal.validation import check_max_output_tokens
from comedy.rehearsal.wire import Wire

PREAMBLES = ("Okay, okay.", "Alright, here we go.", "Oh, I've got one.")
FAILED_ERROR = {"type": "server_error", "code": "server_error", "message": "The model failed to respond."}


RATE_LIMITS = [
    {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
    {"name": "tokens", "limit": 40000, "remaining": 39000, "reset_seconds": 1.5},
]


def response_body(
    r: Response, session: dict, status: str, output: list, usage: dict | None, details: dict | None = None
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
    """The responding half of a connection: `response.create` and `response.cancel` in, a whole
    response out, one at a time, read off and written into the conversation."""

    def __init__(self, conversation: Conversation, wire: Wire, journal: Journal, conduct: Conduct) -> None:
        self.conversation, self.wire, self.journal, self.conduct = conversation, wire, journal, conduct
        self._last_task: asyncio.Task | None = None
        self.items = ItemStream(conversation, wire, journal, conduct)

    def stop(self) -> None:
        """The client left: the answer in progress stops."""
        if self.conversation.response:
            self.conversation.response.cancel.set()

    async def on_create(self, event: Event) -> None:
        params = event.get("response") or {}
        if "max_output_tokens" in params and (
            problem := check_max_output_tokens(params["max_output_tokens"], "response.max_output_tokens")
        ):
            await self.wire.error(*problem, event.get("event_id"))
            return
        self.journal.asked.append(params)
        await self.start(params, event.get("event_id"))

    async def on_cancel(self, event: Event) -> None:
        wanted = event.get("response_id")
        if self.conversation.response is None or (wanted and wanted != self.conversation.response.id):
            await self.wire.error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                None,
                event.get("event_id"),
            )
            return
        self.cancel(self.conversation.response, "client_cancelled", self.conduct.cancel_lag)

    def cancel(self, response: Response, reason: str, lag: float = 0.0) -> None:
        """Stop a response; it stops counting as active at once, as in the real API."""
        response.stop(reason, lag)
        self.conversation.finished(response)

    async def start(self, params: dict, event_id: str | None = None) -> None:
        """Start an answer, unless one is in progress (an error, as the real API says)."""
        if self.conversation.response is not None:
            await self.wire.error(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: "
                f"{self.conversation.response.id}. Wait until the response is finished before "
                f"creating a new one.",
                None,
                event_id,
            )
            return
        faults = self.conduct.faults.fire()
        if faults and faults.error_code:
            if faults.error_code == "rate_limit_exceeded":
                await self.wire.error(
                    "rate_limit_exceeded",
                    f"Rate limit reached for {self.conversation.model}. "
                    f"Please try again in {faults.retry_after_s:.3f}s.",
                    None,
                    event_id,
                    "rate_limit_error",
                )
            else:
                await self.wire.error(
                    faults.error_code,
                    "The server had an error while processing your request. Sorry about that!",
                    None,
                    event_id,
                    "server_error",
                )
            return
        modalities = params.get("output_modalities") or self.conversation.session["output_modalities"]
        voice_name = self.conversation.session["audio"]["output"]["voice"]
        response = Response(new_id("resp"), voice_name, list(modalities))
        self.conversation.response = response
        previous, self._last_task = self._last_task, None
        self._last_task = asyncio.create_task(self._respond(response, params, faults, previous))

    async def _respond(
        self, r: Response, params: dict, faults: Faults | None, previous_task: asyncio.Task | None
    ) -> None:
        if previous_task is not None:  # a cancelled answer finishes its events first
            with contextlib.suppress(Exception):
                await previous_task
        c = self.conversation
        lines = [choose_line(c.session, c.items, c.heckled, params, self.conduct.rng)]
        if self.conduct.preambles and not SAY_EXACTLY.search(params.get("instructions") or ""):
            lines.insert(0, self.conduct.rng.choice(PREAMBLES))  # a 2.x model's short preamble item
        limit = params.get("max_output_tokens", c.session.get("max_output_tokens", "inf"))
        budget = Budget(math.inf if limit == "inf" else limit)
        output: list[dict] = []
        status, details = "completed", None
        try:
            created = response_body(r, c.session, "in_progress", [], None)
            await self.wire.send(server_event("response.created", response=created))
            await self.wire.send(server_event("rate_limits.updated", rate_limits=RATE_LIMITS))
            if faults and faults.failed:
                status, details = "failed", {"type": "failed", "error": FAILED_ERROR}
                lines = []
            await self._think(r)
            if r.cancel.is_set():  # cancelled while it thought: nothing was said
                status, details = "cancelled", {"type": "cancelled", "reason": r.cancel_reason}
                lines = []
            for index, said in enumerate(lines):
                filtered = bool(faults and faults.incomplete == "content_filter" and index == len(lines) - 1)
                output.append(await self.items.say(r, index, said, faults, budget, filtered))
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
            self.conversation.finished(r)
        usage = estimate_usage(c.session, c.items, c.spoken_ms, budget.text, output)
        self.journal.usages.append(usage)
        if status == "completed" and c.spoken_ms:  # the punchline: the audience may react to it
            self.conduct.audience.punchline(time.monotonic())
        done = response_body(r, c.session, status, output, usage, details)
        with contextlib.suppress(ConnectionClosed):
            await self.wire.send(server_event("response.done", response=done))

    async def _think(self, r: Response) -> None:
        """The model thinks before its first item, as the live API does (at the server's pace)."""
        pace = self.conduct.pace
        if not self.conduct.thinks or pace <= 0:
            return
        delay = think_seconds(self.conversation.model, self.conversation.session, self.conduct.rng) / pace
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(r.cancel.wait(), delay)
