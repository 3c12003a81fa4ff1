"""The set's decisions, without I/O: server events and the visitor's actions in, actions out.

`Stage` holds the transcript, the status, the response lifecycle, the interrupt rule, the retry
budget, the re-tell policy, the room window and the owner's money; it never touches a socket, a
task or a clock. Each call takes the time (`now`, monotonic seconds) and returns what to do:
send an event, play audio, drop what the player holds, wait for the page to say where it stopped,
try again later, cover with the house comedian, close. `comedy.club.ComedySet` is the pump that
owns the socket and the tasks and carries those actions out (websockets' sans-I/O core is the model).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from comedy import audio, endings, prompts, protocol, transcripts
from comedy.budget import Allowance
from comedy.ear import BARGE_IN, Ear, Faded, Verdict
from comedy.meters import Meters
from comedy.protocol import SAMPLE_RATE, Delta, Done, Event, Kind
from comedy.redaction import redact
from comedy.room import RoomReading
from comedy.room_window import RoomWindow
from comedy.speaker import Speaker
from comedy.spend import Spend
from comedy.stored_prompt import StoredPrompt

MAX_TAGS = 2  # tag lines in a row on laughs, before the comedian waits for the visitor
RETRIES = 2  # an answer that failed, stalled or was lost is asked for again this many times
REMEMBERED_LINES = 6  # the lines of the set a new session is told
PADDING_SECONDS = 0.3  # what the turn detection keeps from before a sound (its prefix_padding_ms)
WORDS_WAIT_SECONDS = 1.0  # a heckle's answer waits this long at most for its transcript
CENSORED_NOTE = "Your last line was cut off by the content filter before you finished it."


# --- what the stage asks the pump to do -----------------------------------------------------


@dataclass(frozen=True)
class Send:
    """Send this event to the Realtime session (`replace_settings`: in place of the remembered ones)."""

    event: Event
    replace_settings: bool = False


@dataclass(frozen=True)
class Play:
    """Play this audio of an answer's item."""

    item_id: str
    pcm: np.ndarray


@dataclass(frozen=True)
class Caption:
    """Words of an item, which arrived when `at` samples of its audio had: a player that keeps its
    own clock shows them once it has played that far."""

    item_id: str
    text: str
    at: int


@dataclass(frozen=True)
class EndOfAnswer:
    """The answer's audio is all there: play out its tail."""

    item_id: str


@dataclass(frozen=True)
class DropSpeech:
    """Drop everything queued or held by the player, at once."""


@dataclass(frozen=True)
class AwaitCut:
    """Wait (briefly) for the page's player to say where it fell silent, then call `finish_cut`."""


@dataclass(frozen=True)
class RetryLater:
    """Ask again (`ask_again(why)`) after `seconds`."""

    seconds: float
    why: str


@dataclass(frozen=True)
class Cover:
    """OpenAI is away: the house comedian fills the silence (`covered` says what was said)."""


@dataclass(frozen=True)
class Restart:
    """Open a fresh session (the API fixes the voice once spoken, and the model per connection)."""

    why: str


@dataclass(frozen=True)
class LoseSession:
    """The connection is given up: the next request connects again."""


@dataclass(frozen=True)
class Close:
    """End the set, saying why."""

    reason: str


@dataclass(frozen=True)
class ReadRoom:
    """Read the room after a punchline (tens of milliseconds of analysis: off the event loop),
    then hand the reading back to `Stage.room_read`. `laughed`: the laugh the set rode, if any."""

    audio: np.ndarray
    laughed: str
    joke: Turn | None


Action = (
    Send
    | Play
    | Caption
    | EndOfAnswer
    | DropSpeech
    | AwaitCut
    | RetryLater
    | Cover
    | Restart
    | LoseSession
    | Close
    | ReadRoom
)


