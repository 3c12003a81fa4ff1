"""The end card's download: one zip per ended set, made once however often it is asked for, and
served from a route of its own under a name nobody can guess.

The page asks as soon as the card shows (and again on a click): `ready` waits for the zip (made in
a thread) and answers with its URL. A click before the zip exists is the same wait, so the first
click always downloads.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route

PATH = "/comedy/set/{token}"  # on Gradio's own app; the page fetches it relative to Gradio's root
TOKEN_BYTES = 18


@dataclass
class _Made:
    """One set's zip: the set it is of, its making, and its token once made."""

    of: int
    making: asyncio.Task[Path | None]
    token: str = ""


class SetDownloads:
    """The ended sets' zips, by visitor; `save(visitor)` writes one (`ClubApp.save_set`)."""

    def __init__(self, save: Callable[[str], Path | None], ended: Callable[[str], object]) -> None:
        self._save = save
        self._ended = ended  # the visitor's last ended set, or None
        self._made: dict[str, _Made] = {}
        self._tokens: dict[str, Path] = {}

    async def ready(self, visitor: str) -> str | None:
        """The visitor's last ended set as a zip, once made: its URL relative to the app's root;
        None with no ended set."""
        comedy_set = self._ended(visitor)
        if comedy_set is None:
            return None
        made = self._made.get(visitor)
        if made is None or made.of != id(comedy_set):
            self._drop(visitor)
            making = asyncio.create_task(asyncio.to_thread(self._save, visitor), name="set-zip")
            made = self._made[visitor] = _Made(id(comedy_set), making)
        path = await asyncio.shield(made.making)
        if path is None:
            return None
        if not made.token:
            made.token = secrets.token_urlsafe(TOKEN_BYTES)
            self._tokens[made.token] = path
        return PATH.format(token=made.token).lstrip("/")

    def forget(self, visitor: str) -> None:
        """The visitor left: their zip can no longer be fetched (the file goes with their saves)."""
        self._drop(visitor)

    def _drop(self, visitor: str) -> None:
        made = self._made.pop(visitor, None)
        if made is not None:
            self._tokens.pop(made.token, None)

    def route(self) -> Route:
        """The GET route that serves a zip by its token, as an attachment."""
        return Route(PATH, self._serve, methods=["GET"])

    async def _serve(self, request: Request) -> FileResponse | PlainTextResponse:
        path = self._tokens.get(request.path_params["token"])
        if path is None or not path.exists():
            return PlainTextResponse("That set is no longer kept: end a new show to download it.", 404)
        return FileResponse(path, media_type="application/zip", filename=path.name)
