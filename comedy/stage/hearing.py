"""The room side of a set: what each sound the visitor's microphone holds is (the ear's verdicts),
the visitor's turns and heckles, the laughs the comedian rides with a tag line, and the room's
reading after a punchline that scores the joke. Pure: microphone audio and server events in,
actions out; the answer itself is the lifecycle's.

Hold first, decide after: a sound over the comedian (the set's own first sight of it, or the
server's report, whichever comes first) holds the player at once (`comedy.stage.floor`); the ear's
verdict then resumes it (noise, the comedian's echo), holds on for the laugh, or cuts (speech)."""

from __future__ import annotations

import numpy as np

from comedy import prompts
from comedy.realtime import protocol
from comedy.realtime.protocol import Event
from comedy.sound import transcripts
from comedy.sound.ear import BARGE_IN, Ear, Faded, Verdict
from comedy.sound.tape import loud as ear_loud
from comedy.stage.actions import Action, Note, Send
from comedy.stage.crowd import Crowd
from comedy.stage.floor import HELD, OPEN, RIDING, Floor
from comedy.stage.lifecycle import Lifecycle

PADDING_SECONDS = 0.3  # what the turn detection keeps from before a sound (its prefix_padding_ms)
WORDS_WAIT_SECONDS = 1.0  # a heckle's answer waits this long at most for its transcript
VERDICTS_KEPT = 50


