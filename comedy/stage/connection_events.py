"""What the set does about the connection's own events: an API error (a rate limit ridden out, a
refused stored prompt sent again templated), a dropped socket (the house comedian covers live),
a reconnect (the set re-told), giving up, a stalled answer, an unreadable frame; and the set's own
switch to a fresh session (a new voice, a new model)."""

from __future__ import annotations

from comedy.realtime import protocol
from comedy.realtime.protocol import Event
from comedy.stage.actions import Action, Cover, DropSpeech, LoseSession, Note, RetryLater, Send
from comedy.stage.lifecycle import ANSWERING, ASKED, Lifecycle

NEW_VOICE = "a new voice"  # why the set restarts its session when the voice changes


class ConnectionEvents:
    """Reads the connection's events for one set's answers."""

    def __init__(self, answers: Lifecycle) -> None:
        self.answers, self.settings = answers, answers.settings

    def on_error(self, event: Event, now: float) -> list[Action]:
        """The API refused something: said; a rate limit is ridden out."""
        error = protocol.ApiError.from_event(event)
        if error.code == "response_cancel_not_active":
            return []  # a heckle raced the server's own cancel: nothing to say
        stored = self.settings.stored_prompt
        if stored is not None and stored.refuses(error):
            # the API dropped the whole update: again, templated
            return [
                Note(problem=stored.refuse(error)),
                Send(self.settings.session_update(), replace_settings=True),
            ]
        if not error.retryable:
            return [Note(problem=str(error))]
        seconds = error.retry_after or 1.0
        busy = Note(f"The Realtime API is busy: trying again in {seconds:.1f} s", str(error))
        return [busy, RetryLater(min(seconds, 10.0), "the Realtime API was busy")]

    def on_disconnected(self, event: Event, now: float) -> list[Action]:
        """The socket dropped: what the player holds goes, and live, the house comedian covers."""
        self.answers.dropped(lost=bool(event.get("lost_answer")))
        expired = "session_expired" in event["message"]  # the API's 60-minute limit, said already
        reconnecting = Note("Reconnecting…", None if expired else event["message"])
        return [reconnecting, DropSpeech()] + ([] if self.answers.rehearsal else [Cover()])

    def on_reconnected(self, event: Event, now: float) -> list[Action]:
        """The session is back: it is told the set."""
        return self.answers.retell("Connected again: the set goes on")

    def on_gave_up(self, event: Event, now: float) -> list[Action]:
        """Reconnecting failed: the next request connects again."""
        self.answers.gave_up()
        return [
            Note("Not connected: the set goes on with your next request", event["message"]),
            LoseSession(),
        ]

    def on_timeout(self, event: Event, now: float) -> list[Action]:
        """The answer stalled: cancelled and asked again."""
        return [Note(problem=event["message"]), *self.answers.stalled()]

    def on_protocol_error(self, event: Event, now: float) -> list[Action]:
        """A frame that could not be read: said."""
        return [Note(problem=event["message"])]

    def restarting(self, why: str) -> list[Action]:
        """The set leaves its session for a fresh one (`why`: a new voice, a new model): an answer
        in flight is lost (the new session retells it), and the player drops the old voice."""
        self.answers.dropped(lost=self.answers.state in (ASKED, ANSWERING), note=f"cut: {why}")
        return [Note("Switching voice…" if why == NEW_VOICE else f"Switching to {why}…"), DropSpeech()]

    def restarted(self, why: str) -> list[Action]:
        """The fresh session is open: it is told the set, and retells an answer the switch cut."""
        status = f"Connected: restarted the session for {why}; the transcript is kept"
        return self.answers.retell(status, why=f"the joke the switch to {why} cut")
