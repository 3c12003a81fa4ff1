"""What the page shows of a set besides its lines: the status in words, the last problem (with the
key masked), the content-filter chip, the cuts so far, and a version bumped on every change that
the pump watches to tell the page."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from comedy.realtime.redaction import redact
from comedy.stage.actions import Action, Close, Note

PROBLEMS_KEPT = 20


@dataclass
class SetStatus:
    """A set's visible state; `key` is masked in every problem shown."""

    key: str = field(default="", repr=False)
    status: str = "Not started"
    last_error: str = ""
    version: int = 0
    closing: bool = False  # the set is ending: its reason stays the status
    censored: bool = False  # the last answer was cut by the content filter: the page shows a chip
    barges: int = 0  # cuts so far; the page drops its buffered audio on each
    last_activity: float = 0.0  # when the visitor last did something (monotonic)
    problems: deque[str] = field(default_factory=lambda: deque(maxlen=PROBLEMS_KEPT))  # said, in order

    def say(self, status: str | None = None, error: str | None = None) -> None:
        """Change the status or the last problem (masked)."""
        if status is not None and not self.closing:
            self.status = status
        if error is not None:
            self.last_error = redact(error, self.key)
            if self.last_error:
                self.problems.append(self.last_error)
        self.version += 1

    def write(self, actions: list[Action]) -> list[Action]:
        """The status notes among `actions` written, in order (a `Close` ends the status's
        changes); the actions for the pump returned."""
        rest: list[Action] = []
        for action in actions:
            if isinstance(action, Note):
                self.note(action)
                continue
            if isinstance(action, Close):
                self.closing = True  # the set is ending: its reason stays the status
            rest.append(action)
        return rest

    def note(self, note: Note) -> None:
        """What a machine of the stage noted."""
        if note.cut:
            self.barges += 1
        if note.censored is not None:
            self.censored = note.censored
        if note.active_at is not None:
            self.last_activity = note.active_at
        if note.problem == "":
            self.last_error = ""
        if note.status is not None or note.problem or note == Note():  # the page has news
            self.say(note.status, note.problem or None)

    def end(self, reason: str) -> None:
        """The set is over: `reason` is its last status."""
        self.closing, self.status = True, reason
        self.version += 1
