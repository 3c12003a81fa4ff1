"""A cut in two halves, and what the set asked for: the pieces of an answer's lifecycle that keep
records of their own. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from comedy.realtime import protocol
from comedy.realtime.protocol import Event
from comedy.stage.actions import Action, DropSpeech, Note, Send
from comedy.stage.floor import Floor
from comedy.stage.speaker import Speaker
from comedy.stage.transcript import Transcript

RETRIES = 2  # an answer that failed, stalled or was lost is asked for again this many times


@dataclass
class Asked:
    """What asked for the answer: its content (a line, audio) and trigger, sent again to a new
    session if the answer is lost; the visitor's line in words; the retries left."""

    content: list[Event] = field(default_factory=list)
    trigger: Event | None = None  # the response.create that asks (with its own instructions)
    line: str | None = None
    retries_left: int = RETRIES


class Cutting:
    """The comedian stopped where the visitor stopped hearing: the speech dropped at once, then,
    once the player says where it fell silent, the item truncated there and the unheard deleted."""

    def __init__(self, speaker: Speaker, floor: Floor, transcript: Transcript) -> None:
        self.speaker, self.floor, self.transcript = speaker, floor, transcript
        self.why = ""
        self.dropping = False  # a cut waits for the player's word: what it held is gone
        self.unheard: list[str] = []  # cut items never heard: deleted once the answer ends

    def start(self, why: str, now: float) -> list[Action]:
        """The first half: what is queued is dropped."""
        self.why, self.dropping = why, True
        self.floor.cut(now)
        return [DropSpeech()]

    def finish(self, now: float, responding: bool) -> list[Action]:
        """The second half: truncate the item being heard where it was heard (never past what
        arrived); items after it that were never heard are deleted once the answer ends."""
        self.dropping = False
        actions: list[Action] = []
        if (cut := self.speaker.cut()) is not None:
            actions.append(Send(protocol.item_truncate(cut.item_id, cut.heard_ms)))
            heard_s = cut.heard_ms / 1000
            self.transcript.turn("assistant", cut.item_id, now).note = f"{self.why}: cut at {heard_s:.1f} s"
            for item_id in cut.later:
                self.transcript.turn("assistant", item_id, now).note = f"{self.why}: not heard"
            self.unheard += cut.later
            if not responding:
                actions += self.forget_unheard()
        return [*actions, Note(cut=True)]

    def forget_unheard(self) -> list[Action]:
        """The answer ended: the cut items nobody heard are deleted."""
        unheard, self.unheard = self.unheard, []
        return [Send(protocol.item_delete(item_id)) for item_id in unheard]
