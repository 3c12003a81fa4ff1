"""How the club sits on Gradio's server: the queue's slots for each kind of event, the pages'
heartbeats counted, and the launch options (routes, uploads, SSR, the sessions kept).

Gradio runs a fixed number of queue jobs at once, long-lived streams included. Here each kind of
long event has slots of its own and the presses have `SHORT_SLOTS` that no stream can take, so
however many streams anyone holds, Start is answered.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable

from starlette.middleware import Middleware

from comedy.venue.pages import Pages
from comedy.venue.uploads import keep_files_for
from comedy.web.club_app import ClubApp

HEARTBEAT = re.compile(r"/gradio_api/heartbeat/([^/]+)/?$")  # the route a page holds open while it lives
SHORT_SLOTS = 40  # jobs at once for the short events, beside the long ones' slots
STREAMS, FALLBACK, TAKES = "streams", "fallback", "takes"  # the long events' kinds (`slots`)


class Heartbeats:
    """ASGI middleware: each page's heartbeat (Gradio's `/heartbeat/{session}` request, held open
    while the tab lives, by the page and by `gradio_client` alike) counted into the club's pages."""

    def __init__(self, app, pages: Pages) -> None:
        self.app, self.pages = app, pages

    async def __call__(self, scope, receive, send) -> None:
        found = HEARTBEAT.search(scope.get("path", "")) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        self.pages.opened(found[1])
        try:
            await self.app(scope, receive, send)
        finally:
            self.pages.closed(found[1])


def slots(max_sets: int) -> dict[str, int]:
    """The queue's slots for each kind of long event: the show's streams (one per seated visitor,
    and its download after), Gradio's fallback audio and voice takes being recorded. Gradio runs
    `SHORT_SLOTS` more jobs at once, which only the short events (Start, a topic, End) can use:
    however many streams anyone holds, a press is answered."""
    return {STREAMS: 2 * max_sets + 10, FALLBACK: max_sets + 5, TAKES: max_sets}


def long_event(kind: str, max_sets: int) -> dict:
    """The queue's options for a long event of `kind` (`slots`)."""
    return {"concurrency_id": kind, "concurrency_limit": slots(max_sets)[kind]}


def session_capacity(max_sets: int) -> int:
    """Sessions whose page state Gradio keeps: every open tab, with room for many that closed."""
    return max(50, 25 * max_sets)


def lifespan(app: ClubApp) -> Callable:
    """Gradio's app lifespan: its uploads swept, and the club running."""
    files = keep_files_for(app.settings.keep_files_seconds)

    @contextlib.asynccontextmanager
    async def serving(fastapi_app) -> AsyncIterator[None]:
        async with files(fastapi_app), app.running():
            yield

    return serving


def launch_options(app: ClubApp, css: str = "") -> dict:
    """What `demo.launch` needs for this app.

    Gradio's queue runs at most `max_threads` jobs at once, long-lived ones included: the long
    events' slots (`slots`) and `SHORT_SLOTS` beside them. Each page's heartbeat is counted
    (`Heartbeats`): a stream runs for an open page only. Uploaded files older than
    `COMEDY_KEEP_FILES_SECONDS` are deleted. Gradio keeps a copy of the page's config for every
    session it has seen (about 0.1-0.2 MB each, 10,000 sessions by default): the club keeps the
    25 sessions per set allowed at once that were used last, which bounds memory on a busy Space.
    """
    return {
        "css": css,
        "max_threads": sum(slots(app.settings.max_sets).values()) + SHORT_SLOTS,
        "app_kwargs": {
            "middleware": [Middleware(Heartbeats, pages=app.pages)],
            "lifespan": lifespan(app),  # the upload sweep; visitors who left unseen are forgotten
            # the engine's WebSocket and the end card's download, on Gradio's own app
            "routes": [app.engine.route(), app.set_downloads.route()],
        },
        # Spaces turn SSR on by default; its Node proxy forwards no WebSocket upgrade.
        "ssr_mode": False,
        # Gradio keeps each event's inputs (the topic typed, the line auditioned) in the browser's
        # storage and lists them on /gradio_api/runs by default: nothing of a visitor's is kept.
        "run_history": False,
        "max_file_size": round(app.settings.max_upload_mb * 1024 * 1024),
        "state_session_capacity": session_capacity(app.settings.max_sets),
    }
