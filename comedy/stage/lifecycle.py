"""An answer's lifecycle, as an explicit state machine (h11 is the model): the visitor's request,
the ask, the server's answer, a cut, a retry after a failure or a drop, and the re-telling of the
set to a new session. Pure: events and the visitor's actions in, actions out.

    IDLE --ask--> ASKED --created--> ANSWERING --done--> IDLE
                                     ANSWERING --cut--> CANCELLING --done--> IDLE
    any --dropped (an answer lost)--> LOST --retold--> ASKED (asked again) or IDLE

While it talks, the floor (`comedy.stage.floor`: open, held for a sound, riding a laugh) is the answer's
too: a cut ends a hold, and a hold is only ever asked of a player that keeps its own count.
"""

from __future__ import annotations

import enum

from comedy.realtime import endings, protocol
from comedy.realtime.protocol import Event
from comedy.realtime.reading import Delta, Done
from comedy.sound import audio
from comedy.stage.actions import (
    Action,
    AnswerEnded,
    AwaitCut,
    Caption,
    Close,
    EndOfAnswer,
    Note,
    Play,
    Send,
)
from comedy.stage.cutting import RETRIES, Asked, Cutting
from comedy.stage.floor import Floor
from comedy.stage.session_settings import SessionSettings
from comedy.stage.speaker import Speaker
from comedy.stage.transcript import Transcript, Turn

CENSORED_NOTE = "Your last line was cut off by the content filter before you finished it."


class AnswerState(enum.Enum):
    """Where the set's current answer stands."""

    IDLE = "idle"  # no answer asked for, or the last one ended
    ASKED = "asked"  # a response.create was sent; the server has not started the answer
    ANSWERING = "answering"  # the server is producing it
    CANCELLING = "cancelling"  # cut: its response.done is still to come
    LOST = "lost"  # the connection dropped with it in flight: a new session asks again


IDLE, ASKED, ANSWERING, CANCELLING, LOST = AnswerState
BUSY = (ASKED, ANSWERING, CANCELLING)  # an answer is asked for, in progress, or being cancelled
# (state, what happened) -> the next state. Anything not listed leaves the state as it is: a server
# may report what the client did not expect (a late done, a created after a drop) and the set goes on.
TRANSITIONS: dict[tuple[AnswerState, str], AnswerState] = {
    **{(state, "ask"): ASKED for state in (IDLE, ASKED, LOST)},
    **{(state, "created"): ANSWERING for state in AnswerState},
    **{(state, "done"): IDLE for state in AnswerState},
    (ANSWERING, "cut"): CANCELLING,
    (ANSWERING, "stalled"): CANCELLING,
    **{(state, "dropped"): IDLE for state in AnswerState},
    **{(state, "dropped mid-answer"): LOST for state in AnswerState},
    (LOST, "retold"): IDLE,
    (LOST, "gave up"): LOST,
}


def _bill(settings: SessionSettings, transcript: Transcript, done: Done, now: float) -> float:
    """An answer's usage billed, its cost shared among its lines: what it cost (USD)."""
    settings.money.billed(done.usage)
    usd = settings.meters.add_usage(done.usage)
    for item_id in done.output_ids:
        transcript.turn("assistant", item_id, now).cost = usd / len(done.output_ids)
    return usd


def _note_ending(transcript: Transcript, done: Done, ending: endings.Ending, now: float) -> None:
    """Each line of the answer noted with how it ended (a failure over any earlier note)."""
    for item_id in done.output_ids:
        turn = transcript.turn("assistant", item_id, now)
        if ending.note and (not turn.note or ending.failed):
            turn.note = ending.note


def remind(transcript: Transcript, skip: str | None = None) -> list[Action]:
    """What tells a new session the last lines of the set."""
    said = {"user": protocol.user_text, "assistant": protocol.assistant_text}
    return [Send(said[t.role](t.text)) for t in transcript.remembered(skip)]


