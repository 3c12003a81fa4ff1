"""A thin async Realtime session over `websockets`: connect, send events, iterate server events.

    async with RealtimeSession(url, api_key, model) as session:
        await session.send(protocol.session_update(voice="cedar", instructions="..."))
        await session.send(protocol.user_text("airports"))
        await session.send(protocol.response_create())
        async for event in session:
            ...

Server `error` events are yielded like any other event, never raised. The session also yields
`local.*` events of its own: `local.disconnected` / `local.reconnected` when the socket dropped and
came back (the last session settings are re-applied), `local.response_timeout` when an answer
stalls, and `local.protocol_error` for a frame it could not read.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from types import TracebackType

import tenacity
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from comedy.realtime import protocol
from comedy.realtime.models import DEFAULT_MODEL
from comedy.realtime.protocol import Event
from comedy.realtime.redaction import guard_logs, redact
from comedy.realtime.stall import StallTimer

log = logging.getLogger(__name__)
guard_logs()  # websockets logs request headers at DEBUG, Authorization included

# Answers worth waiting for: an answer has been asked for and has not finished.
_ASKS = {"response.create", "input_audio_buffer.commit"}
_SERVER_ASKS = {"input_audio_buffer.speech_stopped", "response.created"}
_ANSWER_ENDS = {"response.done", "error"}


class RealtimeError(Exception):
    """A failure to talk to the Realtime API, worded for a person; never carries a key."""


class AuthenticationError(RealtimeError):
    """The API key was missing or refused."""


class ConnectionFailed(RealtimeError):
    """The server could not be reached, or the socket could not be opened in time."""


class ModelRefused(RealtimeError):
    """The server does not offer the requested model."""


class RealtimeSession:
    """One Realtime conversation: an async context manager you iterate for server events."""

    def __init__(
        self,
        url: str,
        api_key: SecretStr | str | None,
        model: str = DEFAULT_MODEL,
        *,
        connect_timeout: float = 10.0,
        response_timeout: float = 20.0,
        reconnect_window: float = 60.0,
        backoff_initial: float = 0.25,
        backoff_max: float = 8.0,
    ) -> None:
        self.url = url
        self.model = model
        self._key = api_key if isinstance(api_key, SecretStr) or api_key is None else SecretStr(api_key)
        self.connect_timeout = connect_timeout
        self.response_timeout = response_timeout
        self.reconnect_window = reconnect_window  # seconds of trying again after a drop
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.session_settings: Event | None = None  # the last session.update, re-sent on reconnect
        self.reconnects = 0
        self._ws: ClientConnection | None = None
        self._pending: deque[Event] = deque()
        self._awaiting_answer = False
        self._closed = False
        self._waiter: asyncio.Task | None = None  # the task blocked in recv, if any
        self._stall = StallTimer(response_timeout, self._on_stall)
        self._dropped: bool | None = None  # the socket dropped (with an answer lost?): reconnect next

    def __repr__(self) -> str:
        return f"RealtimeSession(url={self.url!r}, model={self.model!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        """Whether the socket is open right now."""
        return self._ws is not None and self._ws.state.name == "OPEN"

    # --- connecting

    async def connect(self) -> Event:
        """Open the socket and wait for `session.created`; raise a RealtimeError in words."""
        if self._key is None or not self._key.get_secret_value():
            raise AuthenticationError("No API key: set OPENAI_API_KEY, or use rehearsal mode.")
        separator = "&" if "?" in self.url else "?"
        url = f"{self.url}{separator}model={self.model}"
        headers = {"Authorization": f"Bearer {self._key.get_secret_value()}"}
        try:
            ws = await asyncio.wait_for(
                connect(
                    url,
                    additional_headers=headers,
                    max_size=None,
                    open_timeout=None,
                    ping_interval=20,
                    ping_timeout=20,
                    compression=None,
                ),
                self.connect_timeout,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                raise AuthenticationError(
                    f"The Realtime API refused the API key (HTTP {status}). Check OPENAI_API_KEY."
                ) from None
            raise ConnectionFailed(f"The Realtime API answered HTTP {status}.") from None
        except TimeoutError:
            raise ConnectionFailed(
                f"Could not reach the Realtime API within {self.connect_timeout:g} s."
            ) from None
        except (OSError, InvalidHandshake, InvalidURI) as exc:
            log.warning(
                "%s", redact(f"could not reach {self.url}: {exc}", self._key)
            )  # the detail: the owner's
            raise ConnectionFailed("Could not reach the Realtime API.") from None
        first = await self._first_event(ws)
        self._ws = ws
        return first

    async def _first_event(self, ws: ClientConnection) -> Event:
        try:
            raw = await asyncio.wait_for(ws.recv(), self.connect_timeout)
            event = protocol.decode(raw)
        except TimeoutError:
            await ws.close()
            raise ConnectionFailed("The Realtime API opened a connection but sent no session.") from None
        except ConnectionClosed:
            raise ConnectionFailed("The Realtime API closed the connection at once.") from None
        except protocol.ProtocolError:
            await ws.close()
            raise ConnectionFailed("The server did not speak the Realtime protocol.") from None
        if event["type"] == "error":
            await ws.close()
            error = protocol.ApiError.from_event(event)
            if error.code in ("model_not_found", "invalid_model"):
                raise ModelRefused(f"The Realtime API refused the model '{self.model}': {error.message}")
            if error.code in ("invalid_api_key", "authentication_error"):
                raise AuthenticationError(f"The Realtime API refused the API key: {error.message}")
            raise RealtimeError(f"The Realtime API refused the session: {error}")
        return event

    async def _reconnect(self) -> None:
        retrying = tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type(ConnectionFailed),
            wait=tenacity.wait_random_exponential(multiplier=self.backoff_initial, max=self.backoff_max),
            stop=tenacity.stop_after_delay(self.reconnect_window),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if self._closed:
                    return
                created = await self.connect()
        self.reconnects += 1
        self._pending.append(created)
        if self.session_settings is not None:
            await self._send_now(self.session_settings)

    async def __aenter__(self) -> RealtimeSession:
        self._pending.append(await self.connect())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the socket; safe to call any number of times."""
        self._closed = True
        self._stall.stop()
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    # --- sending

    async def send(self, event: Event, *, replace_settings: bool = False) -> None:
        """Send one client event; a `session.update` is remembered for reconnects, laid over the
        ones before it, or in their place with `replace_settings` (an update the API refused)."""
        if event["type"] == "session.update":
            self.session_settings = (
                event
                if self.session_settings is None or replace_settings
                else protocol.merge_session(self.session_settings, event)
            )
        if event["type"] in _ASKS:
            self._awaiting_answer = True
        await self._send_now(event)

    async def _send_now(self, event: Event) -> None:
        if self._closed:
            raise RealtimeError("The session is closed.")
        if self._ws is None:
            raise ConnectionFailed("Not connected to the Realtime API.")
        try:
            await self._ws.send(protocol.encode(event))
        except ConnectionClosed:
            raise ConnectionFailed("The connection to the Realtime API dropped.") from None

    # --- receiving

    def __aiter__(self) -> RealtimeSession:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._pending:
                return self._track(self._pending.popleft())
            if self._dropped is not None:  # said first (the page shows it at once), then reconnect
                lost_answer, self._dropped = self._dropped, None
                await self._recover(lost_answer)
                continue
            if self._closed or self._ws is None:
                raise StopAsyncIteration
            if self._awaiting_answer:
                self._stall.arm()
            self._waiter = asyncio.current_task()
            try:
                raw = await self._ws.recv()
            except asyncio.CancelledError:
                if not self._stall.fired():
                    raise
                self._waiter.uncancel()
                self._awaiting_answer = False
                return protocol.local_event(
                    "response_timeout",
                    message=f"No answer from the Realtime API for {self.response_timeout:g} s.",
                )
            except ConnectionClosed as exc:
                if self._closed:
                    raise StopAsyncIteration from None
                return self._drop(exc)
            finally:
                self._waiter = None
            try:
                return self._track(protocol.decode(raw))
            except protocol.ProtocolError as exc:
                return protocol.local_event(
                    "protocol_error",
                    message=f"Skipped a frame the client could not read: {exc}",
                    reason=str(exc),
                )

    def _on_stall(self) -> bool:
        """The stall deadline passed: the read waiting for an answer ends (True), if one waits."""
        if not self._awaiting_answer or self._waiter is None:
            return False
        self._waiter.cancel()
        return True

    def _drop(self, exc: ConnectionClosed) -> Event:
        """The socket dropped: the event that says so, at once; the next read reconnects."""
        self._dropped, self._awaiting_answer, self._ws = self._awaiting_answer, False, None
        return protocol.local_event(
            "disconnected",
            message=f"The connection to the Realtime API dropped ({exc.rcvd or 'no close frame'}).",
            lost_answer=self._dropped,
        )

    async def _recover(self, lost_answer: bool) -> None:
        try:
            await self._reconnect()
        except RealtimeError as failure:
            self._closed = True
            self._pending.append(
                protocol.local_event(
                    "gave_up", message=f"Could not reconnect for {self.reconnect_window:g} s: {failure}"
                )
            )
            return
        self._pending.append(
            protocol.local_event(
                "reconnected",
                message="Reconnected; the session settings were re-applied.",
                lost_answer=lost_answer,
            )
        )

    def _track(self, event: Event) -> Event:
        kind = event["type"]
        if kind in _SERVER_ASKS:
            self._awaiting_answer = True
        elif kind in _ANSWER_ENDS:
            self._awaiting_answer = False
        return event
