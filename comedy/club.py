"""One comedy set per visitor: microphone in (`receive`), speech out (`emit`), a transcript between.

The data flows one way: microphone chunks -> the Realtime session -> the speaker queue, while a
reader task turns server events into the transcript, the status line and audio to play.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

import numpy as np

from comedy import audio, prompts, protocol
from comedy.config import redact
from comedy.protocol import SAMPLE_RATE, Event
from comedy.realtime import RealtimeError, RealtimeSession

log = logging.getLogger(__name__)

CHUNK_SAMPLES = SAMPLE_RATE // 10  # 100 ms of speech per yield
LEAD_SECONDS = 0.3  # how far ahead of playback the speaker may run
MIC_QUEUE_CHUNKS = 50  # 5 s of microphone audio waiting at most


@dataclass
class Turn:
    """One line of the transcript."""

    role: str  # "user" or "assistant"
    text: str = ""
    item_id: str | None = None
    note: str = ""  # e.g. "cut off", "house comedian"

    def shown(self) -> str:
        """The line as the transcript shows it."""
        note = f" _({self.note})_" if self.note else ""
        return (self.text or "…") + note


@dataclass
class Endpoint:
    """Where a set's Realtime session goes; `repr` never shows the key."""

    url: str
    key: str = field(repr=False)
    rehearsal: bool
    model: str = protocol.DEFAULT_MODEL
    prompt_id: str | None = None
    prompt_version: str | None = None

    @property
    def label(self) -> str:
        """Rehearsal or OpenAI, in words."""
        return "Rehearsal mode" if self.rehearsal else "OpenAI Realtime"


