"""The club app launched in-process on a free port, with its own rehearsal server."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import app as club_app
from comedy.config import Settings
from comedy.rehearsal import RehearsalThread


@dataclass
class Running:
    url: str
    app: club_app.ClubApp
    rehearsal: RehearsalThread
    demo: object  # the gr.Blocks


def launch(pace: float = 3.0, key: str | None = None, engine: bool = True, **env: str) -> Iterator[Running]:
    """Start the app in rehearsal mode; yield where it runs.

    With `key`, the app runs as live with that owner key, its OpenAI URL pointed at the local
    rehearsal server (which takes any key), so a whole keyed set runs with no network. With
    `engine=False` the engine's WebSocket route is left out, as a proxy that blocks it would.
    """
    os.environ.setdefault("COMEDY_CACHE_DIR", tempfile.mkdtemp(prefix="comedy-test-cache-"))
    rehearsal = RehearsalThread(pace=pace).start()
    # A key (the owner's, a visitor's) goes to the rehearsal server; openers are made in the
    # background on a session of their own, so only the tests of openers turn them on.
    env = {"OPENAI_REALTIME_URL": rehearsal.url, "COMEDY_OPENERS": "0", **env}
    if key:
        env["OPENAI_API_KEY"] = key
    settings = Settings.from_env(env, dotenv_path=None)
    app = club_app.ClubApp(settings, None if key else rehearsal)
    demo = club_app.build(app)
    demo.queue(default_concurrency_limit=None)
    options = club_app.launch_options(app)
    if not engine:
        options["app_kwargs"]["routes"] = []
    _, url, _ = demo.launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=None, quiet=True, **options
    )
    app.engine.tighten(demo.server)  # as `app.main` does
    try:
        yield Running(url, app, rehearsal, demo)
    finally:
        demo.close()
        rehearsal.stop()
