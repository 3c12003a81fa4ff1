"""The Realtime session's settings for a set as it stands: the visitor's choices, the owner's
tuning, the room's verdict on "auto", and the cap that keeps the next answer within the money."""

from __future__ import annotations

from dataclasses import dataclass, replace

from comedy import prompts
from comedy.money.meters import Meters
from comedy.money.spend import Spend
from comedy.prompts.stored import StoredPrompt
from comedy.realtime.protocol import Event
from comedy.sound.room import RoomReading
from comedy.stage.tonight import render as render_tonight
from comedy.stage.transcript import Transcript


@dataclass
class SessionSettings:
    """The choices and money that shape each `session.update` and `response.create`."""

    set_up: prompts.SetUp
    tuning: prompts.Tuning
    meters: Meters
    money: Spend
    hands_free: bool = True
    stored_prompt: StoredPrompt | None = None
    room: RoomReading | None = None  # the room reader's last verdict
    transcript: Transcript | None = None  # the set's lines: tonight's record is read off them

    def tonight(self) -> str:
        """Tonight so far, for the instructions (`comedy.stage.tonight`)."""
        return render_tonight(self.transcript) if self.transcript is not None else ""

    def shown_set_up(self) -> prompts.SetUp:
        """The visitor's choices as the comedian is told them: on "auto", the room's verdict."""
        if self.set_up.reaction != "auto":
            return self.set_up
        return replace(self.set_up, reaction=self.room.reaction if self.room else "warming up")

    def instructions(self) -> str:
        """The comedian's instructions for the set as it stands, tonight's record last."""
        return prompts.instructions(self.shown_set_up(), self.tonight())

    def session_update(self) -> Event:
        """The `session.update` for the set as it stands (the room's verdict on "auto", the cap)."""
        set_up = self.shown_set_up()
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
            tonight=self.tonight(),
        )

    def cap(self) -> int | None:
        """The most output tokens the next answer may spend within the visitor's allowance (0: none
        fits); None when the owner's money is not being spent."""
        return self.money.cap(self.meters.prices, self.tuning.max_output_tokens)

    def why_not(self) -> str:
        """Why not even a short answer fits."""
        return self.money.why_not(self.meters.prices)

    def cap_moved(self) -> bool:
        """The cap differs from the one the session was last told."""
        return self.cap() != self.money.cap_sent

    def new_topic(self, topic: str) -> bool:
        """The visitor typed a topic; True when the session is to be told: the topic is new, or the
        room was last read as heckling (a typed request is no heckle: the next joke is the topic's)."""
        heckled = self.room is not None and self.room.reaction == "heckling"
        if heckled:
            self.room = None
        if not topic or topic == self.set_up.topic:
            return heckled
        self.set_up = replace(self.set_up, topic=topic)
        return True
