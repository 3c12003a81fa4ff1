"""Shared fixtures: a real rehearsal server on 127.0.0.1 for every test that needs a socket."""

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
