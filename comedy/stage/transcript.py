"""The set's transcript: one `Turn` a line, found by its item, with the room's score on each joke."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from comedy.sound.room import RoomReading

REMEMBERED_LINES = 6  # the lines of the set a new session is told
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
INTERJECTION_WORDS = 2  # "Great.", "Fair enough.": still the line that reads the room


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
    marks: list[tuple[int, int]] = field(default_factory=list)  # (audio sample, text length) per piece

    def heard(self, played: int) -> str:
        """A comedian's line as far as the visitor has heard it (`played` samples of its audio): each
        piece of text arrived with the audio position it belongs at, and counts once played that
        far, as the page's captions do. A visitor's line is heard as said."""
        if self.role != "assistant":
            return self.text
        if played <= 0:
            return ""
        if not self.marks:  # said whole (an opener, a cover): heard once its audio plays
            return self.text
        length = 0
        for at, upto in self.marks:
            if at > played:
                break
            length = upto
        return self.text[:length]

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
class Transcript:
    """The set's lines in order; `started_at` (monotonic) dates each line in seconds into the set."""

    started_at: float
    lines: list[Turn]

    def at(self, now: float) -> float:
        """Seconds into the set at `now`."""
        return now - self.started_at

    def turn(self, role: str, item_id: str | None, now: float) -> Turn:
        """The line of an item, made if it is new."""
        for turn in reversed(self.lines):
            if turn.item_id == item_id and item_id is not None:
                return turn
        return self.add(Turn(role, item_id=item_id, at=self.at(now)))

    def add(self, turn: Turn) -> Turn:
        """A new line at the end."""
        self.lines.append(turn)
        return turn

    def remove(self, turn: Turn) -> None:
        """Take a line out (the room's sound is not the visitor's line)."""
        self.lines.remove(turn)

    def jokes(self) -> list[Turn]:
        """The comedian's lines, in order (each scored by the room once it has reacted)."""
        return [t for t in self.lines if t.role == "assistant" and t.text]

    def best_joke(self) -> Turn | None:
        """The joke the room laughed at most, if it laughed at any."""
        scored = [t for t in self.lines if t.score is not None and t.score.laugh > 0]
        return max(scored, key=lambda t: t.score.laugh, default=None)

    def remembered(self, skip: str | None = None) -> list[Turn]:
        """The last lines a new session is told: never the house comedian's covers, nor `skip`."""
        return [
            t
            for t in self.lines[-REMEMBERED_LINES:]
            if t.text and not t.note.startswith("house comedian") and t.text != skip
        ]

    def comedian_lately(self) -> list[str]:
        """The comedian's last few lines, to tell its own echo in a transcript."""
        return [t.text for t in self.lines[-REMEMBERED_LINES:] if t.role == "assistant"]


def joke_of(text: str) -> str:
    """An answer's joke: the answer without its first sentence, the one that reads the room (the
    prompt asks for one sentence for the room, then one joke); a one-sentence answer is all joke."""
    sentences = SENTENCE_END.split(" ".join(text.split()))
    start = 1
    while start < len(sentences) - 1 and len(sentences[start].split()) <= INTERJECTION_WORDS:
        start += 1  # "Oh, laughing already? Great. ...": the room line's short tail goes with it
    return " ".join(sentences[start:]) if len(sentences) > 1 else sentences[0]