class ComedySet:
    """A visitor's set: owns one Realtime session, the transcript, the status and the speaker queue."""

    def __init__(
        self,
        endpoint: Endpoint,
        set_up: prompts.SetUp,
        *,
        hands_free: bool = True,
        max_seconds: float = 900.0,
        response_timeout: float = 20.0,
    ) -> None:
        self.endpoint = endpoint
        self.set_up = set_up
        self.hands_free = hands_free
        self.max_seconds = max_seconds
        self.response_timeout = response_timeout
        self.transcript: list[Turn] = []
        self.status = "Not started"
        self.last_error = ""
        self.version = 0  # bumped on every change the page should show
        self.closed = False
        self.started_at: float | None = None
        self._session: RealtimeSession | None = None
        self._spoken = False  # the comedian has spoken in this session: the voice is fixed
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._mic: asyncio.Queue[tuple[int, np.ndarray] | None] = asyncio.Queue(MIC_QUEUE_CHUNKS)
        self._speaker: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        self._mic_path = audio.MicrophonePath()
        self._last_request: str | None = None
        self._answering: Turn | None = None  # the comedian's line being spoken now
        self._retries_left = 2

    # --- the visible state

    def _changed(self, status: str | None = None, error: str | None = None) -> None:
        if status is not None:
            self.status = status
        if error is not None:
            self.last_error = redact(error, self.endpoint.key)
        self.version += 1

    def status_line(self) -> str:
        """Mode, connection and the last error, in one line of words."""
        parts = [self.endpoint.label, self.status]
        if self.last_error:
            parts.append(f"Last problem: {self.last_error}")
        return " · ".join(parts)

    def messages(self) -> list[dict]:
        """The transcript as chat messages."""
        return [{"role": t.role, "content": t.shown()} for t in self.transcript]

    # --- starting and stopping

    async def start(self) -> None:
        """Connect (once); safe to call from every event that needs the set running."""
        async with self._lock:
            if self._session is not None or self.closed:
                return
            self._changed("Connecting…")
            try:
                await self._open_session()
            except RealtimeError as exc:
                self._changed("Not connected", str(exc))
                raise
            self.started_at = time.monotonic()
            self._tasks = [
                asyncio.create_task(self._read(), name="set-reader"),
                asyncio.create_task(self._send_microphone(), name="set-mic"),
                asyncio.create_task(self._watch_the_clock(), name="set-clock"),
            ]

    async def _open_session(self) -> None:
        session = RealtimeSession(
            self.endpoint.url,
            self.endpoint.key,
            self.endpoint.model,
            response_timeout=self.response_timeout,
        )
        await session.__aenter__()
        self._session = session
        self._spoken = False
        await session.send(self._session_update())
        self._changed("Connected: talk, or type a topic")

    def _session_update(self) -> Event:
        return prompts.session_update(
            self.set_up,
            prompt_id=self.endpoint.prompt_id,
            prompt_version=self.endpoint.prompt_version,
            hands_free=self.hands_free,
        )

    async def close(self, reason: str = "The set is over") -> None:
        """End the set: close the socket, stop the tasks, release the speaker. Idempotent."""
        if self.closed:
            return
        self.closed = True
        log.info("set closed: %s", reason)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
        self._speaker.put_nowait(None)
        self._changed(reason)

    async def _watch_the_clock(self) -> None:
        await asyncio.sleep(self.max_seconds)
        await self.close(
            f"The set reached its limit of {self.max_seconds / 60:g} minutes. Thanks for coming!"
        )

    # --- input: microphone and buttons

    def receive(self, rate: int, samples: np.ndarray) -> None:
        """A microphone chunk, handed on at once (a slow handler makes Gradio drop chunks)."""
        if self.closed:
            return
        try:
            self._mic.put_nowait((rate, samples))
        except asyncio.QueueFull:
            self._changed(error="The microphone is sending faster than the connection takes it.")

    async def _send_microphone(self) -> None:
        while True:
            item = await self._mic.get()
            if item is None:
                chunks = self._mic_path.flush()
            else:
                try:
                    chunks = self._mic_path.feed(*item)
                except ValueError as exc:
                    self._changed(error=f"Skipped an unreadable microphone chunk: {exc}")
                    continue
            for chunk in chunks:
                await self._send(protocol.audio_append(chunk))
            if item is None and not self.hands_free:
                await self._send(protocol.audio_commit())
                await self._send(protocol.response_create())

    async def stop_talking(self) -> None:
        """The visitor released push-to-talk: send what they said as one turn."""
        if not self.hands_free and not self.closed:
            await self._mic.put(None)

    async def tell(self, topic: str) -> None:
        """The visitor typed a topic and asked for a joke."""
        await self.start()
        request = prompts.joke_request(topic)
        if topic.strip() and topic.strip() != self.set_up.topic:
            await self.change(replace(self.set_up, topic=topic.strip()))
        self._last_request = request
        self._retries_left = 2
        self.transcript.append(Turn("user", request))
        self._changed()
        await self._send(protocol.user_text(request))
        await self._send(protocol.response_create())

    async def change(
        self, set_up: prompts.SetUp, hands_free: bool | None = None, model: str | None = None
    ) -> None:
        """New choices mid-set: a session.update at once, or a fresh session where the API needs one."""
        voice_changed = set_up.voice != self.set_up.voice
        model_changed = model is not None and model != self.endpoint.model
        self.set_up = set_up
        if hands_free is not None:
            self.hands_free = hands_free
        if model_changed:
            self.endpoint = replace(self.endpoint, model=model)
        if self._session is None or self.closed:
            return
        if model_changed or (voice_changed and self._spoken):
            # The API fixes the voice once the model has spoken, and the model per connection.
            await self._restart("a new voice" if voice_changed else f"the model {model}")
        else:
            await self._send(self._session_update())

    async def _restart(self, why: str) -> None:
        async with self._lock:
            old, self._session = self._session, None
            if old is not None:
                await old.close()
            self._drop_speech()
            try:
                await self._open_session()
            except RealtimeError as exc:
                self._changed("Not connected", str(exc))
                return
            for turn in self.transcript[-6:]:  # the new session remembers the last few lines
                remembered = protocol.user_text if turn.role == "user" else protocol.assistant_text
                await self._send(remembered(turn.text))
            self._changed(f"Connected: restarted the session for {why}; the transcript is kept")
            reader = asyncio.create_task(self._read(), name="set-reader")
            self._tasks = [t for t in self._tasks if t.get_name() != "set-reader"] + [reader]

    async def _send(self, event: Event) -> None:
        session = self._session
        if session is None:
            return
        try:
            await session.send(event)
        except RealtimeError as exc:
            self._changed(error=str(exc))

    # --- output: the speaker

    async def emit(self) -> AsyncIterator[np.ndarray]:
        """100 ms int16 chunks of the comedian's speech, paced to stay just ahead of playback."""
        pending = np.zeros(0, np.int16)
        play_end = 0.0
        while True:
            piece = await self._speaker.get()
            if piece is None:
                break
            pending = np.concatenate([pending, piece])
            flush = piece.size == 0  # an empty piece marks the end of an answer
            while len(pending) >= CHUNK_SAMPLES or (flush and len(pending)):
                chunk, pending = pending[:CHUNK_SAMPLES], pending[CHUNK_SAMPLES:]
                if len(chunk) < CHUNK_SAMPLES:
                    chunk = np.concatenate([chunk, np.zeros(CHUNK_SAMPLES - len(chunk), np.int16)])
                now = time.monotonic()
                play_end = max(play_end, now)
                if play_end - now > LEAD_SECONDS:
                    await asyncio.sleep(play_end - now - LEAD_SECONDS)
                play_end += CHUNK_SAMPLES / SAMPLE_RATE
                yield chunk

    def _drop_speech(self) -> None:
        while not self._speaker.empty():
            if self._speaker.get_nowait() is None:
                self._speaker.put_nowait(None)
                break

    # --- the reader: server events -> transcript, status, speaker

    async def _read(self) -> None:
        session = self._session
        if session is None:
            return
        async for event in session:
            try:
                await self._on_event(event)
            except Exception as exc:  # one odd event must not end the show
                log.warning("could not handle a %s event: %s", event.get("type"), exc)
                self._changed(error=f"Skipped an event the app could not read ({event.get('type')}).")

    def _turn(self, role: str, item_id: str | None) -> Turn:
        for turn in reversed(self.transcript):
            if turn.item_id == item_id and item_id is not None:
                return turn
        turn = Turn(role, item_id=item_id)
        self.transcript.append(turn)
        return turn

    async def _on_event(self, event: Event) -> None:
        kind = event["type"]
        if kind == "response.output_audio.delta":
            self._speaker.put_nowait(audio.pcm16_array(protocol.audio_of(event)))
            self._spoken = True
        elif kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            self._answering = self._turn("assistant", event.get("item_id"))
            self._answering.text += event.get("delta", "")
            self._changed()
        elif kind == "response.created":
            self._changed("Performing…")
        elif kind == "response.done":
            await self._on_done(event.get("response") or {})
        elif kind == "input_audio_buffer.speech_started":
            self._turn("user", event.get("item_id")).note = "listening…"
            self._changed("Listening…")
        elif kind == "input_audio_buffer.speech_stopped":
            self._turn("user", event.get("item_id")).note = ""
            self._last_request, self._retries_left = None, 2
            self._changed("Thinking…")
        elif kind == "conversation.item.input_audio_transcription.completed":
            self._turn("user", event.get("item_id")).text = event.get("transcript", "")
            self._changed()
        elif kind == "error":
            await self._on_error(protocol.ApiError.from_event(event))
        elif kind == "local.disconnected":
            if self._answering is not None:
                self._answering.note = "cut off: the connection dropped"
                self._answering = None
            self._drop_speech()
            self._changed("Reconnecting…", event["message"])
        elif kind == "local.reconnected":
            self._changed("Connected again")
            if event.get("lost_answer"):
                await self._ask_again("the connection dropped mid-answer", conversation_lost=True)
        elif kind == "local.gave_up":
            self._changed("Not connected", event["message"])
            self._session = None
        elif kind == "local.response_timeout":
            self._changed(error=event["message"])
            await self._send(protocol.response_cancel())
            await self._ask_again("the answer stalled")
        elif kind == "local.protocol_error":
            self._changed(error=event["message"])

    async def _on_done(self, response: dict) -> None:
        self._answering = None
        self._speaker.put_nowait(np.zeros(0, np.int16))  # play out the tail of the answer
        status = response.get("status")
        for item in response.get("output") or []:
            turn = self._turn("assistant", item.get("id"))
            if status == "cancelled":
                turn.note = "cut off"
            elif status == "failed":
                turn.note = "failed"
        if status == "failed":
            error = ((response.get("status_details") or {}).get("error") or {}).get("message")
            self._changed(error=f"The answer failed: {error or 'no reason given'}")
            await self._ask_again("the answer failed")
        self._changed("Connected: your turn")

    async def _on_error(self, error: protocol.ApiError) -> None:
        self._changed(error=str(error))
        if error.retryable:
            await asyncio.sleep(min(error.retry_after or 1.0, 10.0))
            await self._ask_again("the Realtime API was busy")

    async def _ask_again(self, why: str, conversation_lost: bool = False) -> None:
        """Retry the last answer a couple of times, saying so."""
        if self._retries_left <= 0:
            self._changed("Connected: your turn", f"Gave up after {why}. Try again.")
            return
        self._retries_left -= 1
        self._changed(f"Trying again: {why}")
        if conversation_lost and self._last_request is not None:
            # A new session has no conversation: ask in words again.
            await self._send(protocol.user_text(self._last_request))
        await self._send(protocol.response_create())


