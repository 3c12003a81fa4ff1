"""The room around the jokes: what it did after each punchline (read off the event loop), the
joke's score, the session told on "auto", and the tag lines that ride a laugh. Pure."""

from __future__ import annotations

from comedy import prompts
from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound.ear import Ear
from comedy.sound.room import RoomReading
from comedy.stage.actions import Action, Note, ReadRoom, Send
from comedy.stage.lifecycle import Lifecycle
from comedy.stage.room_window import RoomWindow

MAX_TAGS = 2  # tag lines in a row on laughs, before the comedian waits for the visitor


class Crowd:
    """The room around the joke being told, and the tag lines ridden on its laughs."""

    def __init__(self, answers: Lifecycle, ear: Ear) -> None:
        self.answers, self.ear = answers, ear
        self.settings = answers.settings
        self.window = RoomWindow()  # the room around the joke being told
        self.tags = 0  # tag lines ridden in a row

    def read_the_room(self, now: float) -> list[Action]:
        """What the room did after the joke, to be read off the event loop (too little: nothing)."""
        heard, laughed = self.window.take()
        if len(heard) < SAMPLE_RATE // 2:
            return []
        return [ReadRoom(heard, laughed, self.answers.last_line)]

    def new_joke(self, now: float) -> list[Action]:
        """An answer starts: the room has had its say on the last one."""
        actions = self.read_the_room(now) if self.window.listening else []
        self.window.new_joke()
        return actions

    def room_read(self, reading: RoomReading, asked: ReadRoom, now: float) -> list[Action]:
        """The room's reading after a punchline: the joke's score, the session told on "auto",
        and a tag line if the set rode a laugh."""
        self.settings.room = reading
        if asked.joke is not None:
            asked.joke.score = reading
        actions: list[Action] = [Note()]
        if self.settings.set_up.reaction == "auto":
            actions.append(Send(self.settings.session_update()))
        if asked.laughed and reading.kind in ("laughter", "applause"):
            actions += self.tag(asked.laughed, now)
        return actions

    def tag(self, laughed: str, now: float) -> list[Action]:
        """Ride the laugh: a short tag line on the same joke (a few in a row at most)."""
        if not self.settings.hands_free or self.answers.responding or self.ear.deciding:
            return []
        if self.tags >= MAX_TAGS:
            return []
        self.tags += 1
        ask = protocol.response_create(
            instructions=prompts.tag_instructions(
                self.settings.shown_set_up(), laughed, self.settings.tonight()
            )
        )
        return self.answers.request([], [ask], now)
