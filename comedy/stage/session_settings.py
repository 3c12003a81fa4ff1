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

    def session_update(self) -> Event:
        """The `session.update` for the set as it stands (the room's verdict on "auto", the cap)."""
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
