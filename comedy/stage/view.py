"""What the page, the web and the tests read of a stage: one read-only view over its machines'
records (the stage's commands are `Stage`'s own)."""

from __future__ import annotations

from comedy import prompts
from comedy.sound.ear import Ear, Verdict
from comedy.sound.room import RoomReading
from comedy.stage.floor import Floor
from comedy.stage.hearing import Hearing
from comedy.stage.lifecycle import BUSY, Lifecycle
from comedy.stage.session_settings import SessionSettings
from comedy.stage.status import SetStatus
from comedy.stage.transcript import Transcript, Turn


class StageView:
    """Read-only: the set's lines, status, choices, room and floor as they stand."""

    shown: SetStatus
    lines: Transcript
    settings: SessionSettings
    answers: Lifecycle
    hearing: Hearing

    @property
    def transcript(self) -> list[Turn]:
        """The set's lines so far."""
        return self.lines.lines

    @property
    def status(self) -> str:
        """What the set is doing, in words."""
        return self.shown.status

    @property
    def last_error(self) -> str:
        """The last problem, masked; empty once the set is well again."""
        return self.shown.last_error

    @property
    def version(self) -> int:
        """Bumped on every change the page shows."""
        return self.shown.version

    @property
    def set_up(self) -> prompts.SetUp:
        """The visitor's choices."""
        return self.settings.set_up

    @property
    def tuning(self) -> prompts.Tuning:
        """The owner's settings for the comedian."""
        return self.settings.tuning

    @property
    def hands_free(self) -> bool:
        """Hands-free (the API's turn detection) or push-to-talk."""
        return self.settings.hands_free

    @property
    def room(self) -> RoomReading | None:
        """The room reader's last verdict."""
        return self.settings.room

    @property
    def barges(self) -> int:
        """Cuts so far."""
        return self.shown.barges

    @property
    def responding(self) -> bool:
        """An answer is in progress on the server."""
        return self.answers.responding

    @property
    def busy(self) -> bool:
        """An answer is asked for, in progress, or being cancelled."""
        return self.answers.state in BUSY

    @property
    def ear(self) -> Ear:
        """What the microphone holds, and what each sound is."""
        return self.hearing.ear

    @property
    def verdicts(self) -> list[Verdict]:
        """The last few sounds heard."""
        return self.hearing.verdicts

    def best_joke(self) -> Turn | None:
        """The joke the room laughed at most, if it laughed at any."""
        return self.lines.best_joke()

    @property
    def floor(self) -> Floor:
        """The floor while the comedian talks: open, held for a sound, or riding a laugh."""
        return self.answers.floor

    @property
    def opening(self) -> bool:
        """Only the opener is playing: a first request follows it rather than cutting it."""
        return self.answers.opening

    @property
    def listening_to_room(self) -> bool:
        """Whether a punchline landed and the room is being listened to."""
        return self.hearing.crowd.window.listening
