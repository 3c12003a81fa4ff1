"""Shared fixtures: a real rehearsal server on 127.0.0.1 for every test that needs a socket; and
each test marked with its kind, so `pytest -m unit` (pure, seconds), `-m socket` (the rehearsal
server or another loopback socket), `-m app` (the app on a free port) or `-m browser` (headless
Chromium) runs one kind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect

from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.sound import room, speech
from harness.sets import KEY
from harness.speech import appends, spoken  # noqa: F401
from tests.schema import check_server_event

SOCKET = {  # real sockets on 127.0.0.1, the app not launched
    "test_answer.py", "test_answers.py", "test_audition.py", "test_callbacks.py", "test_cli.py",
    "test_club.py", "test_faults.py", "test_harness.py", "test_humour_bench.py", "test_laughter.py",
    "test_limits.py", "test_meters.py", "test_properties.py", "test_realtime_session.py",
    "test_recording.py", "test_rehearsal_server.py", "test_room.py", "test_stored_prompt.py",
}  # fmt: skip
APP = {  # the app launched on a free port (its browser tests are marked `browser` themselves)
    "test_app.py", "test_battle.py", "test_browser.py", "test_engine.py", "test_engine_hostile.py",
    "test_hold.py", "test_hostile.py", "test_keys.py", "test_load.py", "test_opener.py",
    "test_streams.py", "test_takes.py",
}  # fmt: skip


def kind_of(module: str) -> str:
    """A test module's kind: socket, app, or unit (pure: no socket at all)."""
    return "socket" if module in SOCKET else "app" if module in APP else "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("browser") is None:
            item.add_marker(kind_of(item.path.name))


@pytest.fixture(scope="session", autouse=True)
def _the_ear_warmed_up() -> None:
    """The app pays the ear's first-call costs at start-up (librosa's kernels, about 1.5 s, and the
    speech detector's model); a set made by a test must not pay them on its first heckle either."""
    room.warm_up()
    speech.warm_up()


@pytest.fixture
async def server() -> AsyncIterator[RehearsalServer]:
    """An unpaced rehearsal server on a free loopback port."""
    async with RehearsalServer(pace=0, seed=7) as running:
        yield running


class RawClient:
    """A bare websocket client that validates every server event against the SDK's types."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict] = []

    async def send(self, event: dict | str) -> None:
        await self.ws.send(event if isinstance(event, str) else protocol.encode(event))

    async def recv(self, timeout: float = 10.0) -> dict:
        import asyncio

        event = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        check_server_event(event)
        self.events.append(event)
        return event

    async def until(self, kind: str, timeout: float = 20.0) -> list[dict]:
        """Receive until an event of `kind`; return everything received on the way."""
        seen = []
        while True:
            event = await self.recv(timeout)
            seen.append(event)
            if event["type"] == kind:
                return seen


@pytest.fixture
async def raw(server: RehearsalServer) -> AsyncIterator[RawClient]:
    """A raw, schema-checking client connected to the rehearsal server, past session.created."""
    async with connect(
        f"{server.url}?model=gpt-realtime-2.1", additional_headers={"Authorization": f"Bearer {KEY}"}
    ) as ws:
        client = RawClient(ws)
        first = await client.recv()
        assert first["type"] == "session.created"
        yield client