@dataclass
class Turn:
    """One line of the transcript."""

    role: str  # "user" or "assistant"
    text: str = ""
    item_id: str | None = None
    note: str = ""  # e.g. "cut off", "house comedian"
    at: float = 0.0  # seconds into the set
    score: RoomReading | None = None  # a joke's: how the room took it
    latency: float | None = None  # a joke's: the visitor's turn ending -> its first audio heard
    cost: float = 0.0  # a joke's share of its answer's cost (USD)
    voice: str = ""  # a joke's voice

    def shown(self) -> str:
        """The line as the transcript shows it."""
        note = f" _({self.note})_" if self.note else ""
        return (self.text or "…") + note + (f" **[{score_words(self.score)}]**" if self.score else "")


def score_words(score: RoomReading) -> str:
    """A joke's score in words: what the room did, how long, how big the laugh."""
    if score.kind in ("laughter", "applause"):
        return f"{score.kind} {score.seconds:.1f} s, laugh {score.laugh:.2f}"
    return {"speech": "the room talked", "noise": "a cough and a shuffle"}.get(score.kind, "silence")


@dataclass
class Stage:
    """One visitor's set, as decisions: feed it events with their time, carry out what it returns."""

    set_up: prompts.SetUp
    tuning: prompts.Tuning
    meters: Meters
    started_at: float
    hands_free: bool = True
    rehearsal: bool = True
    key: str = field(default="", repr=False)  # masked in every error shown
    stored_prompt: StoredPrompt | None = None
    allowance: Allowance | None = None  # the visitor's share of the owner's money; None: not the owner's
    changed: Callable[[], None] = lambda: None  # told of every change the page shows
    transcript: list[Turn] = field(default_factory=list)
    status: str = "Not started"
    last_error: str = ""
    version: int = 0
    speaker: Speaker = field(default_factory=Speaker)
    room: RoomReading | None = None
    barges: int = 0  # cuts so far; the page drops its buffered audio on each
    responding: bool = False  # an answer is in progress on the server
    spoken: bool = False  # the comedian has spoken in this session: the voice is fixed
    closing: bool = False
    last_activity: float = 0.0
    _answering: Turn | None = None
    _last_request: str | None = None  # the visitor's line being answered, as said in words
    _request: list[Event] = field(default_factory=list)  # what asked for it, sent again to a new session
    _trigger: Event | None = None  # the response.create that asks (with its own instructions, if any)
    _retries_left: int = RETRIES
    _lost_answer: bool = False
    _cutting: str = ""
    _unheard: list[str] = field(default_factory=list)  # cut items never heard: deleted once the answer ends
    _in_sound: bool = False  # the server reported a sound that has not stopped yet
    around: RoomWindow = field(default_factory=RoomWindow)  # the room around the joke being told
    _joke: Turn | None = None  # the comedian's last line: the room's reaction scores it
    _answer_after_cancel: bool = False  # a heckle's answer waits for the cut answer to end
    _tags: int = 0
    _opener_item: str = ""
    censored: bool = False  # the last answer was cut by the content filter: the page shows a chip
    _tell_censored: bool = False  # the next answer hears of it, and makes a bit of it
    ear: Ear = field(default_factory=Ear)
    verdicts: list[Verdict] = field(default_factory=list)  # the last few sounds heard, for the meters
    _room_items: dict[str, float] = field(default_factory=dict)  # heard as the room: words may overrule
    _heckle_words: tuple[str, float] | None = None  # a heckle whose answer waits for its words (until)

    def __post_init__(self) -> None:
        self.last_activity = self.started_at
        self.money = Spend(self.allowance)  # the owner's money this set spends
        self._handlers: dict[str, Callable[[Event, float], list[Action]]] = {
            Kind.AUDIO_DELTA: self._on_audio,
            Kind.TRANSCRIPT_DELTA: self._on_words,
            Kind.TEXT_DELTA: self._on_words,
            Kind.RESPONSE_CREATED: self._on_created,
            Kind.RESPONSE_DONE: self._on_done,
            Kind.SPEECH_STARTED: self._on_speech_started,
            Kind.SPEECH_STOPPED: self._on_speech_stopped,
            Kind.COMMITTED: self._on_committed,
            Kind.HEARD: self._on_heard,
            Kind.NOT_HEARD: self._on_not_heard,
            Kind.ERROR: self._on_error,
            Kind.DISCONNECTED: self._on_disconnected,
            Kind.RECONNECTED: self._on_reconnected,
            Kind.GAVE_UP: self._on_gave_up,
            Kind.RESPONSE_TIMEOUT: self._on_timeout,
            Kind.PROTOCOL_ERROR: self._on_protocol_error,
        }

    # --- what the page shows

    def say(self, status: str | None = None, error: str | None = None) -> None:
        """Change the status or the last problem (masked); the page is told."""
        if status is not None and not self.closing:  # once closing, the reason stays
            self.status = status
        if error is not None:
            self.last_error = redact(error, self.key)
        self.version += 1
        self.changed()

    def at(self, now: float) -> float:
        """Seconds into the set at `now`."""
        return now - self.started_at

    def turn(self, role: str, item_id: str | None, now: float) -> Turn:
        """The transcript line of an item, made if it is new."""
        for turn in reversed(self.transcript):
            if turn.item_id == item_id and item_id is not None:
                return turn
        turn = Turn(role, item_id=item_id, at=self.at(now))
        self.transcript.append(turn)
        return turn

    # --- the session's settings and the owner's money

    def session_update(self) -> Event:
        """The session's settings for the set as it stands (the room's verdict on "auto", the cap)."""
        set_up = self.set_up
        if set_up.reaction == "auto":
            set_up = replace(set_up, reaction=self.room.reaction if self.room else "warming up")
        tuning = self.tuning
        cap = self.cap()
        if cap:
            tuning = replace(tuning, max_output_tokens=cap)  # answers the server starts keep the budget
        self.money.cap_sent = cap
        prompt = self.stored_prompt.reference(set_up) if self.stored_prompt else None
        return prompts.session_update(
            set_up,
            tuning,
            prompt=prompt,
            hands_free=self.hands_free,
            event_id=StoredPrompt.event_id() if prompt else None,
        )

    def cap(self) -> int | None:
        """The most output tokens the next answer may spend within the visitor's allowance (0: none
        fits); None when the owner's money is not being spent."""
        return self.money.cap(self.meters.prices, self.tuning.max_output_tokens)

    def _close(self, reason: str) -> list[Action]:
        self.closing = True
        return [Close(reason)]

    def ask(self) -> list[Action]:
        """Ask for an answer, capped so that its worst case stays within the budget; if not even a
        short answer fits, the set ends instead, saying why."""
        cap = self.cap()
        if cap == 0:
            return self._close(self.money.why_not(self.meters.prices))
        event = dict(self._trigger) if self._trigger else protocol.response_create()
        if cap is not None:
            event["response"] = {**(event.get("response") or {}), "max_output_tokens": cap}
        self.money.asked(self.meters.prices, cap)  # its worst case held until it is billed
        note, self._tell_censored = self._tell_censored, False
        return [Send(protocol.system_text(CENSORED_NOTE))] * note + [Send(event)]

    def request(
        self, content: list[Event], trigger: list[Event], now: float, line: str | None = None
    ) -> list[Action]:
        """The visitor asks for an answer: `content` (a line, or audio) then `trigger` (a commit, a
        response.create; none when turn detection answers by itself). A new session gets the
        content again if the answer is lost; `line` is the request in words, for the transcript."""
        asks = [e for e in trigger if e["type"] == "response.create"]
        self._request = [*content, *(e for e in trigger if e["type"] != "response.create")]
        self._trigger = asks[0] if asks else None
        self._last_request, self._retries_left = line, RETRIES
        self.last_activity = now
        self.meters.turn_ended(now)
        actions: list[Action] = [Send(e) for e in self._request]
        return actions + (self.ask() if asks else [])

    def release_hold(self) -> None:
        """The answers asked for were billed, lost or will never be: their worst case is not held."""
        self.money.release()

    def sent_microphone(self, seconds: float) -> list[Action]:
        """`seconds` of microphone audio went to the API: the next answer hears it, and its
        transcription is counted now, before it is billed (the bill itself is not counted again).
        Hands-free, only a reported sound is committed (with the turn detection's padding before
        it): the quiet between sounds costs nothing."""
        if self.hands_free and not self._in_sound:
            return []
        usd = self.money.heard(seconds)
        return self._spend(usd) if usd else []

    def _spend(self, usd: float) -> list[Action]:
        if self.allowance is None:
            return []
        self.money.spent(usd)
        cap = self.cap()
        if cap == 0:
            return self._close(self.money.why_not(self.meters.prices))
        return [Send(self.session_update())] if cap != self.money.cap_sent else []

    # --- the visitor's actions

    def ended(self, reason: str) -> None:
        """The set is over: the reason is the last status, and the set's best joke is named."""
        if best := self.best_joke():
            reason += f" Best joke: \u201c{best.text.strip()[:90]}\u201d ({score_words(best.score)})."
        self.closing, self.status = True, reason
        self.version += 1
        self.changed()

    def best_joke(self) -> Turn | None:
        """The joke the room laughed at most, if it laughed at any."""
        scored = [t for t in self.transcript if t.score is not None and t.score.laugh > 0]
        return max(scored, key=lambda t: t.score.laugh, default=None)

    def connected(self, note: str | None = None) -> None:
        """A new session is open: its audio timeline starts again."""
        self.spoken = False
        self.ear.restart()
        self.say("Connected: talk, or type a topic", note)

    def cut(self, why: str, now: float) -> list[Action] | None:
        """Stop the comedian at once, where the visitor stopped hearing (a heckle, a new topic);
        None when nothing was being said. The answer is cancelled and what is queued dropped; with
        a player that reports (the engine), the cut waits for its word on where it fell silent."""
        unheard = self.speaker.unheard()
        if not (self.responding or unheard):
            return None
        self._cutting = why
        actions: list[Action] = [DropSpeech()]
        if self.responding:
            actions.append(Send(protocol.response_cancel()))
        if self.speaker.reports and unheard:
            return [*actions, AwaitCut()]
        return actions + self.finish_cut(now)

    def finish_cut(self, now: float) -> list[Action]:
        """The second half of a cut: truncate the item being heard where it was heard (never past
        what arrived); items after it that were never heard are deleted once the answer ends."""
        why, actions = self._cutting, []
        if (cut := self.speaker.cut()) is not None:
            actions.append(Send(protocol.item_truncate(cut.item_id, cut.heard_ms)))
            self.turn("assistant", cut.item_id, now).note = f"{why}: cut at {cut.heard_ms / 1000:.1f} s"
            for item_id in cut.later:
                self.turn("assistant", item_id, now).note = f"{why}: not heard"
            self._unheard += cut.later
            if not self.responding:
                actions += self._forget_unheard()
        self.barges += 1
        return actions

    def _forget_unheard(self) -> list[Action]:
        unheard, self._unheard = self._unheard, []
        return [Send(protocol.item_delete(item_id)) for item_id in unheard]

    def new_topic(self, topic: str) -> list[Action]:
        """The visitor typed a topic: the session is told (the cut of the joke being told is apart)."""
        if topic and topic != self.set_up.topic:
            self.set_up = replace(self.set_up, topic=topic)
            return [Send(self.session_update())]
        return []

    def joke(self, topic: str, now: float) -> list[Action]:
        """Ask for a joke about the topic, as the visitor's line."""
        self._tags = 0
        request = prompts.joke_request(topic)
        self.transcript.append(Turn("user", request, at=self.at(now)))
        self.say()
        return self.request([protocol.user_text(request)], [protocol.response_create()], now, line=request)

    def change(self, set_up: prompts.SetUp, hands_free: bool | None, model: str | None) -> list[Action]:
        """New choices mid-set: a session.update, or a fresh session where the API needs one."""
        voice_changed = set_up.voice != self.set_up.voice
        model_changed = model is not None and model != self.tuning.model
        self.set_up = set_up
        if hands_free is not None:
            self.hands_free = hands_free
        if model_changed:
            self.tuning = replace(self.tuning, model=model)
            return [Restart(f"the model {model}")]
        if voice_changed and self.spoken:
            return [Restart("a new voice")]
        return [Send(self.session_update())]

    def committed(self) -> list[Action]:
        """Push-to-talk released: what the visitor said is one turn, answered now."""
        return [Send(protocol.audio_commit()), *self.ask()]

    def remind(self, skip: str | None = None) -> list[Action]:
        """Tell a new session the last lines of the set (never the house comedian's covers, nor
        `skip`, which is about to be asked again)."""
        actions: list[Action] = []
        for turn in self.transcript[-REMEMBERED_LINES:]:
            if not turn.text or turn.note.startswith("house comedian") or turn.text == skip:
                continue
            remembered = protocol.user_text if turn.role == "user" else protocol.assistant_text
            actions.append(Send(remembered(turn.text)))
        return actions

    def retell(self, status: str) -> list[Action]:
        """A new session knows nothing of the set: remind it, and ask again for an answer a drop lost."""
        lost, self._lost_answer = self._lost_answer, False
        actions = self.remind(skip=self._last_request if lost else None)
        self.say(status)
        if lost:
            actions += self.ask_again("the connection dropped mid-answer", conversation_lost=True)
        return actions

    def ask_again(self, why: str, conversation_lost: bool = False) -> list[Action]:
        """Retry the last answer a couple of times, saying so."""
        if self._retries_left <= 0:
            self.say("Connected: your turn", f"Gave up after {why}. Try again.")
            return []
        self._retries_left -= 1
        self.say(f"Trying again: {why}")
        actions: list[Action] = []
        if conversation_lost:  # a new session has no conversation: ask again with the same content
            actions += [Send(e) for e in self._request]
        return actions + self.ask()

    def greet(self, line: str, now: float) -> list[Action]:
        """The show starts with no opener ready: the session says the opening line at once."""
        ask = protocol.response_create(instructions=prompts.audition_instructions(line, self.set_up.style))
        return self.request([], [ask], now)

    def opened(self, line: str, item_id: str, now: float) -> None:
        """The cached opener is playing while the session connects: it is the set's first line."""
        self.transcript.append(
            Turn("assistant", line, item_id, "opener", self.at(now), voice=self.set_up.voice)
        )
        self._opener_item = item_id
        self.say()

    @property
    def opening(self) -> bool:
        """Only the opener is playing: a first request follows it rather than cutting it."""
        return not self.responding and self.speaker.unheard() == [self._opener_item]

    def covered(self, line: str, item_id: str, now: float) -> None:
        """The house comedian said `line` while OpenAI was away."""
        self.transcript.append(Turn("assistant", line, item_id, "house comedian covers", self.at(now)))
        self.say()

    # --- the speaker's and the room's side

    def first_heard(self, item_id: str, at: float) -> None:
        """An item's first sample reached the visitor at `at`: the latency clock may stop."""
        if self.speaker.heard_first(item_id, at) and (latency := self.meters.audio_played(at)) is not None:
            self.turn("assistant", item_id, at).latency = latency
            self.say()

    def punchline_landed(self, at: float) -> None:
        """An answer finished playing at `at`: the room is listened to for a few seconds after."""
        self.around.landed(at)

    @property
    def listening_to_room(self) -> bool:
        """Whether a punchline landed and the room is being listened to."""
        return self.around.listening

    def microphone(
        self,
        pcm: np.ndarray,
        now: float,
        settled: bool | None = None,
        linear: np.ndarray | None = None,
        near: np.ndarray | None = None,
    ) -> list[Action]:
        """The visitor's microphone, as sent (`linear`: the echo canceller's linear output beside it,
        `near` where it holds someone besides the comedian; `settled`: the canceller has learned
        the room, None: no echo in the microphone): the ear
        hears the sounds the server reports, rides the room's laughs, and after a punchline the room
        is read for the joke's score."""
        verdict, faded = self.ear.heard(pcm, now, self.talking, settled, linear, near)
        actions = self._words_overdue(now) + (self._verdict(verdict, now) if verdict else [])
        if faded is not None:
            actions += self._faded(faded)
        if self.around.hear(pcm, now, laughing=bool(self.ear.laughing)):
            actions += self._read_the_room(now)
        return actions

    def _faded(self, faded: Faded) -> list[Action]:
        """A laugh the comedian rode is over: it scores the joke, and after a punchline the
        comedian goes on with a tag line."""
        self.around.faded(faded.kind, faded.audio)
        self.say("Performing…" if self.responding else "Connected: your turn")
        return []

    def _read_the_room(self, now: float) -> list[Action]:
        heard, laughed = self.around.take()
        if len(heard) < SAMPLE_RATE // 2:
            return []  # too little to tell
        return [ReadRoom(heard, laughed, self._joke)]

    def room_read(self, reading: RoomReading, asked: ReadRoom, now: float) -> list[Action]:
        """The room's reading after a punchline: the joke's score, the session told on "auto",
        and a tag line if the set rode a laugh."""
        self.room = reading
        if asked.joke is not None:
            asked.joke.score = reading
        self.say()
        actions: list[Action] = [Send(self.session_update())] if self.set_up.reaction == "auto" else []
        if asked.laughed and reading.kind in ("laughter", "applause"):
            actions += self._tag(asked.laughed, now)
        return actions

    def _tag(self, laughed: str, now: float) -> list[Action]:
        """Ride the laugh: a short tag line on the same joke (a few in a row at most)."""
        if not self.hands_free or self.responding or self.ear.deciding or self._tags >= MAX_TAGS:
            return []
        self._tags += 1
        ask = protocol.response_create(instructions=prompts.tag_instructions(self.set_up, laughed))
        return self.request([], [ask], now)

    # --- server events

    def on_event(self, event: Event, now: float) -> list[Action]:
        """One server (or `local.*`) event in; what to do about it out."""
        handler = self._handlers.get(event["type"])
        return self._words_overdue(now) + (handler(event, now) if handler is not None else [])

    def _on_audio(self, event: Event, now: float) -> list[Action]:
        delta = Delta.read(event)
        pcm = audio.pcm16_array(delta.pcm16)
        self.speaker.arrived(delta.item_id, len(pcm))
        self.spoken = True
        return [Play(delta.item_id, pcm)]

    def _on_words(self, event: Event, now: float) -> list[Action]:
        delta = Delta.read(event)
        self._answering = self._joke = self.turn("assistant", delta.item_id or None, now)
        if not self._answering.text:
            self._answering.at, self._answering.voice = self.at(now), self.set_up.voice
        self._answering.text += delta.text
        self.say()
        if not delta.item_id:
            return []
        return [Caption(delta.item_id, delta.text, self.speaker.received.get(delta.item_id, 0))]

    def _on_created(self, event: Event, now: float) -> list[Action]:
        self.responding = True
        self.speaker.new_answer()
        actions = self._read_the_room(now) if self.around.listening else []  # the room has spoken
        self.around.new_joke()
        self.say("Performing…")
        return actions

    def _on_done(self, event: Event, now: float) -> list[Action]:
        done = Done.read(event)
        ending = endings.read(done.response)
        self._answering, self.responding = None, False
        self.release_hold()  # billed below, by its usage
        actions: list[Action] = []
        if ending.status != "cancelled":
            actions.append(EndOfAnswer(self.speaker.last_item or ""))  # play out the tail
        if done.usage is not None:
            self.money.billed(done.usage)
            usd = self.meters.add_usage(done.usage)
            for item_id in done.output_ids:
                self.turn("assistant", item_id, now).cost = usd / len(done.output_ids)
            actions += self._spend(usd)
        actions += self._forget_unheard()
        if self._answer_after_cancel:  # a heckle cut this answer: now answer the heckle
            self._answer_after_cancel = False
            actions += self.ask()
        for item_id in done.output_ids:
            turn = self.turn("assistant", item_id, now)
            if ending.note and (not turn.note or ending.failed):
                turn.note = ending.note
        self.censored = ending.censored
        self._tell_censored = self._tell_censored or ending.censored
        if ending.failed:
            self.say(error=ending.words)
            actions += self.ask_again("the answer failed")
        elif ending.status == "incomplete":
            self.say(error=ending.words)
        elif ending.status == "completed":
            self.last_error = ""  # the set is well again: the last problem is over
        self.say("Connected: your turn")
        return actions

    def _on_speech_started(self, event: Event, now: float) -> list[Action]:
        self.last_activity = now
        self._in_sound = True
        padding = self.sent_microphone(PADDING_SECONDS)  # the audio before the report is committed too
        item_id = str(event.get("item_id") or protocol.new_id("item"))
        self.turn("user", item_id, now).note = "listening…"
        self.say("Listening…")
        verdict = self.ear.started(item_id, event.get("audio_start_ms"), self.talking, now)
        return padding + (self._verdict(verdict, now) if verdict else [])

    @property
    def talking(self) -> bool:
        """The comedian is talking: an answer is coming, or the page has not played all of one."""
        return self.responding or bool(self.speaker.unheard())

    def _verdict(self, verdict: Verdict, now: float) -> list[Action]:
        """The ear heard what a sound is: speech is a heckle or a turn; anything else never is.
        A verdict with no item is the set's own barge-in: the server's report of the sound, and
        the visitor's turn with it, come after."""
        self.verdicts = [*self.verdicts[-49:], verdict]
        turn = self.turn("user", verdict.item_id, now) if verdict.item_id != BARGE_IN else None
        if verdict.hearing.kind == "speech":
            self._room_items.pop(verdict.item_id, None)
            self._tags = 0
            self.ear.stop_riding()  # the visitor's turn comes before any tag line
            cut = self.cut("heckled", now) if verdict.talking else None
            if turn is not None:
                turn.note = "heckle" if verdict.talking else ""
            elif cut is not None:
                self.say("Heckled: listening…")
            return cut or []
        if turn is not None:
            self.transcript.remove(turn)  # the room's sound is not the visitor's line...
        if not verdict.hearing.reacts:
            self.say("Performing…" if self.responding else "Connected: your turn")
            return [Send(protocol.audio_clear())]  # a cough, noise, the comedian's own echo: never a turn
        if turn is not None:
            self._room_items[verdict.item_id] = now  # ...unless its transcript holds words
        self.ear.ride(verdict.hearing.kind, now)
        laughing = verdict.hearing.kind == "laughter"
        self.say("The room is laughing: riding it…" if laughing else "Applause: riding it…")
        # Not cleared: the server commits the laugh, and its transcript settles it (`_on_heard`);
        # a heckle that follows in the same sound keeps its start.
        return []

    def _on_speech_stopped(self, event: Event, now: float) -> list[Action]:
        self._in_sound = False
        item_id = str(event.get("item_id") or "")
        verdict = self.ear.stopped(item_id, now)
        actions = self._verdict(verdict, now) if verdict else []
        if self.ear.kinds.get(item_id, "speech") != "speech":
            return actions  # the room's sound: its transcript settles it
        turn = self.turn("user", item_id, now)
        if turn.note == "heckle":  # its words say whether it was a heckle or a laugh the ear misheard
            self._heckle_words = (item_id, now + WORDS_WAIT_SECONDS)
            self.say("Heckled: listening…")
            return actions
        return actions + self._answer_turn(now)

    def _answer_turn(self, now: float) -> list[Action]:
        """The visitor's committed audio is the request: answer it (once a cut answer has ended)."""
        self._last_request, self._retries_left = None, RETRIES
        self._request, self._trigger = [], protocol.response_create()
        self.meters.turn_ended(now)
        self.say("Thinking…")
        if self.responding:  # the cut answer is still ending: answer once it has
            self._answer_after_cancel = True
            return []
        return self.ask()

    def _words_overdue(self, now: float) -> list[Action]:
        """A heckle's transcript is late: answer the heckle without it."""
        if self._heckle_words is None or now < self._heckle_words[1]:
            return []
        self._heckle_words = None
        return self._answer_turn(now)

    def _on_committed(self, event: Event, now: float) -> list[Action]:
        item_id = str(event.get("item_id") or "")
        if self.ear.kinds.get(item_id, "speech") != "speech" and item_id not in self._room_items:
            return [Send(protocol.item_delete(item_id))]  # the room's sound never stays a turn
        return []

    def _on_heard(self, event: Event, now: float) -> list[Action]:
        item_id, text = str(event.get("item_id")), str(event.get("transcript") or "")
        actions: list[Action] = []
        if isinstance(event.get("usage"), dict):
            self.meters.add_transcription(event["usage"], protocol.TRANSCRIPTION_MODEL)  # counted when sent
        if item_id in self._room_items:
            del self._room_items[item_id]
            comedian = [t.text for t in self.transcript[-REMEMBERED_LINES:] if t.role == "assistant"]
            if transcripts.said(text) == "words" and not transcripts.echoes(text, comedian):
                return actions + self._late_speech(item_id, text, now)
            return [*actions, Send(protocol.item_delete(item_id))]  # the room's sound never stays a turn
        if self.ear.kinds.get(item_id, "speech") != "speech":
            return actions  # a laugh's transcript: not the visitor's line
        self.turn("user", item_id, now).text = text
        if self._heckle_words is not None and self._heckle_words[0] == item_id:
            self._heckle_words = None
            if transcripts.said(text) == "laughter":
                return actions + self._laughed_not_heckled(item_id, now)
            return actions + self._answer_turn(now)
        self.say()
        return actions

    def _on_not_heard(self, event: Event, now: float) -> list[Action]:
        """The transcription failed: the ear's verdict stands (a room sound is deleted, a heckle answered)."""
        return self._on_heard({**event, "transcript": "", "usage": None}, now)

    def _late_speech(self, item_id: str, text: str, now: float) -> list[Action]:
        """A sound the ear took for the room said words: it was the visitor talking. Answer it
        (cutting the comedian if it talks)."""
        self.ear.kinds[item_id] = "speech"
        turn = self.turn("user", item_id, now)
        turn.text, turn.note = text, "heard late"
        cut = self.cut("heckled", now) or []
        return cut + self._answer_turn(now)

    def _laughed_not_heckled(self, item_id: str, now: float) -> list[Action]:
        """The ear took a laugh for a heckle and cut the comedian: its words say it was laughter.
        The sound is no turn; the comedian picks up where it was cut."""
        self.ear.kinds[item_id] = "laughter"
        turn = self.turn("user", item_id, now)
        self.transcript.remove(turn)
        self._last_request, self._retries_left = None, RETRIES
        self._request = []
        self._trigger = protocol.response_create(instructions=prompts.resume_instructions(self.set_up))
        self.say("The room laughed: picking up…")
        actions: list[Action] = [Send(protocol.item_delete(item_id))]
        if self.responding:
            self._answer_after_cancel = True
            return actions
        return actions + self.ask()

    def _on_error(self, event: Event, now: float) -> list[Action]:
        error = protocol.ApiError.from_event(event)
        if error.code == "response_cancel_not_active":
            return []  # a heckle raced the server's own cancel: nothing to say
        if self.stored_prompt is not None and self.stored_prompt.refuses(error):
            note = self.stored_prompt.refuse(error)  # the API dropped the whole update: again, templated
            self.say(error=note)
            return [Send(self.session_update(), replace_settings=True)]
        self.say(error=str(error))
        if not error.retryable:
            return []
        seconds = error.retry_after or 1.0
        self.say(f"The Realtime API is busy: trying again in {seconds:.1f} s")
        return [RetryLater(min(seconds, 10.0), "the Realtime API was busy")]

    def _on_disconnected(self, event: Event, now: float) -> list[Action]:
        self.release_hold()  # the answer in flight is lost: asked again, it is held again
        if self._answering is not None:
            self._answering.note = "cut off: the connection dropped"
            self._answering = None
        self.responding = False
        self._lost_answer = self._lost_answer or bool(event.get("lost_answer"))
        expired = "session_expired" in event["message"]  # the API's 60-minute limit, said already
        self.say("Reconnecting…", None if expired else event["message"])
        return [DropSpeech()] + ([] if self.rehearsal else [Cover()])

    def _on_reconnected(self, event: Event, now: float) -> list[Action]:
        return self.retell("Connected again: the set goes on")

    def _on_gave_up(self, event: Event, now: float) -> list[Action]:
        self.say("Not connected: the set goes on with your next request", event["message"])
        return [LoseSession()]

    def _on_timeout(self, event: Event, now: float) -> list[Action]:
        self.say(error=event["message"])
        return [Send(protocol.response_cancel()), *self.ask_again("the answer stalled")]

    def _on_protocol_error(self, event: Event, now: float) -> list[Action]:
        self.say(error=event["message"])
        return []


__all__ = ["Action", "ReadRoom", "Stage", "Turn"]
