"""The club app: the venue with its web doors, the engine's WebSocket and the end card's
downloads (both Starlette routes on Gradio's server, so they live in the web wing)."""

from __future__ import annotations

from comedy.config import Settings
from comedy.rehearsal import RehearsalThread
from comedy.venue import Venue
from comedy.web.engine import Engine
from comedy.web.set_downloads import SetDownloads


class ClubApp(Venue):
    """The venue, with the engine's socket and the end card's zips; a visitor who leaves loses
    their engine tokens and downloads with the rest."""

    def __init__(self, settings: Settings, rehearsal: RehearsalThread | None) -> None:
        super().__init__(settings, rehearsal)
        self.engine = Engine(self.club, self.pages)
        self.set_downloads = SetDownloads(self.save_set, self.club.ended.get)

    async def leave(self, visitor: str, reason: str = "The visitor left") -> None:
        """Everything the venue forgets, and the visitor's engine tokens and end-card zips."""
        await super().leave(visitor, reason)
        await self.engine.forget(visitor)
        self.set_downloads.forget(visitor)
