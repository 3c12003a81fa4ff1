"""The test harness's own client behaves like a browser where the suite depends on it."""

from __future__ import annotations

import asyncio
import socket
import struct

import httpx

from harness.visitor import BrowserLikeTransport

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


async def _request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0
    )
    return head + (await reader.readexactly(length) if length else b"")


async def _server(reset_how: str) -> tuple[asyncio.Server, list[int]]:
    """A keep-alive server that answers a connection's first request, then drops the connection
    under the next one without answering it (a reset, or a clean close), as uvicorn may when its
    keep-alive ends just as a request is sent."""
    answered: list[int] = []

    async def visitor(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request(reader)
        writer.write(OK)
        await writer.drain()
        answered.append(1)
        await _request(reader)  # the next request on the reused connection: never answered
        sock = writer.get_extra_info("socket")
        if reset_how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()

    return await asyncio.start_server(visitor, "127.0.0.1", 0), answered


async def _two_posts(reset_how: str) -> list[str]:
    server, answered = await _server(reset_how)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient(transport=BrowserLikeTransport(), timeout=5) as client:
        first = await client.post(f"http://127.0.0.1:{port}/start", json={"n": 1})
        second = await client.post(f"http://127.0.0.1:{port}/start", json={"n": 2})
    assert len(answered) == 2  # the second request was answered on a new connection
    return [first.text, second.text]


def test_a_keep_alive_connection_closed_under_a_request_is_sent_again() -> None:
    assert asyncio.run(_two_posts("close")) == ["ok", "ok"]


def test_a_keep_alive_connection_reset_under_a_request_is_sent_again() -> None:
    assert asyncio.run(_two_posts("reset")) == ["ok", "ok"]
