"""The record one rehearsal connection keeps, handed to its parts: the session's settings, the
conversation's items, the response in progress, and what of each answer was spoken and cut."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """A response in progress, and how to stop it."""

    id: str
    voice: str
    modalities: list[str]
    item_ids: list[str] = field(default_factory=list)
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    cancel_reason: str = "client_cancelled"

    def stop(self, reason: str, lag: float = 0.0) -> None:
        """Stop streaming, `lag` seconds on (what the server sends until then is still delivered)."""
        self.cancel_reason = reason
        if lag > 0:
            asyncio.get_running_loop().call_later(lag, self.cancel.set)
        else:
            self.cancel.set()


@dataclass
class Conversation:
    """A connection's session and conversation, as the real API keeps them."""

    model: str
    session: dict[str, Any]
    items: list[dict] = field(default_factory=list)
    response: Response | None = None  # the active one: one at a time
    audio_spoken: bool = False  # assistant audio is present: the voice is fixed
    spoken_ms: dict[str, int] = field(default_factory=dict)  # item -> audio sent (or kept by a cut)
    heckled: set[str] = field(default_factory=set)  # answers the listener cut short
    truncated_at: dict[str, tuple[int, int]] = field(default_factory=dict)  # item -> (kept, spoken ms)

    def finished(self, response: Response) -> None:
        """`response` is over (or cancelled): it is no longer the active one; a newer one stays."""
        if self.response is response:
            self.response = None

    def last_item_id(self) -> str | None:
        """The id of the newest item, which a new one follows."""
        return self.items[-1]["id"] if self.items else None

    def item(self, item_id: str) -> dict | None:
        """The item with `item_id`, if the conversation holds it."""
        return next((i for i in self.items if i["id"] == item_id), None)
