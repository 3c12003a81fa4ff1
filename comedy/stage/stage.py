"""The set's decisions, without I/O: server events and the visitor's actions in, actions out.

`Stage` is the one door to a set's small machines: the answer's lifecycle (`lifecycle`), the room
side (`hearing`), the session's settings (`session_settings`) and the owner's money
(`comedy.money.spend`), the transcript (`transcript`) and what the page shows (`status`). The
machines return status notes among their actions; the stage alone writes them, in order, into the
status record, and hands the rest on. It never
touches a socket, a task or a clock: each call takes the time (`now`, monotonic seconds) and returns
what to do (`actions`). `comedy.show.ComedySet` is the pump that owns the socket and the tasks and
carries those actions out (websockets' sans-I/O core is the model); it tells the page when
`version` moves.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from comedy import prompts
from comedy.money.budget import Allowance
from comedy.money.meters import Meters
from comedy.money.spend import Spend
from comedy.prompts.stored import StoredPrompt
from comedy.realtime import protocol
from comedy.realtime.protocol import Event
from comedy.realtime.reading import Kind
from comedy.sound.room import RoomReading
from comedy.stage.actions import Action, Caption, EndOfAnswer, Play, ReadRoom, Restart, Send
from comedy.stage.connection_events import NEW_VOICE, ConnectionEvents
from comedy.stage.hearing import Hearing
from comedy.stage.lifecycle import CANCELLING, RETRIES, Lifecycle, remind
from comedy.stage.playback import Landed, Played, Report, Scheduled, Started
from comedy.stage.session_settings import SessionSettings
from comedy.stage.speaker import Speaker
from comedy.stage.status import SetStatus
from comedy.stage.transcript import Transcript, Turn, score_words
from comedy.stage.view import StageView

__all__ = ["RETRIES", "Action", "ReadRoom", "Stage", "Turn"]

Handler = Callable[[Event, float], list[Action]]
Doors = list[Action] | None


def _noted(door: Callable[..., Doors]) -> Callable[..., Doors]:
    """A door of the stage: the status notes among the actions its machines returned are written
    into the status record, in order (a `Close` ends the status's changes), and the rest returned."""

    @functools.wraps(door)
    def noted(stage: Stage, *args: Any, **kwargs: Any) -> Doors:
        actions = door(stage, *args, **kwargs)
        return actions if actions is None else stage.shown.write(actions)

    return noted


class Stage(StageView):
    """One visitor's set, as decisions: feed it events with their time, carry out what it returns."""

    def __init__(
        self,
        set_up: prompts.SetUp,
        tuning: prompts.Tuning,
        meters: Meters,
        started_at: float,
        *,
        hands_free: bool = True,
        rehearsal: bool = True,
        key: str = "",
        stored_prompt: StoredPrompt | None = None,
        allowance: Allowance | None = None,  # the visitor's share of the owner's money; None: not the owner's
    ) -> None:
        self.started_at, self.meters = started_at, meters
        self.shown = SetStatus(key=key, last_activity=started_at)
        self.lines = Transcript(started_at, [])
        self.money = Spend(allowance)
        self.settings = SessionSettings(
            set_up, tuning, meters, self.money, hands_free, stored_prompt, transcript=self.lines
        )
        self.speaker = Speaker()
        self.answers = Lifecycle(self.lines, self.settings, self.speaker, rehearsal)
        self.hearing = Hearing(self.answers)
        self.connection = ConnectionEvents(self.answers)  # and the set's own switch of session
        answers, hearing, connection = self.answers, self.hearing, self.connection
        self._handlers: dict[str, Handler] = {
            Kind.AUDIO_DELTA: self._unless_cancelled(answers.on_audio),
            Kind.TRANSCRIPT_DELTA: self._unless_cancelled(answers.on_words),
            Kind.TEXT_DELTA: self._unless_cancelled(answers.on_words),
            Kind.RESPONSE_CREATED: self._on_created,
            Kind.RESPONSE_DONE: answers.on_done,
            Kind.SPEECH_STARTED: hearing.on_speech_started,
            Kind.SPEECH_STOPPED: hearing.on_speech_stopped,
            Kind.COMMITTED: hearing.on_committed,
            Kind.HEARD: hearing.on_heard,
            Kind.NOT_HEARD: hearing.on_not_heard,
            Kind.ERROR: connection.on_error,
            Kind.DISCONNECTED: connection.on_disconnected,
            Kind.RECONNECTED: connection.on_reconnected,
            Kind.GAVE_UP: connection.on_gave_up,
            Kind.RESPONSE_TIMEOUT: connection.on_timeout,
            Kind.PROTOCOL_ERROR: connection.on_protocol_error,
        }

    def _unless_cancelled(self, handler: Handler) -> Handler:
        """What a cancelled answer still sends (it was on the wire when the cancel went out) is
        dropped: never played, never shown, never owed to the player."""
        return lambda event, now: [] if self.answers.state is CANCELLING else handler(event, now)

    def say(self, status: str | None = None, error: str | None = None) -> None:
        """Change the status or the last problem (masked)."""
        self.shown.say(status, error)

    def at(self, now: float) -> float:
        """Seconds into the set at `now`."""
        return self.lines.at(now)

    def session_update(self) -> Event:
        """The session's settings for the set as it stands."""
        return self.settings.session_update()

    # --- the visitor's actions

    def connected(self, note: str | None = None) -> None:
        """A new session is open: its audio timeline starts again."""
        self.answers.spoken = False
        self.hearing.ear.restart()
        self.say("Connected: talk, or type a topic", note)

    def ended(self, reason: str) -> None:
        """The set is over: the reason is the last status, and the set's best joke is named."""
        if best := self.best_joke():
            reason += f" Best joke: \u201c{best.text.strip()[:90]}\u201d ({score_words(best.score)})."
        self.shown.end(reason)

    def touched(self, now: float) -> None:
        """The visitor did something (the idle clock starts again)."""
        self.shown.last_activity = now

    def release_hold(self) -> None:
        """The answers asked for were billed, lost or will never be: their worst case is not held."""
        self.money.release()

    @_noted
    def request(
        self, content: list[Event], trigger: list[Event], now: float, line: str | None = None
    ) -> list[Action]:
        """The visitor asks for an answer (see `Lifecycle.request`)."""
        return self.answers.request(content, trigger, now, line)

    @_noted
    def joke(self, topic: str, now: float) -> list[Action]:
        """Ask for a joke about the topic, as the visitor's line."""
        self.hearing.crowd.tags = 0
        request = prompts.joke_request(topic)
        self.lines.add(Turn("user", request, at=self.lines.at(now)))
        self.shown.say()
        return self.answers.request([protocol.user_text(request)], [protocol.response_create()], now, request)

    def new_topic(self, topic: str) -> list[Action]:
        """The visitor typed a topic: the session is told (the cut of the joke being told is apart)."""
        return [Send(self.session_update())] if self.settings.new_topic(topic) else []

    def change(
        self,
        set_up: prompts.SetUp,
        hands_free: bool | None,
        model: str | None,
        tuning: prompts.Tuning | None = None,
    ) -> list[Action]:
        """New choices mid-set (`tuning`: the owner's, as they stand now): a session.update, or a
        fresh session where the API needs one."""
        settings = self.settings
        if tuning is not None:
            settings.tuning = replace(tuning, model=settings.tuning.model)
        voice_changed = set_up.voice != settings.set_up.voice
        model_changed = model is not None and model != settings.tuning.model
        settings.set_up = set_up
        if hands_free is not None:
            settings.hands_free = hands_free
        if model_changed:
            settings.tuning = replace(settings.tuning, model=model)
            return [Restart(f"the model {model}")]
        if voice_changed and self.answers.spoken:
            return [Restart(NEW_VOICE)]
        return [Send(self.session_update())]

    @_noted
    def cut(self, why: str, now: float) -> list[Action] | None:
        """Stop the comedian at once, where the visitor stopped hearing (see `Lifecycle.cut`)."""
        return self.answers.cut(why, now)

    @_noted
    def hold_due(self, now: float) -> list[Action]:
        """A hold's deadline (see `comedy.stage.floor`)."""
        return self.hearing.hold_due(now)

    @_noted
    def finish_cut(self, now: float) -> list[Action]:
        """The second half of a cut, once the player said where it fell silent."""
        return self.answers.finish_cut(now)

    @_noted
    def ask_again(self, why: str) -> list[Action]:
        """Retry the last answer a couple of times, saying so."""
        return self.answers.ask_again(why)

    @_noted
    def retell(self, status: str) -> list[Action]:
        """A new session is told the set, and asked again for an answer a drop lost."""
        return self.answers.retell(status)

    @_noted
    def restarting(self, why: str) -> list[Action]:
        """The set leaves its session for a fresh one (see `ConnectionEvents.restarting`)."""
        return self.connection.restarting(why)

    @_noted
    def restarted(self, why: str) -> list[Action]:
        """The fresh session is open (see `ConnectionEvents.restarted`)."""
        return self.connection.restarted(why)

    def remind(self) -> list[Action]:
        """Tell a new session the last lines of the set."""
        return remind(self.lines)

    @_noted
    def greet(self, line: str, now: float) -> list[Action]:
        """The show starts with no opener ready: the session says the opening line at once."""
        ask = protocol.response_create(instructions=prompts.audition_instructions(line, self.set_up.style))
        return self.answers.request([], [ask], now)

    @_noted
    def opened(self, line: str, pcm: np.ndarray, now: float) -> list[Action]:
        """The cached opener plays while the session connects: it is the set's first line."""
        item_id = protocol.new_id("opener")
        noted = self.answers.opened(line, item_id, now)
        self.speaker.arrived(item_id, len(pcm))
        return [*noted, Caption(item_id, line, 0), Play(item_id, pcm), EndOfAnswer(item_id)]

    @_noted
    def committed(self) -> list[Action]:
        """Push-to-talk released: what the visitor said is one turn, answered now."""
        return [Send(protocol.audio_commit()), *self.answers.ask()]

    def covered(self, line: str, pcm: np.ndarray, now: float) -> list[Action]:
        """The house comedian says `line` while OpenAI is away."""
        item_id = f"house_{len(self.transcript)}"
        self.lines.add(Turn("assistant", line, item_id, "house comedian covers", self.at(now)))
        self.say()
        self.speaker.arrived(item_id, len(pcm))
        return [Play(item_id, pcm), EndOfAnswer(item_id)]

    # --- the player's and the microphone's side

    def player(self, report: Report) -> None:
        """The player's report of what reached the visitor: where a cut falls, when the latency
        clock stops, when the room is listened to after a punchline."""
        match report:
            case Played(item_id, samples):
                self.speaker.report(item_id, samples)
            case Scheduled(item_id, pcm, _, counted) if counted:  # a player that keeps no count
                self.speaker.handed(item_id, len(pcm))
            case Started(item_id, at):
                self.first_heard(item_id, at)
            case Landed(at):
                self.hearing.crowd.window.landed(at)

    def first_heard(self, item_id: str, at: float) -> None:
        """An item's first sample reached the visitor at `at`: the latency clock may stop."""
        if self.speaker.heard_first(item_id, at) and (latency := self.meters.audio_played(at)) is not None:
            self.lines.turn("assistant", item_id, at).latency = latency
            self.say()

    @_noted
    def microphone(
        self,
        pcm: np.ndarray,
        now: float,
        settled: bool | None = None,
        linear: np.ndarray | None = None,
        near: np.ndarray | None = None,
    ) -> list[Action]:
        """Microphone audio as sent to the API (see `Hearing.microphone`)."""
        return self.hearing.microphone(pcm, now, settled, linear, near)

    @_noted
    def sent_microphone(self, seconds: float) -> list[Action]:
        """`seconds` of microphone audio went to the API (see `Hearing.sent_microphone`)."""
        return self.hearing.sent_microphone(seconds)

    @_noted
    def room_read(self, reading: RoomReading, asked: ReadRoom, now: float) -> list[Action]:
        """The room's reading after a punchline (see `Crowd.room_read`)."""
        return self.hearing.crowd.room_read(reading, asked, now)

    # --- server events

    @_noted
    def on_event(self, event: Event, now: float) -> list[Action]:
        """One server (or `local.*`) event in; what to do about it out."""
        handler = self._handlers.get(event["type"])
        return self.hearing.words_overdue(now) + (handler(event, now) if handler is not None else [])

    def _on_created(self, event: Event, now: float) -> list[Action]:
        return self.hearing.crowd.new_joke(now) + self.answers.on_created(event, now)
