"""Ask for one whole answer and collect it, riding out drops, stalls and rate limits.

The CLI and the voice audition both need "say this, give me all of it"; the live set streams
instead. Both run on the same `Stage`: its retry budget, its reading of every ending and its
re-telling after a drop; this module is only the pump that collects what it plays.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from comedy import prompts
from comedy.money import pricing
from comedy.money.meters import Meters
from comedy.realtime import endings, protocol
from comedy.realtime.protocol import Event
from comedy.realtime.reading import Kind
from comedy.realtime.session import RealtimeError, RealtimeSession
from comedy.stage.actions import (
    Action,
    AnswerEnded,
    AwaitCut,
    Caption,
    Cover,
    DropSpeech,
    EndOfAnswer,
    Hold,
    HoldDue,
    LoseSession,
    Play,
    ReadRoom,
    Resume,
    RetryLater,
    Send,
)
from comedy.stage.lifecycle import RETRIES
from comedy.stage.stage import Stage

MAX_TRIES = RETRIES + 1


@dataclass
class Answer:
    """What the comedian said: 24 kHz pcm16 audio, its transcript, and the usage it reported."""

    audio: bytearray = field(default_factory=bytearray)
    transcript: str = ""
    heard: str = ""
    usage: dict = field(default_factory=dict)
    ending: endings.Ending = field(default_factory=lambda: endings.Ending("completed"))  # or cut short
    items: list[str] = field(default_factory=list)  # output items that spoke, in order (2.x: several)
    notes: list[str] = field(default_factory=list)  # why an answer had to be asked for again
    skipped: list[str] = field(default_factory=list)  # frames that could not be read


class _Collector:
    """Feeds the session's events to a stage and keeps what it plays, until one answer is whole."""

    def __init__(self, session: RealtimeSession, on_text: Callable) -> None:
        self.session, self.on_text = session, on_text
        self.stage = Stage(
            prompts.SetUp(),
            prompts.Tuning(session.model),
            Meters(pricing.prices_for(session.model)),
            time.monotonic(),
        )
        self.answer = Answer()
        self.ended: AnswerEnded | None = None  # the stage's word that an answer ended
        self._said = ""

    async def carry_out(self, actions: list[Action]) -> bool:
        """Do what the stage says; True when it asked for the answer again. A one-shot answer has
        no player, room or house comedian: those actions are nothing to it."""
        again = False
        for action in actions:
            match action:
                case Send(event, _):
                    await self.session.send(event)
                    again = again or event["type"] == "response.create"
                case Play(_, pcm):
                    self.answer.audio += pcm.astype("<i2").tobytes()
                case RetryLater(seconds, why):
                    await asyncio.sleep(seconds)
                    again = await self.carry_out(self.stage.ask_again(why)) or again
                case LoseSession():
                    raise RealtimeError(self.stage.last_error)
                case AnswerEnded():
                    self.ended = action
                case Caption() | EndOfAnswer() | DropSpeech() | AwaitCut() | Cover() | ReadRoom():
                    pass
                case Hold() | Resume() | HoldDue():  # no microphone, no hold
                    pass
                case _:
                    raise TypeError(f"a one-shot answer cannot carry out {action!r}")
        return again

    def _tell(self) -> None:
        """Say each new problem once, as the set's status line would."""
        if self.stage.last_error and self.stage.last_error != self._said:
            self._said = self.stage.last_error
            self.answer.notes.append(self._said)
            self.on_text(f"\n[{self._said}]")

    def _words(self, event: Event) -> None:
        item = str(event.get("item_id") or "")
        if item not in self.answer.items:  # a new output item of the same answer
            self.answer.items.append(item)
            if self.answer.transcript:
                self.answer.transcript += " "
                self.on_text(" ", end="", flush=True)
        delta = str(event.get("delta") or "")
        self.answer.transcript += delta
        self.on_text(delta, end="", flush=True)

    async def event(self, event: Event) -> bool:
        """One event; True once the answer is whole."""
        kind = event["type"]
        if kind == Kind.RESPONSE_CREATED:
            self.answer.audio.clear()
            self.answer.transcript, self.answer.items = "", []
        elif kind in (Kind.TRANSCRIPT_DELTA, Kind.TEXT_DELTA):
            self._words(event)
        elif kind == Kind.HEARD:
            self.answer.heard = str(event.get("transcript") or "")
        elif kind == Kind.PROTOCOL_ERROR:
            self.answer.skipped.append(event["reason"])
        try:
            actions = self.stage.on_event(event, time.monotonic())
        except protocol.ProtocolError as exc:
            self.answer.skipped.append(f"an audio delta: {exc}")
            return False
        self._tell()
        asked_again = await self.carry_out(actions)
        if kind == Kind.ERROR and not asked_again and not any(isinstance(a, RetryLater) for a in actions):
            error = protocol.ApiError.from_event(event)
            if error.code != "response_cancel_not_active":
                raise RealtimeError(f"The Realtime API said: {error}")
        ended, self.ended = self.ended, None
        return ended is not None and self._finished(ended)

    def _finished(self, ended: AnswerEnded) -> bool:
        if ended.ending.status == "cancelled" or ended.asked_again:
            return False  # the answer given up on, not the one waited for
        if ended.ending.failed:  # asked again as often as the stage allows
            raise RealtimeError(f"No answer after {MAX_TRIES} tries: {ended.ending.words}")
        self.answer.usage = dict(ended.usage)
        self.answer.ending = ended.ending  # completed, or cut short: asking again would cut it again
        self.on_text("")
        return True


async def ask(
    session: RealtimeSession, content: list[Event], trigger: list[Event], on_text: Callable = print
) -> Answer:
    """Send `content` then `trigger`, and collect one full answer.

    A rate-limited, failed or stalled answer is asked for again; after a dropped socket the new
    session has no conversation, so the content is sent again too.
    """
    collector = _Collector(session, on_text)
    await collector.carry_out(collector.stage.request(content, trigger, time.monotonic()))
    async for event in session:
        if await collector.event(event):
            return collector.answer
    raise RealtimeError("The connection closed before the answer finished.")
