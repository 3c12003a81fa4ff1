"""A set's link to the Realtime API: one session at a time on the set's endpoint, opened with the
set's settings, sent to without raising (a failed send is a problem to tell the visitor), and
dropped, closed or replaced when the set says so."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from comedy.prompts.stored import HANDSHAKE_SECONDS, StoredPrompt
from comedy.realtime.protocol import ApiError, Event
from comedy.realtime.session import RealtimeError, RealtimeSession
from comedy.show.endpoint import Endpoint


class SessionLink:
    """The set's current Realtime session, if any (RealtimeError from `open` when none can be had)."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.session: RealtimeSession | None = None

    @property
    def open(self) -> bool:
        """Whether the set holds a session (it may be reconnecting)."""
        return self.session is not None

    @property
    def connected(self) -> bool:
        """Whether the session's socket is open now."""
        return self.session is not None and self.session.connected

    async def connect(self, settings: Callable[[], Event]) -> str | None:
        """Open a session and send it `settings()`; a note when the stored prompt was refused."""
        session = RealtimeSession(
            self.endpoint.url,
            self.endpoint.key,
            self.endpoint.model,
            response_timeout=self.endpoint.response_timeout,
            reconnect_window=self.endpoint.reconnect_window,
        )
        await session.__aenter__()
        self.session = session
        return await apply_settings(session, settings, self.endpoint.stored_prompt)

    async def send(self, event: Event, replace_settings: bool = False) -> str | None:
        """Send an event to the session (nothing without one); the problem in words if it failed."""
        if self.session is None:
            return None
        try:
            await self.session.send(event, replace_settings=replace_settings)
        except RealtimeError as exc:
            return str(exc)
        return None

    async def events(self) -> AsyncIterator[Event]:
        """The current session's events until it ends, or until the link closes it (a closed
        session's late words are dropped: a voice switch has forgotten its items)."""
        session = self.session
        if session is not None:
            async for event in session:
                if self.session is not session:
                    return
                yield event

    def lose(self) -> None:
        """Give the session up: the next start connects again."""
        self.session = None

    async def close(self) -> None:
        """Close the session, if any."""
        old, self.session = self.session, None
        if old is not None:
            await old.close()


async def apply_settings(
    session, build: Callable[[], Event], stored: StoredPrompt | None, wait: float = HANDSHAKE_SECONDS
) -> str | None:
    """Send a fresh session its settings, `build()`'s update. With a stored prompt, wait for the
    API's word on it first; if refused, send the update again from the template at once.

    Returns what to tell the visitor when it fell back (or the API refused something else), else
    None. `session` is a RealtimeSession that nothing else reads from yet.
    """
    update = build()
    await session.send(update)
    if stored is None or "prompt" not in update["session"]:
        return None
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            async for event in session:
                if event["type"] == "session.updated":
                    return None
                if event["type"] == "error":
                    error = ApiError.from_event(event)
                    if not stored.refuses(error):
                        return f"The Realtime API refused the session settings: {error}"
                    note = stored.refuse(error)
                    await session.send(build(), replace_settings=True)
                    return note
    return None
