"""Each fault a visitor's set can meet: a clear message, the transcript kept, the next joke working.

The set talks to the rehearsal server on 127.0.0.1 with its fault switches; the session module's own
handling of each fault is in test_realtime_session.py, the CLI's in test_cli.py.
"""

from __future__ import annotations

import asyncio

import pytest

from comedy import prompts
from comedy.realtime.session import RealtimeError
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from comedy.web.page_view import status_line
from tests.conftest import KEY

FAULTS = {  # switch -> words the visitor reads
    "dropped mid-answer": ({"drop_after_deltas": 3}, "connection to the Realtime API dropped"),
    "stalled": ({"stall": True}, "No answer from the Realtime API for 1 s"),
    "rate limited": ({"error_code": "rate_limit_exceeded"}, "The Realtime API is busy"),
    "server error": ({"error_code": "server_error"}, "The server had an error"),
    "unreadable frames": ({"garbage": True}, "could not read"),
    "failed answer": ({"failed": True}, "The answer failed: The model failed to respond"),
}


class Watched:
    """A set whose every status line is kept, as the page would have shown them."""

    def __init__(self, comedy_set: ComedySet) -> None:
        self.set = comedy_set
        self.lines: list[str] = []

    async def until(self, check, timeout: float = 20.0) -> None:
        async with asyncio.timeout(timeout):
            while True:
                line = status_line(self.set)
                if not self.lines or self.lines[-1] != line:
                    self.lines.append(line)
                if check():
                    return
                await asyncio.sleep(0.005)

    def answered(self, topic: str) -> bool:
        """Whether the request for `topic` has a whole answer after it (not one cut off or failed)."""
        turns = self.set.stage.transcript
        asked = [i for i, t in enumerate(turns) if t.text == f"Tell me a joke about {topic}."]
        return bool(asked) and any(
            t.role == "assistant" and t.text and not any(w in t.note for w in ("cut off", "failed", "house"))
            for t in turns[asked[-1] + 1 :]
        )

    async def joke(self, topic: str) -> None:
        await self.set.tell(topic)
        await self.until(lambda: self.answered(topic) and "your turn" in self.set.stage.status)


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
async def test_a_fault_is_explained_and_the_set_goes_on(server: RehearsalServer, fault: str) -> None:
    switches, words = FAULTS[fault]
    watched = Watched(ComedySet(Endpoint(server.url, KEY, True, response_timeout=1.0), prompts.SetUp()))
    await watched.set.start()
    await watched.joke("cats")
    first_answer = next(t.text for t in watched.set.stage.transcript if t.role == "assistant")
    for name, value in switches.items():
        setattr(server.conduct.faults, name, value)
    server.conduct.faults.retry_after_s = 0.2

    await watched.joke("dogs")  # met the fault, said so, and was answered after all
    assert not server.conduct.faults.armed  # the fault really fired
    assert any(words in line for line in watched.lines), watched.lines
    await watched.joke("birds")  # and the next joke works

    requests = [t.text for t in watched.set.stage.transcript if t.role == "user"]
    assert requests[:1] == ["Tell me a joke about cats."] and "Tell me a joke about birds." in requests
    assert first_answer in [t.text for t in watched.set.stage.transcript]  # nothing before the fault lost
    assert all("Traceback" not in line and KEY not in line for line in watched.lines)
    await watched.set.close()


async def test_a_refused_key_at_start_is_named_without_the_key(server: RehearsalServer) -> None:
    server.conduct.refused_keys = {KEY}
    comedy_set = ComedySet(Endpoint(server.url, KEY, False), prompts.SetUp())
    with pytest.raises(RealtimeError):
        await comedy_set.start()
    line = status_line(comedy_set)
    assert "refused the API key" in line and "Not connected" in line
    assert KEY not in line and KEY[-4:] not in line  # not even the API's masked echo of it


async def test_an_unreachable_server_at_start_is_named() -> None:
    async with RehearsalServer(pace=0) as gone:
        url = gone.url  # a port that was just closed
    comedy_set = ComedySet(Endpoint(url, KEY, True), prompts.SetUp())
    with pytest.raises(RealtimeError):
        await comedy_set.start()
    assert "Could not reach" in status_line(comedy_set) and not comedy_set.closed


async def test_after_the_reconnect_window_the_next_request_connects_again_and_retells_the_set() -> None:
    server = await RehearsalServer(pace=0).start()
    comedy_set = ComedySet(Endpoint(server.url, KEY, True, reconnect_window=0.5), prompts.SetUp())
    watched = Watched(comedy_set)
    await comedy_set.tell("penguins")
    await watched.until(lambda: comedy_set.stage.status.endswith("your turn"))
    port = server.port
    await server.stop()  # gone for longer than the set keeps trying
    await watched.until(lambda: "goes on with your next request" in comedy_set.stage.status)
    assert "Could not reconnect for 0.5 s" in comedy_set.stage.last_error
    server = await RehearsalServer(port=port, pace=0).start()
    try:
        await comedy_set.tell("volcanoes")
        await watched.until(
            lambda: (
                comedy_set.stage.status.endswith("your turn")
                and sum(1 for t in comedy_set.stage.transcript if t.role == "assistant" and t.text) >= 2
            )
        )
        items = list(server.journal.received).count("conversation.item.create")
        assert items >= 3  # the new session heard the set so far (two lines), then the new request
        assert not comedy_set.stage.last_error  # the last problem is over
    finally:
        await comedy_set.close()
        await server.stop()
    left = [t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("set-")]
    assert left == []  # every task the set ran, from both connections, ended with it
