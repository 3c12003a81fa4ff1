"""The page's audio engine, server side: one WebSocket per tab, a thin adapter over a visitor's set.

The page (`comedy/web/engine_page/`) captures the microphone as 24 kHz PCM16 in 20 ms frames and plays
the comedian through a ring-buffer AudioWorklet. Over the socket:

- page -> server, binary: a microphone frame, `[channels: u8][0: u8][PCM16 LE...]`: channels 1 is
  the microphone alone (nothing was playing, or the browser cancels echo itself); channels 2 is the
  microphone and then, as long again, what the page's player was rendering as each sample was
  captured (the reference the server's echo canceller takes the comedian out with);
- server -> page, binary: speech as it arrives, `[id length: u8][item id: ascii][PCM16 LE]`;
- server -> page, text: `{"type": "cut"}` (drop everything buffered), `{"type": "hold"}` (pause,
  keeping everything: a sound over the comedian is being heard), `{"type": "resume"}` (go on from
  the next sample), `{"type": "end", "item"}`;
- page -> server, text: `{"type": "played", "items": {item: samples}}` (what reached the output
  device, on the audio clock; `"final": true` after a cut, when all that was rendered was heard),
  `{"type": "started", "item", "ago_ms"}` (when an item's first sample reached the output device).

The socket is authorised by a one-use token with a short life, minted for the visitor's Gradio
session by a server function, so it drives the same set as the page's dropdowns and buttons.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.show.comedy_set import ComedySet
from comedy.show.speech_port import Cut, Landed, Piece, Scheduled
from comedy.sound.pacing import Pace
from comedy.stage.actions import Caption, EndOfAnswer, Hold, Play, Resume
from comedy.venue.club import Club
from comedy.venue.pages import Pages
from comedy.web import page_wire
from comedy.web.engine_frames import (
    MAX_TEXT_BYTES,
    read_microphone_frame,
    read_report,
    speech_frame,
    take_report,
)

PATH = "/engine/ws"
TOKEN_SECONDS = 60.0
VISITOR_MINTS, VISITOR_MINT_RATE = 5, 0.5  # a visitor's tokens: five in a row, then one each 2 s
PROCESS_MINTS, PROCESS_MINT_RATE = 100, 20.0  # everyone's: a hundred in a row, then twenty a second
MAX_SOCKETS = 200  # engine sockets open at once in the process (one per open tab)
FULL = 4429  # close code: no room for another socket
FOREIGN = 4403  # close code: opened from another site's page
REFUSED = 4401  # close code: no valid token
MESSAGES_PER_SECOND, MESSAGE_BURST = 250.0, 250.0  # a page sends about 100 a second (frames, reports)
MAX_FRAME_BYTES = SAMPLE_RATE * 2 * 2 + 2  # one second of microphone audio and its reference at most
TOO_BIG = 1009  # close codes (RFC 6455): a message over the limit...
UNREADABLE = 1007  # ...a message that cannot be read
REFERENCE_TAIL_SECONDS = 3.0  # a reference is taken this long after the speech sent should have played


class TooManyTokens(Exception):
    """Tokens are being asked for faster than a page reconnects."""


class Tokens:
    """One-use tokens with a short life, each naming the visitor (Gradio session) it was minted for.

    A visitor holds one live token at most (a new one replaces the last), and minting is paced:
    `VISITOR_MINTS` in a row and then one each `1 / VISITOR_MINT_RATE` seconds per visitor (a page
    reconnecting with backoff never gets near it), `PROCESS_MINT_RATE` a second over everyone.
    """

    def __init__(self, seconds: float = TOKEN_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self._clock = seconds, clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._of: dict[str, str] = {}  # visitor -> their live token
        self._paces: dict[str, Pace] = {}
        self._everyone = Pace(PROCESS_MINT_RATE, PROCESS_MINTS, clock)
        self._swept = clock()

    def mint(self, visitor: str) -> str:
        """A fresh token for `visitor` (their last one stops working); TooManyTokens if asked too often."""
        now = self._clock()
        if now - self._swept >= self.seconds:  # expired tokens go, once a token's life
            self._swept = now
            self._tokens = {t: (v, until) for t, (v, until) in self._tokens.items() if until > now}
            self._of = {v: t for v, t in self._of.items() if t in self._tokens}
            self._paces = {v: p for v, p in self._paces.items() if v in self._of}
        pace = self._paces.setdefault(visitor, Pace(VISITOR_MINT_RATE, VISITOR_MINTS, self._clock))
        if not pace.take(1) or not self._everyone.take(1):
            raise TooManyTokens("The audio engine was asked to connect too often: wait a few seconds.")
        self._tokens.pop(self._of.get(visitor, ""), None)
        token = secrets.token_urlsafe(24)
        self._tokens[token] = (visitor, now + self.seconds)
        self._of[visitor] = token
        return token

    def take(self, token: str | None) -> str | None:
        """The visitor a token was minted for, once; None for an unknown, used or expired token."""
        found = self._tokens.pop(token or "", None)
        if found is None:
            return None
        if self._of.get(found[0]) == token:
            del self._of[found[0]]
        return found[0] if found[1] > self._clock() else None

    def forget(self, visitor: str) -> None:
        """Drop the token of a visitor whose tab closed."""
        self._tokens.pop(self._of.pop(visitor, ""), None)
        self._paces.pop(visitor, None)

    def holders(self) -> set[str]:
        """The visitors holding a token now."""
        return {visitor for visitor, _ in self._tokens.values()}

    def __len__(self) -> int:
        return len(self._tokens)


@dataclass
class PlayClock:
    """When what was handed to a page's player will have played, by this side's reckoning."""

    until: float = 0.0  # monotonic
    held_at: float | None = None  # the player holds since then: nothing it has plays until it resumes
    landed: bool = False  # the answer's end was reckoned: a resume reckons it again

    def echoes(self, now: float) -> bool:
        """Whether the page's microphone may still hear what it was sent (its echo's tail, the
        device's buffers and the page's own lag included)."""
        return now <= self.until + REFERENCE_TAIL_SECONDS


async def speech(comedy_set: ComedySet, clock: PlayClock | None = None) -> AsyncIterator[Piece]:
    """The set's speech for the engine's player, which keeps its own clock: each piece as it
    arrives. The set is told when its audio should play and when an answer lands, by this side's
    reckoning of that clock (what it heard comes from the player's own reports)."""
    clock = clock or PlayClock()
    async for piece in comedy_set.port.speech():
        now = time.monotonic()
        match piece:
            case Play(item_id, pcm):
                plays_at = max(now, clock.until)
                comedy_set.player(Scheduled(item_id, pcm, plays_at))
                clock.until = plays_at + len(pcm) / SAMPLE_RATE
            case EndOfAnswer():
                clock.landed = True
                comedy_set.player(Landed(max(now, clock.until)))
            case Cut():
                clock.until, clock.held_at, clock.landed = now, None, False
            case Hold():
                clock.held_at = clock.held_at or now
            case Resume() if clock.held_at is not None:
                if clock.until > clock.held_at:  # what was still to play plays that much later
                    clock.until += now - clock.held_at
                    if clock.landed:
                        comedy_set.player(Landed(clock.until))
                clock.held_at = None
        yield piece


def speech_message(piece: Piece) -> str:
    """One piece of speech as text, for the fallback over Gradio's event stream."""
    n = next(_MESSAGES)
    match piece:
        case Caption(item_id, text, at):
            return json.dumps({"type": page_wire.WORDS, "item": item_id, "text": text, "at": at, "n": n})
        case Play(item_id, pcm):
            data = base64.b64encode(pcm.astype("<i2").tobytes()).decode("ascii")
            return json.dumps({"type": page_wire.AUDIO, "item": item_id, "pcm": data, "n": n})
        case EndOfAnswer(item_id):
            return json.dumps({"type": page_wire.END, "item": item_id, "pcm": "", "n": n})
        case Hold():
            return json.dumps({"type": page_wire.HOLD, "item": "", "pcm": "", "n": n})
        case Resume():
            return json.dumps({"type": page_wire.RESUME, "item": "", "pcm": "", "n": n})
    return json.dumps({"type": page_wire.CUT, "item": "", "pcm": "", "n": n})


_MESSAGES = itertools.count()  # every message differs, so Gradio never skips one as unchanged


def same_origin(headers: Mapping[str, str]) -> bool:
    """Whether a socket was opened by this app's own page: a browser always sends `Origin`, and
    another site's page has its own; a client that is no browser sends none (the token still
    holds it back). Behind a proxy (Spaces) the page's host arrives as `X-Forwarded-Host`."""
    origin = headers.get("origin")
    if origin is None:
        return True
    hosts = {h.strip().lower() for h in (headers.get("host", ""), headers.get("x-forwarded-host", "")) if h}
    return urlsplit(origin).netloc.lower() in hosts


class Engine:
    """The engine's sockets: which visitor each belongs to, and the adapter between it and the set."""

    def __init__(
        self, club: Club, pages: Pages, tokens: Tokens | None = None, max_sockets: int = MAX_SOCKETS
    ) -> None:
        self.club = club
        self.pages = pages
        self.tokens = tokens or Tokens()
        self.max_sockets = max_sockets
        self.sockets: dict[str, WebSocket] = {}
        self.first_frames: deque[tuple[str, float]] = deque(maxlen=10_000)  # (item, sent at): for benchmarks

    @staticmethod
    def tighten(server: object) -> None:
        """Gradio starts uvicorn with its WebSocket defaults: 16 MiB messages, compression on (a
        16 KB frame can inflate to 16 MiB before anything refuses it). The engine's socket is the
        app's only WebSocket: a message over `MAX_FRAME_BYTES` closes it while its header is read,
        and with compression off a compressed frame is a protocol error, never inflated. Uvicorn
        reads these for each new connection, so this holds from the first page on."""
        config = server.config  # type: ignore[attr-defined]
        config.ws_max_size = MAX_FRAME_BYTES
        config.ws_per_message_deflate = False

    def route(self) -> WebSocketRoute:
        """The route to add to Gradio's own app (`demo.launch(app_kwargs={"routes": [...]})`)."""
        return WebSocketRoute(PATH, self.serve)

    def mint(self, visitor: str) -> str:
        """A token for the visitor's socket: only while their page is open (its heartbeat is there)
        or they hold a seat; TooManyTokens otherwise, or when they ask too often."""
        if visitor not in self.pages and self.club.get(visitor) is None:
            raise TooManyTokens("The audio engine connects from an open page only: reload the page.")
        return self.tokens.mint(visitor)

    async def forget(self, visitor: str) -> None:
        """The tab closed: close its socket, drop its tokens."""
        self.tokens.forget(visitor)
        socket = self.sockets.pop(visitor, None)
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close(1001, "the tab closed")

    async def serve(self, websocket: WebSocket) -> None:
        """One tab's socket, until it closes."""
        if not same_origin(websocket.headers):
            await websocket.close(FOREIGN, "the engine serves this app's own page only")
            return
        visitor = self.tokens.take(websocket.query_params.get("token"))
        await websocket.accept()
        if visitor is None:
            await websocket.send_text(
                json.dumps({"type": page_wire.REFUSED, "message": "The engine's token was refused."})
            )
            await websocket.close(REFUSED, "token refused")
            return
        older = self.sockets.get(visitor)
        if older is None and len(self.sockets) >= self.max_sockets:
            message = "The club's audio engine is full: the page uses Gradio's own stream instead."
            await websocket.send_text(json.dumps({"type": page_wire.REFUSED, "message": message}))
            await websocket.close(FULL, "too many sockets")
            return
        self.sockets[visitor] = websocket
        if older is not None:  # a reconnect replaces the tab's old socket
            with contextlib.suppress(Exception):
                await older.close(1000, "replaced")
        clock = PlayClock()
        speaker = asyncio.create_task(self._speak(visitor, websocket, clock), name="engine-speaker")
        try:
            await self._listen(visitor, websocket, clock)
        except WebSocketDisconnect:
            pass
        finally:
            speaker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await speaker
            if self.sockets.get(visitor) is websocket:
                del self.sockets[visitor]

    async def _listen(self, visitor: str, websocket: WebSocket, clock: PlayClock) -> None:
        """Microphone frames and the player's reports, into the visitor's set. A frame's reference
        is taken only while this socket's speech may still echo (`clock`): the echo canceller runs
        for the comedian's voice, not for whatever a page says it played."""
        messages = Pace(MESSAGES_PER_SECOND, MESSAGE_BURST)
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not messages.take(1):  # receiving a message is work on the event loop, however small
                # Dropped, not closed: a closing handshake would read (and parse) the flood for its
                # reply, up to 10 s; returning without one, the server hangs up at once.
                return
            comedy_set = self.club.get(visitor)
            if message.get("bytes") is not None:
                frame = message["bytes"]
                if len(frame) > MAX_FRAME_BYTES:  # the server's own limit refuses these first
                    await websocket.close(TOO_BIG, "a microphone frame is at most one second")
                    return
                if comedy_set is not None:
                    with contextlib.suppress(ValueError):  # a malformed frame is dropped, as before
                        mic, reference = read_microphone_frame(frame)
                        echoes = reference is not None and clock.echoes(time.monotonic())
                        comedy_set.receive(SAMPLE_RATE, mic, reference if echoes else None)
                continue
            text = message.get("text") or ""
            if len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
                await websocket.close(TOO_BIG, f"a report is at most {MAX_TEXT_BYTES} bytes")
                return
            try:
                report = read_report(text)
            except ValueError as exc:
                await websocket.close(UNREADABLE, f"unreadable report: {exc}"[:120])
                return
            if comedy_set is not None:
                take_report(comedy_set, report)

    async def _speak(self, visitor: str, websocket: WebSocket, clock: PlayClock) -> None:
        """The set's speech to the page as it arrives: the page's player keeps the clock."""
        last_item = ""
        async for comedy_set in self.club.sets_of(visitor):
            comedy_set.heard_through("the Web Audio engine")
            async for piece in speech(comedy_set, clock):
                match piece:
                    case Play(item_id, pcm):
                        await websocket.send_bytes(speech_frame(item_id, pcm))
                        if item_id != last_item:
                            last_item = item_id
                            self.first_frames.append((item_id, time.monotonic()))
                    case Caption(item_id, text, at):
                        message = {"type": page_wire.WORDS, "item": item_id, "text": text, "at": at}
                        await websocket.send_text(json.dumps(message))
                    case EndOfAnswer(item_id):
                        await websocket.send_text(json.dumps({"type": page_wire.END, "item": item_id}))
                    case Cut():
                        await websocket.send_text(json.dumps({"type": page_wire.CUT, "item": ""}))
                    case Hold():
                        await websocket.send_text(json.dumps({"type": page_wire.HOLD}))
                    case Resume():
                        await websocket.send_text(json.dumps({"type": page_wire.RESUME}))
