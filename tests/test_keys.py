"""No key ever leaves the server: not in a page, a config, an event stream, a log line or a message."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx
import pytest

from comedy.config import Settings
from harness.running import Running, launch
from harness.visitor import CHOICES, Visitor, choices

OWNER_KEY = "sk-proj-OWNERKEY-0123456789abcdefABCDEF"


@pytest.fixture(scope="module")
def live_club() -> Iterator[Running]:
    """The app with an owner key, live mode against the local rehearsal server."""
    yield from launch(pace=0, key=OWNER_KEY)


async def test_a_whole_keyed_set_never_shows_the_key(live_club: Running, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    async with Visitor(live_club.url) as visitor:
        await visitor.join("speaker", [])
        statuses = [(await visitor.call("tell", ["cats", *CHOICES]))[0]]
        async with asyncio.timeout(30):
            while not live_club.app.club.sets[visitor.session_hash].stage.status.endswith("your turn"):
                await asyncio.sleep(0.1)
        statuses.append((await visitor.call("change", ["cats", *choices(voice="cedar")]))[0])
        statuses.append((await visitor.call("end", []))[0])
        pages = []
        async with httpx.AsyncClient() as http:
            for path in (
                "/",
                "/config",
                "/gradio_api/info",
                "/gradio_api/openapi.json",
                "/gradio_api/info?all_endpoints=true",
            ):
                pages.append((await http.get(live_club.url.rstrip("/") + path)).text)
        streamed = repr(dict(visitor.messages))
    assert "OpenAI Realtime" in statuses[0]  # it really ran as live, with the key
    everything = "\n".join([*statuses, *pages, streamed, caplog.text])
    assert OWNER_KEY not in everything
    assert OWNER_KEY[8:24] not in everything  # not even a piece of it


def test_settings_and_errors_never_carry_the_key() -> None:
    settings = Settings.from_env({"OPENAI_API_KEY": OWNER_KEY}, dotenv_path=None)
    assert OWNER_KEY not in repr(settings) and OWNER_KEY not in str(settings)
    from comedy.show.endpoint import Endpoint

    endpoint = Endpoint("wss://example.invalid/v1/realtime", OWNER_KEY, False)
    assert OWNER_KEY not in repr(endpoint)


async def test_a_refused_key_is_a_clear_message_without_the_key() -> None:
    from websockets.asyncio.server import serve

    from comedy.realtime.session import AuthenticationError, RealtimeSession

    async def reject(connection, request):
        return connection.respond(401, "Incorrect API key provided: " + OWNER_KEY[:12] + "...\n")

    async with serve(lambda ws: None, "127.0.0.1", 0, process_request=reject) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(AuthenticationError) as refused:
            await RealtimeSession(f"ws://127.0.0.1:{port}/v1/realtime", OWNER_KEY).connect()
    assert "refused the API key" in str(refused.value) and OWNER_KEY not in str(refused.value)
