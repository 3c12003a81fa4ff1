"""The rehearsal server: the Realtime protocol on loopback, with a house comedian behind it.

It is the app's embedded default (no key, no network) and the real socket every test talks to.
It speaks only what the SDK's types allow, in the order the real API sends it.
"""

from __future__ import annotations

import asyncio
import http
import logging
import random
import threading
import time
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from comedy.house import voice
from comedy.house.jokes import load_joke_book
from comedy.realtime import models, protocol, redaction
from comedy.realtime.protocol import error_event
from comedy.rehearsal.audience import Audience
from comedy.rehearsal.connection import Connection
from comedy.rehearsal.faults import Faults
from comedy.rehearsal.journal import Conduct, Journal
from comedy.rehearsal.responder import FAILED_ERROR, PREAMBLES

__all__ = ["FAILED_ERROR", "PREAMBLES", "Faults", "RehearsalServer", "RehearsalThread"]

log = logging.getLogger(__name__)
redaction.guard_logs()  # websockets logs request headers at DEBUG, Authorization included

PATH = "/v1/realtime"
AUDIENCE_PATH = "/v1/rehearsal/audience"  # the room feed: what the rehearsal audience does, as sound


class RehearsalServer:
    """The rehearsal server on an asyncio loop: `async with RehearsalServer() as server: ...`.

    `pace` is the speed of the audio stream against real time (1.0 live, 0 as fast as possible).
    `faults` holds the test switches; `refuse_prompts` and `preambles` switch on behaviours of the
    real API; `session_updates`, `received`, `sent`, `usages`, `transcriptions` and `truncations`
    `asked` record what happened, for tests and the UI.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, pace: float = 1.0, seed: int | None = None
    ) -> None:
        self.host, self.port = host, port
        self.conduct = Conduct(pace, random.Random(seed))  # what the house is told to do
        self.journal = Journal()  # what it did
        self._down_until = 0.0  # an outage: new connections are answered 503 until then (monotonic)
        self._server = None

    @property
    def url(self) -> str:
        """The Realtime URL clients connect to."""
        return f"ws://{self.host}:{self.port}{PATH}"

    @property
    def audience_url(self) -> str:
        """The room feed a test's microphone plays: the audience's cued sounds, in real time."""
        return f"ws://{self.host}:{self.port}{AUDIENCE_PATH}"

    @property
    def open_connections(self) -> int:
        """Clients connected now."""
        return len(self._server.connections) if self._server is not None else 0

    async def start(self) -> RehearsalServer:
        """Listen; with port 0 a free port is chosen and `port` updated."""
        voice.warm_up()
        load_joke_book()
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._check_request,
            close_timeout=2,
            max_size=16 * 1024 * 1024,
            server_header="comedy-rehearsal",
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def outage(self, seconds: float) -> None:
        """Go down for `seconds`, as the API does in an incident: every open connection drops with
        no close frame and new ones are answered HTTP 503 until the time is up."""
        self._down_until = time.monotonic() + seconds
        if self._server is not None:
            for connection in list(self._server.connections):
                connection.transport.abort()

    async def __aenter__(self) -> RehearsalServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if time.monotonic() < self._down_until:
            return _json_response(
                http.HTTPStatus.SERVICE_UNAVAILABLE, "server_error", "The server is temporarily unavailable."
            )
        path = urlsplit(request.path).path.rstrip("/")
        if path == AUDIENCE_PATH:
            return None
        if path != PATH:
            return _json_response(http.HTTPStatus.NOT_FOUND, "not_found", f"No route {request.path}")
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return _json_response(
                http.HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        key = auth[7:].strip()
        if key in self.conduct.refused_keys:
            masked = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
            return _json_response(
                http.HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
            )
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        if urlsplit(ws.request.path).path.rstrip("/") == AUDIENCE_PATH:
            await self.conduct.audience.serve(ws)
            return
        self.journal.connections += 1
        query = parse_qs(urlsplit(ws.request.path).query)
        model = (query.get("model") or [models.DEFAULT_MODEL])[0]
        if ws.request.headers.get("OpenAI-Beta", "").startswith("realtime"):
            await ws.send(
                protocol.encode(
                    error_event(
                        "The Realtime API beta interface has been shut down. Remove the 'OpenAI-Beta: "
                        "realtime=v1' header and use the GA interface.",
                        code="beta_api_shape_disabled",
                    )
                )
            )
            await ws.close(4000, "beta_api_shape_disabled")
            return
        known = models.find(model)
        if known is None or known.retired(self.conduct.today()):
            await ws.send(
                protocol.encode(
                    error_event(
                        f"The model '{model}' does not exist or you do not have access to it.",
                        code="model_not_found",
                        param="model",
                    )
                )
            )
            await ws.close(1008, "model_not_found")
            return
        await Connection(self.journal, self.conduct, ws, model).run()


def _json_response(status: http.HTTPStatus, code: str, message: str) -> Response:
    body = protocol.encode(
        {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}
    ).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


class RehearsalThread:
    """The rehearsal server on its own thread and loop, for synchronous hosts (the app, scripts)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, pace: float = 1.0) -> None:
        self.server = RehearsalServer(host, port, pace=pace)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rehearsal", daemon=True)

    def start(self) -> RehearsalThread:
        """Start the thread and wait until the server listens."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=30)
        return self

    @property
    def url(self) -> str:
        """The Realtime URL clients connect to."""
        return self.server.url

    @property
    def audience(self) -> Audience:
        """The rehearsal audience (its cues are safe to add from any thread)."""
        return self.server.conduct.audience

    def outage(self, seconds: float) -> None:
        """Take the server down for `seconds` (see `RehearsalServer.outage`), from any thread."""
        self._loop.call_soon_threadsafe(self.server.outage, seconds)

    def stop(self) -> None:
        """Stop the server and the thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