class ClubFull(RuntimeError):
    """Every seat is taken: the process holds as many sets as it was told to."""


class Club:
    """The sets of one app process, one per browser tab, with the owner's cap on how many."""

    def __init__(self, max_sets: int = 20) -> None:
        self.max_sets = max_sets
        self.sets: dict[str, ComedySet] = {}
        self._left: set[str] = set()  # visitors whose tab closed, until their speaker notices

    def get(self, visitor: str) -> ComedySet | None:
        """The visitor's open set, if any."""
        found = self.sets.get(visitor)
        return found if found is not None and not found.closed else None

    def open(self, visitor: str, make: Callable[[], ComedySet]) -> ComedySet:
        """The visitor's set, opening one with `make` if they have none; ClubFull past the cap."""
        found = self.get(visitor)
        if found is not None:
            return found
        open_sets = sum(1 for s in self.sets.values() if not s.closed)
        if open_sets >= self.max_sets:
            raise ClubFull("The club is full, try again in a minute.")
        self.sets[visitor] = made = make()
        return made

    async def next_set(self, visitor: str, poll: float = 0.1) -> ComedySet | None:
        """Wait until the visitor has an open set; None once they have left."""
        while True:
            if visitor in self._left:
                self._left.discard(visitor)
                return None
            found = self.get(visitor)
            if found is not None:
                return found
            await asyncio.sleep(poll)

    async def hang_up(
        self, visitor: str, reason: str = "The set is over", left: bool = False
    ) -> ComedySet | None:
        """Close and forget the visitor's set; `left` when their tab closed."""
        if left:
            self._left.add(visitor)
        found = self.sets.pop(visitor, None)
        if found is not None:
            await found.close(reason)
        return found