class Hearing:
    """The set's ear on the room, and what the set does with what it hears."""

    def __init__(self, answers: Lifecycle) -> None:
        self.answers = answers
        self.transcript, self.settings = answers.transcript, answers.settings
        self.ear = Ear()
        self.crowd = Crowd(answers, self.ear)  # the room around the jokes: scores and tag lines
        self.verdicts: list[Verdict] = []  # the last few sounds heard, for the meters
        self._in_sound = False  # the server reported a sound that has not stopped yet
        self._room_items: dict[str, float] = {}  # heard as the room: words may overrule
        self._heckle_words: tuple[str, float] | None = None  # a heckle whose answer waits for its words

    def _carry_on(self) -> Note:
        return Note("Performing…" if self.answers.responding else "Connected: your turn")

    @property
    def floor(self) -> Floor:
        """The floor while the comedian talks (the answer's lifecycle owns it)."""
        return self.answers.floor

    def hold_due(self, now: float) -> list[Action]:
        """A hold's deadline: the comedian goes on unless the ear is still hearing the sound."""
        held = self.floor.state is not OPEN
        actions = self.floor.due(now, self.ear.deciding)
        if held and self.floor.state is OPEN:
            actions.append(self._carry_on())
        return actions

    def _may_hold(self) -> bool:
        """Whether a new sound may hold the comedian: not over a laugh it held for as long as it
        holds for one (it goes on over the rest; a heckle in it still cuts)."""
        return self.floor.state is not RIDING and self.answers.can_hold and self.ear.laughing is None

    def _resume(self, now: float, riding: bool = False) -> list[Action]:
        """The sound over the comedian was not someone talking: it goes on."""
        if self.floor.state is not (RIDING if riding else HELD):
            return []
        return self.floor.resume(now)

    # --- the microphone

    def sent_microphone(self, seconds: float) -> list[Action]:
        """`seconds` of microphone audio went to the API: the next answer hears it, and its
        transcription is counted now, before it is billed (the bill itself is not counted again).
        Hands-free, only a reported sound is committed (with the turn detection's padding before
        it): the quiet between sounds costs nothing."""
        if self.settings.hands_free and not self._in_sound:
            return []
        usd = self.settings.money.heard(seconds)
        return self.answers.spend(usd) if usd else []

    def microphone(
        self,
        pcm: np.ndarray,
        now: float,
        settled: bool | None = None,
        linear: np.ndarray | None = None,
        near: np.ndarray | None = None,
    ) -> list[Action]:
        """Microphone audio as sent to the API (after echo cancellation; `linear`: the canceller's
        linear output beside it, `near` where it holds someone besides the comedian; `settled`: the
        canceller has learned the room, None: no echo in the microphone): the ear hears the sounds
        the server reports, rides the room's laughs, and after a punchline the room is read."""
        verdict, faded = self.ear.heard(pcm, now, self.answers.talking, settled, linear, near)
        actions = self.words_overdue(now)
        # loud in the canceller's linear output, where a voice comes through whole (its suppressor
        # holds a sound down for the first moments of double talk, and a hold must not take that
        # for quiet); with the comedian held there is no echo left in it to mistake
        loud = ear_loud(pcm if linear is None else linear)
        if self._may_hold() and self.ear.sounding(pcm, settled):
            actions += [*self.floor.sound("onset", now, echo=settled is not None), Note("Listening…")]
        actions += self.floor.heard(loud, now)
        actions += self._verdict(verdict, now) if verdict else []
        if faded is not None:
            actions += self._faded(faded, now)
        actions += self.hold_due(now)
        if self.crowd.window.hear(pcm, now, laughing=bool(self.ear.laughing)):
            actions += self.crowd.read_the_room(now)
        return actions

    def _faded(self, faded: Faded, now: float) -> list[Action]:
        """A laugh the comedian rode is over: it scores the joke, and a comedian holding for it
        goes on."""
        self.crowd.window.faded(faded.kind, faded.audio)
        return [self._carry_on(), *self._resume(now, riding=True)]

    @property
    def in_sound(self) -> bool:
        """Whether the server has reported a sound (a voice, a laugh) that has not stopped yet."""
        return self._in_sound

    @property
    def heckle_pending(self) -> bool:
        """A heckle is heard and waits for its words before it is answered."""
        return self._heckle_words is not None

    # --- the server's reports of the visitor's sounds

    def on_speech_started(self, event: Event, now: float) -> list[Action]:
        """A sound began: the ear decides what it is."""
        self._in_sound = True
        padding = self.sent_microphone(PADDING_SECONDS)  # the audio before the report is committed too
        item_id = str(event.get("item_id") or protocol.new_id("item"))
        self.transcript.turn("user", item_id, now).note = "listening…"
        listening = Note("Listening…", active_at=now)
        verdict = self.ear.started(item_id, event.get("audio_start_ms"), self.answers.talking, now)
        may_hold = self._may_hold()
        hold = self.floor.sound("reported", now, deciding=True, echo=self.ear.echo) if may_hold else []
        return [*padding, listening, *hold, *(self._verdict(verdict, now) if verdict else [])]

    def _verdict(self, verdict: Verdict, now: float) -> list[Action]:
        """The ear heard what a sound is: speech is a heckle or a turn; anything else never is.
        A verdict with no item is the set's own barge-in: the server's report of the sound, and
        the visitor's turn with it, come after."""
        self.verdicts = [*self.verdicts[-(VERDICTS_KEPT - 1) :], verdict]
        turn = self.transcript.turn("user", verdict.item_id, now) if verdict.item_id != BARGE_IN else None
        if verdict.hearing.kind == "speech":
            return self._speech(verdict, turn, now)
        if turn is not None:
            self.transcript.remove(turn)  # the room's sound is not the visitor's line...
        if not verdict.hearing.reacts:
            # a cough, noise, the comedian's own echo: never a turn, and the comedian goes on once
            # it is over (a sound still going may yet be heard as talk)
            resume = [] if self.floor.loud else self._resume(now)
            return [self._carry_on(), Send(protocol.audio_clear()), *resume]
        if turn is not None:
            self._room_items[verdict.item_id] = now  # ...unless its transcript holds words
        self.ear.ride(verdict.hearing.kind, now)
        laughing = verdict.hearing.kind == "laughter"
        # held for the laugh; a hold already let go (the microphone went quiet) is not taken up
        # again, and the comedian talks over the rest of that laugh
        held = self.floor.state is HELD
        hold = self.floor.laugh(verdict.hearing.kind, now) if self.answers.can_hold and held else []
        if self.floor.state is RIDING:
            note = Note("Holding for the laugh…" if laughing else "Holding for the applause…")
        else:
            note = Note("The room is laughing: riding it…" if laughing else "Applause: riding it…")
        # Not cleared: the server commits the laugh, and its transcript settles it (`on_heard`);
        # a heckle that follows in the same sound keeps its start.
        return [*hold, note]

    def _speech(self, verdict: Verdict, turn, now: float) -> list[Action]:
        """The visitor spoke: over the comedian, a heckle that cuts it."""
        self._room_items.pop(verdict.item_id, None)
        self.crowd.tags = 0
        self.ear.stop_riding()  # the visitor's turn comes before any tag line
        cut = self.answers.cut("heckled", now) if verdict.talking else None
        if turn is not None:
            turn.note = "heckle" if verdict.talking else ""
        elif cut is not None:
            cut = [*cut, Note("Heckled: listening…")]
        return cut or []

    def on_speech_stopped(self, event: Event, now: float) -> list[Action]:
        """A sound ended: the visitor's turn is answered (a heckle once its words are in)."""
        self._in_sound = False
        item_id = str(event.get("item_id") or "")
        verdict = self.ear.stopped(item_id, now)
        actions = self._verdict(verdict, now) if verdict else []
        if self.ear.kinds.get(item_id, "speech") != "speech":
            return actions  # the room's sound: its transcript settles it
        turn = self.transcript.turn("user", item_id, now)
        if turn.note == "heckle":  # its words say whether it was a heckle or a laugh the ear misheard
            self._heckle_words = (item_id, now + WORDS_WAIT_SECONDS)
            return [*actions, Note("Heckled: listening…")]
        return actions + self.answers.answer_turn(now)

    def words_overdue(self, now: float) -> list[Action]:
        """A heckle's transcript is late: answer the heckle without it."""
        if self._heckle_words is None or now < self._heckle_words[1]:
            return []
        self._heckle_words = None
        return self.answers.answer_turn(now)

    def on_committed(self, event: Event, now: float) -> list[Action]:
        """The server committed a sound: the room's sound never stays a turn."""
        item_id = str(event.get("item_id") or "")
        if self.ear.kinds.get(item_id, "speech") != "speech" and item_id not in self._room_items:
            return [Send(protocol.item_delete(item_id))]
        return []

    def on_heard(self, event: Event, now: float) -> list[Action]:
        """A sound's transcript: the visitor's line, or words that overrule the ear's verdict."""
        item_id, text = str(event.get("item_id")), str(event.get("transcript") or "")
        if isinstance(event.get("usage"), dict):
            self.settings.meters.add_transcription(event["usage"], protocol.TRANSCRIPTION_MODEL)
        if item_id in self._room_items:
            del self._room_items[item_id]
            said_words = transcripts.said(text) == "words"
            if said_words and not transcripts.echoes(text, self.transcript.comedian_lately()):
                return self._late_speech(item_id, text, now)
            return [Send(protocol.item_delete(item_id))]  # the room's sound never stays a turn
        if self.ear.kinds.get(item_id, "speech") != "speech":
            return []  # a laugh's transcript: not the visitor's line
        self.transcript.turn("user", item_id, now).text = text
        if self._heckle_words is not None and self._heckle_words[0] == item_id:
            self._heckle_words = None
            if transcripts.said(text) == "laughter":
                return self._laughed_not_heckled(item_id, now)
            return self.answers.answer_turn(now)
        return [Note()]

    def on_not_heard(self, event: Event, now: float) -> list[Action]:
        """The transcription failed: the ear's verdict stands (a room sound is deleted, a heckle answered)."""
        return self.on_heard({**event, "transcript": "", "usage": None}, now)

    def _late_speech(self, item_id: str, text: str, now: float) -> list[Action]:
        """A sound the ear took for the room said words: it was the visitor talking. Answer it
        (cutting the comedian if it talks)."""
        self.ear.kinds[item_id] = "speech"
        turn = self.transcript.turn("user", item_id, now)
        turn.text, turn.note = text, "heard late"
        cut = self.answers.cut("heckled", now) or []
        return cut + self.answers.answer_turn(now)

    def _laughed_not_heckled(self, item_id: str, now: float) -> list[Action]:
        """The ear took a laugh for a heckle and cut the comedian: its words say it was laughter.
        The sound is no turn; the comedian picks up where it was cut."""
        self.ear.kinds[item_id] = "laughter"
        self.transcript.remove(self.transcript.turn("user", item_id, now))
        resume = prompts.resume_instructions(self.settings.shown_set_up(), self.settings.tonight())
        picking_up = Note("The room laughed: picking up…")
        return [
            picking_up,
            Send(protocol.item_delete(item_id)),
            *self.answers.answer_turn(now, instructions=resume),
        ]