class Lifecycle:
    """The set's answers: what was asked, what is being said, and what a cut or a drop does to it."""

    def __init__(
        self,
        transcript: Transcript,
        settings: SessionSettings,
        speaker: Speaker,
        rehearsal: bool = True,
    ) -> None:
        self.transcript, self.settings, self.speaker = transcript, settings, speaker
        self.rehearsal = rehearsal
        self.state = IDLE
        self.floor = Floor()
        self.holds = True  # a player that can hold is held for a sound before the set decides
        self.spoken = False  # the comedian has spoken in this session: the voice is fixed
        self.last_line: Turn | None = None  # the comedian's last line: the room's reaction scores it
        self.then_ask = False  # a heckle's answer waits for the cut answer to end
        self._answering: Turn | None = None
        self.asked = Asked()  # what asked for the answer, sent again to a new session
        self.cutting = Cutting(speaker, self.floor, transcript)
        self._tell_censored = False  # the next answer hears of the filter, and makes a bit of it
        self._opener_item = ""

    def _go(self, happened: str) -> None:
        self.state = TRANSITIONS.get((self.state, happened), self.state)

    @property
    def responding(self) -> bool:
        """An answer is in progress on the server."""
        return self.state in (ANSWERING, CANCELLING)

    @property
    def talking(self) -> bool:
        """The comedian is talking: an answer is coming, or the player has not played all of one."""
        return self.responding or bool(self.speaker.unheard())

    @property
    def can_hold(self) -> bool:
        """It talks through a player that can pause (the page's, not Gradio's), and no cut is under way."""
        return (
            self.holds
            and self.speaker.reports
            and not self.cutting.dropping
            and self.state is not CANCELLING
            and self.talking
        )

    @property
    def opening(self) -> bool:
        """Only the opener is playing: a first request follows it rather than cutting it."""
        return not self.responding and self.speaker.unheard() == [self._opener_item]

    # --- asking

    def close(self, reason: str) -> list[Action]:
        """End the set, saying why (its status from now on)."""
        return [Close(reason)]

    def ask(self) -> list[Action]:
        """Ask for an answer, capped so that its worst case stays within the budget; if not even a
        short answer fits, the set ends instead, saying why."""
        cap = self.settings.cap()
        if cap == 0:
            return self.close(self.settings.why_not())
        event = dict(self.asked.trigger) if self.asked.trigger else protocol.response_create()
        response = dict(event.get("response") or {})
        if "instructions" not in response and self.settings.stored_prompt is None:
            response["instructions"] = self.settings.instructions()  # tonight's record as it stands now
        if cap is not None:
            response["max_output_tokens"] = cap
        event["response"] = response
        self.settings.money.asked(self.settings.meters.prices, cap)  # held until it is billed
        self._go("ask")
        note, self._tell_censored = self._tell_censored, False
        return [Send(protocol.system_text(CENSORED_NOTE))] * note + [Send(event)]

    def request(
        self, content: list[Event], trigger: list[Event], now: float, line: str | None = None
    ) -> list[Action]:
        """The visitor asks for an answer: `content` (a line, or audio) then `trigger` (a commit, a
        response.create; none when turn detection answers by itself). A new session gets the
        content again if the answer is lost; `line` is the request in words."""
        asks = [e for e in trigger if e["type"] == "response.create"]
        self.asked.content = [*content, *(e for e in trigger if e["type"] != "response.create")]
        self.asked.trigger = asks[0] if asks else None
        self.asked.line, self.asked.retries_left = line, RETRIES
        self.settings.meters.turn_ended(now)
        actions: list[Action] = [Note(active_at=now), *(Send(e) for e in self.asked.content)]
        return actions + (self.ask() if asks else [])

    def answer_turn(self, now: float, instructions: str | None = None) -> list[Action]:
        """The visitor's committed audio is the request (or, with `instructions`, the comedian picks
        up after a laugh): answer it, once a cut answer has ended."""
        self.asked.line, self.asked.retries_left, self.asked.content = None, RETRIES, []
        self.asked.trigger = protocol.response_create(instructions=instructions)
        notes: list[Action] = []
        if instructions is None:
            self.settings.meters.turn_ended(now)
            notes.append(Note("Thinking…"))
        if self.responding:
            self.then_ask = True
            return notes
        return notes + self.ask()

    def spend(self, usd: float) -> list[Action]:
        """`usd` of the owner's money is spent: the set ends when nothing fits, and the session is
        told a new cap when it moved."""
        if self.settings.money.allowance is None:
            return []
        self.settings.money.spent(usd)
        if self.settings.cap() == 0:
            return self.close(self.settings.why_not())
        return [Send(self.settings.session_update())] if self.settings.cap_moved() else []

    def ask_again(self, why: str, conversation_lost: bool = False) -> list[Action]:
        """Retry the last answer a couple of times, saying so."""
        if self.asked.retries_left <= 0:
            return [Note("Connected: your turn", f"Gave up after {why}. Try again.")]
        self.asked.retries_left -= 1
        actions: list[Action] = [Note(f"Trying again: {why}")]
        if conversation_lost:  # a new session has no conversation: ask again with the same content
            actions += [Send(e) for e in self.asked.content]
        return actions + self.ask()

    def retell(self, status: str, why: str = "the connection dropped mid-answer") -> list[Action]:
        """A new session knows nothing of the set: remind it, and ask again for an answer a drop lost."""
        lost = self.state is LOST
        self._go("retold")
        actions = [*remind(self.transcript, skip=self.asked.line if lost else None), Note(status)]
        if lost:
            actions += self.ask_again(why, conversation_lost=True)
        return actions

    # --- cutting

    def cut(self, why: str, now: float) -> list[Action] | None:
        """Stop the comedian at once, where the visitor stopped hearing (a heckle, a new topic);
        None when nothing was being said. The answer is cancelled and what is queued dropped; with
        a player that reports (the engine), the cut waits for its word on where it fell silent."""
        unheard = self.speaker.unheard()
        if not (self.responding or unheard):
            return None
        actions = self.cutting.start(why, now)
        if self.state is ANSWERING:
            actions.append(Send(protocol.response_cancel()))
        self._go("cut")
        if self.speaker.reports and unheard:
            return [*actions, AwaitCut()]
        return actions + self.finish_cut(now)

    def finish_cut(self, now: float) -> list[Action]:
        """The second half of a cut (`Cutting.finish`)."""
        return self.cutting.finish(now, self.responding)

    # --- lines the set says without asking

    def opened(self, line: str, item_id: str, now: float) -> list[Action]:
        """The cached opener is playing while the session connects: it is the set's first line."""
        voice = self.settings.set_up.voice
        self.transcript.add(Turn("assistant", line, item_id, "opener", self.transcript.at(now), voice=voice))
        self._opener_item = item_id
        return [Note()]

    # --- the server's answer

    def on_audio(self, event: Event, now: float) -> list[Action]:
        """Audio of the answer: played."""
        delta = Delta.read(event)
        pcm = audio.pcm16_array(delta.pcm16)
        self.speaker.arrived(delta.item_id, len(pcm))
        self.spoken = True
        return [Play(delta.item_id, pcm)]

    def on_words(self, event: Event, now: float) -> list[Action]:
        """Words of the answer: its line grows; the player shows them once played that far."""
        delta = Delta.read(event)
        self._answering = self.last_line = self.transcript.turn("assistant", delta.item_id or None, now)
        if not self._answering.text:
            self._answering.at, self._answering.voice = self.transcript.at(now), self.settings.set_up.voice
        self._answering.text += delta.text
        if not delta.item_id:
            return [Note()]
        at = self.speaker.received.get(delta.item_id, 0)
        self._answering.marks.append((at, len(self._answering.text)))
        return [Note(), Caption(delta.item_id, delta.text, at)]

    def on_created(self, event: Event, now: float) -> list[Action]:
        """The server started an answer."""
        self._go("created")
        self.speaker.new_answer()
        return [Note("Performing…")]

    def on_done(self, event: Event, now: float) -> list[Action]:
        """The answer ended: billed, its tail played, its ending noted; a failure is asked again."""
        done = Done.read(event)
        ending = endings.read(done.response)
        self._answering = None
        self._go("done")
        self.settings.money.release()  # billed below, by its usage
        actions: list[Action] = (
            [] if ending.status == "cancelled" else [EndOfAnswer(self.speaker.last_item or "")]
        )
        if done.usage is not None:
            actions += self.spend(_bill(self.settings, self.transcript, done, now))
        actions += self.cutting.forget_unheard()
        if self.then_ask:  # a heckle cut this answer: now answer the heckle
            self.then_ask = False
            actions += self.ask()
        _note_ending(self.transcript, done, ending, now)
        self._tell_censored = self._tell_censored or ending.censored
        # a failed or cut answer is the last problem; a whole one ("" words) ends the last problem
        problem = ending.words if ending.status in ("completed", "failed", "incomplete") else None
        actions.append(Note(problem=problem, censored=ending.censored))
        if ending.failed:
            actions += self.ask_again("the answer failed")
        actions.append(Note("Connected: your turn"))
        asked = any(isinstance(a, Send) and a.event["type"] == "response.create" for a in actions)
        return [*actions, AnswerEnded(ending, dict(done.response.get("usage") or {}), asked)]

    # --- the connection (its events are read in `comedy.stage.connection_events`)

    def dropped(self, lost: bool, note: str = "cut off: the connection dropped") -> None:
        """The session is gone (a drop, a switch): the answer in flight is lost (`lost`) and asked again."""
        self.settings.money.release()  # asked again, it is held again
        self.floor.reset()
        self.speaker.forget_session()
        if self._answering is not None:
            self._answering.note = note
            self._answering = None
        self._go("dropped mid-answer" if lost or self.state is LOST else "dropped")

    def gave_up(self) -> None:
        """Reconnecting failed: the next request connects again."""
        self._go("gave up")

    def stalled(self) -> list[Action]:
        """The answer stalled: cancelled and asked again."""
        self._go("stalled")
        return [Send(protocol.response_cancel()), *self.ask_again("the answer stalled")]
