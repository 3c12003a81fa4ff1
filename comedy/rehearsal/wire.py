"""What a rehearsal connection sends its client: server events, errors shaped as the real API's,
and the garbage frames of a fault, each recorded in the journal."""

from __future__ import annotations

from websockets.asyncio.server import ServerConnection

from comedy.realtime import protocol
from comedy.realtime.protocol import Event, error_event, server_event
from comedy.rehearsal.journal import Journal


class Wire:
    """One client's socket, as the rehearsal's parts write to it."""

    def __init__(self, ws: ServerConnection, journal: Journal) -> None:
        self.ws, self.journal = ws, journal

    async def send(self, event: Event) -> None:
        self.journal.sent.append(event["type"])
        await self.ws.send(protocol.encode(event))

    async def error(
        self,
        code: str,
        message: str,
        param: str | None = None,
        event_id: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        self.journal.errors.append(f"{code}: {message}")
        await self.send(error_event(message, code=code, param=param, type_=type_, event_id=event_id))

    async def send_garbage(self, ids: dict) -> None:
        """Frames a client must skip: the garbage fault, for tests of what clients survive."""
        bad_audio = protocol.encode(server_event("response.output_audio.delta", **ids, delta="@@"))
        for frame in ("not json {", b"\x00\xff binary", "[1, 2]", '{"no": "type"}', bad_audio):
            await self.ws.send(frame)

    def drop(self) -> None:
        """The socket drops with no close frame (a fault)."""
        self.ws.transport.abort()
