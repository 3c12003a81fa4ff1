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

from comedy import audio, endings, models, pricing, prompts, protocol
from comedy.budget import MIN_ANSWER_TOKENS, Allowance, Context, answer_cap, worst_answer_usd
from comedy.meters import Meters
from comedy.protocol import SAMPLE_RATE, Event
from comedy.realtime import RealtimeError, RealtimeSession
from comedy.recording import SetRecorder, set_archive, transcript_markdown
from comedy.redaction import redact
from comedy.room import RoomReading, read_room
from comedy.stored_prompt import StoredPrompt, apply_settings

log = logging.getLogger(__name__)

CHUNK_SAMPLES = SAMPLE_RATE // 10  # 100 ms of speech per yield
LEAD_SECONDS = 0.3  # how far ahead of playback the speaker may run
MIC_QUEUE_CHUNKS = 50  # 5 s of microphone audio waiting at most
MAX_CHUNK_SECONDS = 2.0  # the longest microphone chunk taken (the page sends 0.1 s)
CUT_REPORT_SECONDS = 0.3  # how long a cut waits for the page to say where it stopped
ROOM_SECONDS = 3.0  # how long the room reader listens after a punchline
CUT = "\x00cut"  # a speaker-queue entry: a heckle dropped what the player holds
_EMPTY = np.zeros(0, np.int16)


@dataclass
class Turn:
    """One line of the transcript."""

    role: str  # "user" or "assistant"
    text: str = ""
    item_id: str | None = None
    note: str = ""  # e.g. "cut off", "house comedian"
    at: float = 0.0  # seconds into the set

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
    model: str = models.DEFAULT_MODEL
    stored_prompt: StoredPrompt | None = None  # shared by the process's sets: refused once, gone for all
    reasoning_effort: str = models.DEFAULT_REASONING_EFFORT
    max_output_tokens: int = prompts.DEFAULT_MAX_OUTPUT_TOKENS

    @property
    def tuning(self) -> prompts.Tuning:
        """The owner's settings for the comedian on this endpoint."""
        return prompts.Tuning(self.model, self.reasoning_effort, self.max_output_tokens)

    @property
    def label(self) -> str:
        """Rehearsal or OpenAI, in words."""
        return "Rehearsal mode" if self.rehearsal else "OpenAI Realtime"


@dataclass
class Limits:
    """What a Space owner allows a set: idle time, and the visitor's allowance of the owner's money
    (None: not the owner's money, as in rehearsal or with a visitor's own key)."""

    idle_seconds: float = 300.0
    allowance: Allowance | None = None


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
        reconnect_window: float = 60.0,
        prices: pricing.Prices | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.set_up = set_up
        self.hands_free = hands_free
        self.max_seconds = max_seconds
        self.response_timeout = response_timeout
        self.reconnect_window = reconnect_window  # how long a dropped connection is tried again
        self.transcript: list[Turn] = []
        self.status = "Not started"
        self.last_error = ""
        self.version = 0  # bumped on every change the page should show
        self.sound = ""  # the path the visitor hears it through, once a player is attached
        self._news = asyncio.Event()  # set by every such change, for the page's stream
        self.closed = False
        self.started_at = time.monotonic()
        self.ended_at: float | None = None
        self.meters = Meters(prices or pricing.prices_for(endpoint.model))
        self.limits = limits or Limits()
        self._last_activity = time.monotonic()
        self.recorder = SetRecorder(max_seconds + 60)
        self.room: RoomReading | None = None
        self.barges = 0  # heckles so far; the page drops its buffered audio on each
        self._session: RealtimeSession | None = None
        self._spoken = False  # the comedian has spoken in this session: the voice is fixed
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()  # every task the set started; all cancelled on close
        self._context = Context()  # the conversation's size at the last answer, for the worst case
        self._cap_sent: int | None = None  # the answer cap the session was last told
        self._mic: asyncio.Queue[tuple[int, np.ndarray] | None] = asyncio.Queue(MIC_QUEUE_CHUNKS)
        # (item_id, pcm) to play; an empty pcm ends an answer; None ends the set.
        self._speaker: asyncio.Queue[tuple[str, np.ndarray] | None] = asyncio.Queue()
        self._generation = 0  # bumped by a heckle: what the speaker holds is dropped
        self._received: dict[str, int] = {}  # samples of each answer that arrived
        self._played: dict[str, int] = {}  # samples of each answer handed to the browser
        self._audio_item: str | None = None  # the answer heard last
        self._stream_end = 0.0  # when what `stream` has handed out will have played
        self._player_reports = False  # a player that reports what it played (the engine) is attached
        self._cut_reported = asyncio.Event()
        self._audio_items: list[str] = []  # items with audio not yet all heard, in order (2.x: several)
        self._unheard: list[str] = []  # items the visitor never heard, deleted once their answer ends
        self._response_active = False
        self._idle = asyncio.Event()  # set while no answer is in progress
        self._idle.set()
        self.first_audio_handed: dict[str, float] = {}  # answer -> when its audio first went out
        self._room_window: tuple[float, float] | None = None
        self._room_audio: list[np.ndarray] = []
        self._mic_path = audio.MicrophonePath()
        self._last_request: str | None = None
        self._lost_answer = False  # the connection went with an answer owed: ask again on reconnect
        self._answering: Turn | None = None  # the comedian's line being spoken now
        self._retries_left = 2

    # --- the visible state

    def _changed(self, status: str | None = None, error: str | None = None) -> None:
        if status is not None:
            self.status = status
        if error is not None:
            self.last_error = redact(error, self.endpoint.key)
        self.version += 1
        self._news.set()

    async def news(self, timeout: float = 1.0) -> None:
        """Wait until something the page shows has changed (or `timeout` passed)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._news.wait()
        self._news.clear()

    def heard_through(self, path: str) -> None:
        """Say which path the visitor hears the set through (the engine, or Gradio's audio)."""
        if path != self.sound:
            self.sound = path
            self._changed()

    def status_line(self) -> str:
        """Mode, sound path, connection and the last error, in one line of words."""
        parts = [self.endpoint.label]
        if self.sound:
            parts.append(f"Sound: {self.sound}")
        parts.append(self.status)
        if self.last_error:
            parts.append(f"Last problem: {self.last_error}")
        return " · ".join(parts)

    def messages(self) -> list[dict]:
        """The transcript as chat messages."""
        return [{"role": t.role, "content": t.shown()} for t in self.transcript]

    def now(self) -> float:
        """Seconds into the set."""
        return time.monotonic() - self.started_at

    def archive(self) -> bytes:
        """The set so far as one download: `set.wav` (both sides) and `set.md` (transcript, figures)."""
        length = (self.ended_at or time.monotonic()) - self.started_at
        who = {"user": "Visitor", "assistant": "Comedian"}
        lines = [(t.at, who[t.role], t.shown()) for t in self.transcript]
        title = f"A set with {self.set_up.voice} ({self.set_up.style}), {length:.1f} s"
        markdown = transcript_markdown(title, lines, self.meters.summary())
        return set_archive(self.recorder.render(length), markdown)

    # --- starting and stopping

    async def start(self) -> None:
        """Connect; safe to call from every event that needs the set running. After the connection
        was given up, the next call connects again and re-tells the set to the new session."""
        async with self._lock:
            if self._session is not None or self.closed:
                return
            first = not self._tasks
            self._changed("Connecting…" if first else "Connecting again…")
            try:
                await self._open_session()
            except RealtimeError as exc:
                self._changed("Not connected", str(exc))
                raise
            self._spawn(self._read(), "set-reader")
            if first:
                self._spawn(self._send_microphone(), "set-mic")
                self._spawn(self._watch_the_clock(), "set-clock")
                return
        await self._retell("Connected again: the set goes on")

    def _spawn(self, work, name: str) -> asyncio.Task:
        """Run `work` as a task the set owns: it is cancelled when the set closes."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _open_session(self) -> None:
        session = RealtimeSession(
            self.endpoint.url,
            self.endpoint.key,
            self.endpoint.model,
            response_timeout=self.response_timeout,
            reconnect_window=self.reconnect_window,
        )
        await session.__aenter__()
        self._session = session
        self._spoken = False
        note = await apply_settings(session, self._session_update, self.endpoint.stored_prompt)
        self._changed("Connected: talk, or type a topic", note)

    def _session_update(self) -> Event:
        set_up = self.set_up
        if set_up.reaction == "auto":  # the room reader's verdict stands in
            heard = self.room.reaction if self.room else "warming up"
            set_up = replace(set_up, reaction=heard)
        stored = self.endpoint.stored_prompt
        prompt = stored.reference(set_up) if stored else None
        tuning = self.endpoint.tuning
        if (cap := self._cap()) is not None and cap:
            tuning = replace(tuning, max_output_tokens=cap)  # answers the server starts keep the budget
        self._cap_sent = cap
        return prompts.session_update(
            set_up,
            tuning,
            prompt=prompt,
            hands_free=self.hands_free,
            event_id=StoredPrompt.event_id() if prompt else None,
        )

    async def close(self, reason: str = "The set is over") -> None:
        """End the set: close the socket, stop the tasks, release the speaker. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.ended_at = time.monotonic()
        self._changed(reason)  # said at once: the closing below takes a moment
        log.info("set closed: %s", reason)
        others = [t for t in self._tasks if t is not asyncio.current_task()]  # close may run in one
        for task in others:
            task.cancel()
        for task in others:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._session is not None:
            await self._session.close()
        self._speaker.put_nowait(None)
        self._changed(reason)

    async def _watch_the_clock(self) -> None:
        """Close the set at its length limit, or when nobody has done anything for a while."""
        while True:
            now = time.monotonic()
            if now - self.started_at >= self.max_seconds:
                minutes = self.max_seconds / 60
                await self.close(f"The set reached its limit of {minutes:g} minutes. Thanks for coming!")
                return
            idle = self.limits.idle_seconds
            if idle and now - self._last_activity >= idle and self._idle.is_set():
                await self.close(f"Closed after {idle / 60:g} minutes of quiet. Start a new set any time.")
                return
            await asyncio.sleep(min(1.0, max(0.05, idle / 10 if idle else 1.0)))

    def _active(self) -> None:
        self._last_activity = time.monotonic()

    # --- input: microphone and buttons

    def receive(self, rate: int, samples: np.ndarray) -> None:
        """A microphone chunk, handed on at once (a slow handler makes Gradio drop chunks).

        A live microphone sends a tenth of a second at a time: a chunk longer than a couple of
        seconds is not one, and is skipped with a word.
        """
        if self.closed:
            return
        frames = max(np.shape(samples), default=0)  # (N,), (N, channels) or (channels, N)
        if rate > 0 and frames > rate * MAX_CHUNK_SECONDS:
            self._changed(
                error=f"Skipped a microphone chunk of {frames / rate:.0f} s: not a live microphone."
            )
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
            if chunks:
                pcm = audio.pcm16_array(b"".join(chunks))  # one view of what was just sent
                self.recorder.add(self.now() - len(pcm) / SAMPLE_RATE, pcm)
                await self._listen_to_the_room(pcm)
            if item is None and not self.hands_free:
                await self._send(protocol.audio_commit())
                await self._ask()

    async def _listen_to_the_room(self, pcm: np.ndarray) -> None:
        """After a punchline, collect the room's sound; when the window closes, read it."""
        if self._room_window is None:
            return
        now = time.monotonic()
        start, end = self._room_window
        if now >= start:
            self._room_audio.append(pcm)
        if now >= end:
            await self._read_the_room()

    async def _read_the_room(self) -> None:
        heard = np.concatenate(self._room_audio) if self._room_audio else np.zeros(0, np.int16)
        self._room_window, self._room_audio = None, []
        if len(heard) < SAMPLE_RATE // 2:
            return  # too little to tell
        self.room = read_room(heard)
        self._changed()
        if self.set_up.reaction == "auto":
            await self._send(self._session_update())

    async def stop_talking(self) -> None:
        """The visitor released push-to-talk: send what they said as one turn."""
        if not self.hands_free and not self.closed:
            await self._mic.put(None)

    async def tell(self, topic: str) -> None:
        """The visitor typed a topic and asked for a joke."""
        await self.start()
        self._active()
        request = prompts.joke_request(topic)
        if topic.strip() and topic.strip() != self.set_up.topic:
            await self.change(replace(self.set_up, topic=topic.strip()))
        if await self._interrupt("skipped for a new joke"):
            # The API takes no new answer while one is active: wait for the cancel to land.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3):
                    await self._idle.wait()
        self._last_request = request
        self._retries_left = 2
        self.meters.turn_ended(time.monotonic())
        self.transcript.append(Turn("user", request, at=self.now()))
        self._changed()
        await self._send(protocol.user_text(request))
        await self._ask()

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
            await self._remind()
            self._changed(f"Connected: restarted the session for {why}; the transcript is kept")
            self._spawn(self._read(), "set-reader")

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
        """100 ms int16 chunks of the comedian's speech, paced to stay just ahead of playback.

        Counts what it hands on per answer: that, not what arrived, is where a heckle cuts.
        """
        pending, item_id, last_item = np.zeros(0, np.int16), "", ""
        generation, play_end = self._generation, 0.0
        while (entry := await self._speaker.get()) is not None:
            if generation != self._generation:  # a heckle: drop what was waiting
                pending, generation = np.zeros(0, np.int16), self._generation
            item_id, piece = entry
            if item_id == CUT:
                continue
            pending = np.concatenate([pending, piece])
            end_of_answer = piece.size == 0
            while len(pending) >= CHUNK_SAMPLES or (end_of_answer and len(pending)):
                chunk, pending = pending[:CHUNK_SAMPLES], pending[CHUNK_SAMPLES:]
                real = len(chunk)
                chunk = np.pad(chunk, (0, CHUNK_SAMPLES - real))
                now = time.monotonic()
                play_end = max(play_end, now)
                if play_end - now > LEAD_SECONDS:
                    await asyncio.sleep(play_end - now - LEAD_SECONDS)
                if generation != self._generation:
                    pending = np.zeros(0, np.int16)
                    break
                self._played[item_id] = self._played.get(item_id, 0) + real
                self.recorder.add(play_end - self.started_at, chunk[:real])
                if item_id != last_item:  # an answer's first audio: the latency clock stops
                    last_item = item_id
                    self.first_audio_handed[item_id] = time.monotonic()
                    if self.meters.audio_played(time.monotonic()) is not None:
                        self._changed()
                play_end += CHUNK_SAMPLES / SAMPLE_RATE
                yield chunk
            if end_of_answer and generation == self._generation:
                # The punchline has landed once the browser has played it: then hear the room.
                self._room_window = (play_end, play_end + ROOM_SECONDS)
                self._room_audio = []

    async def stream(self) -> AsyncIterator[tuple[str, str, np.ndarray | None]]:
        """Speech as it arrives, for a player that keeps its own clock and reports what it played
        (the page's engine): `("audio", item, pcm)`; `("end", item, None)` once an answer is all
        sent; `("cut", "", None)` when a heckle drops what the player holds.

        What was heard, and so where a heckle cuts, comes from the player's reports (`heard`).
        """
        try:
            async for piece in self._stream():
                yield piece
        finally:
            self._player_reports = False  # the player left: a cut no longer waits for its word

    async def _stream(self) -> AsyncIterator[tuple[str, str, np.ndarray | None]]:
        while (entry := await self._speaker.get()) is not None:
            item_id, piece = entry
            now = time.monotonic()
            if item_id == CUT:
                self._stream_end = now
                yield "cut", "", None
            elif piece.size == 0:
                start = max(now, self._stream_end)  # the punchline lands when the player gets there
                self._room_window, self._room_audio = (start, start + ROOM_SECONDS), []
                yield "end", item_id, None
            else:
                plays_at = max(now, self._stream_end)
                self.recorder.add(plays_at - self.started_at, piece)
                self._stream_end = plays_at + len(piece) / SAMPLE_RATE
                yield "audio", item_id, piece

    def heard(self, item_id: str, samples: int) -> None:
        """The player's report: `samples` of an item have reached the visitor (never more than arrived)."""
        self._player_reports = True
        received = self._received.get(item_id)
        if received is not None:
            self._played[item_id] = min(received, max(samples, self._played.get(item_id, 0)))

    def cut_heard(self) -> None:
        """The player's report after a cut: its counts now say all the visitor heard."""
        self._cut_reported.set()

    def started(self, item_id: str, at: float) -> None:
        """The player's report: an item's first sample reached the output device at `at` (monotonic)."""
        if item_id in self._received and item_id not in self.first_audio_handed:
            self.first_audio_handed[item_id] = at
            if self.meters.audio_played(at) is not None:
                self._changed()

    def _drop_speech(self) -> None:
        self._generation += 1
        while not self._speaker.empty():
            if self._speaker.get_nowait() is None:
                self._speaker.put_nowait(None)
                return
        self._speaker.put_nowait((CUT, _EMPTY))  # a player that keeps its own buffer drops it

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
        turn = Turn(role, item_id=item_id, at=self.now())
        self.transcript.append(turn)
        return turn

    async def _on_event(self, event: Event) -> None:
        kind = event["type"]
        if kind == "response.output_audio.delta":
            pcm = audio.pcm16_array(protocol.audio_of(event))
            item_id = event.get("item_id", "")
            self._received[item_id] = self._received.get(item_id, 0) + len(pcm)
            self._audio_item = item_id
            if item_id not in self._audio_items:
                self._audio_items.append(item_id)
            self._speaker.put_nowait((item_id, pcm))
            self._spoken = True
        elif kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
            self._answering = self._turn("assistant", event.get("item_id"))
            if not self._answering.text:
                self._answering.at = self.now()
            self._answering.text += event.get("delta", "")
            self._changed()
        elif kind == "response.created":
            self._response_active = True
            self._idle.clear()
            self._audio_items = [i for i in self._audio_items if self._unplayed(i)]
            if self._room_window is not None:  # the comedian talks again: the room has spoken
                await self._read_the_room()
            self._changed("Performing…")
        elif kind == "response.done":
            await self._on_done(event.get("response") or {})
        elif kind == "input_audio_buffer.speech_started":
            self._active()
            turn = self._turn("user", event.get("item_id"))
            turn.at = self.now()
            turn.note = "heckle" if await self._interrupt("heckled") else "listening…"
            self._changed("Listening…")
        elif kind == "input_audio_buffer.speech_stopped":
            turn = self._turn("user", event.get("item_id"))
            turn.note = "heckle" if turn.note == "heckle" else ""
            self._last_request, self._retries_left = None, 2
            self.meters.turn_ended(time.monotonic())
            self._changed("Thinking…")
        elif kind == "conversation.item.input_audio_transcription.completed":
            self._turn("user", event.get("item_id")).text = event.get("transcript", "")
            if isinstance(event.get("usage"), dict):
                await self._spend(self.meters.add_transcription(event["usage"], protocol.TRANSCRIPTION_MODEL))
            self._changed()
        elif kind == "error":
            await self._on_error(protocol.ApiError.from_event(event))
        elif kind == "local.disconnected":
            if self._answering is not None:
                self._answering.note = "cut off: the connection dropped"
                self._answering = None
            self._drop_speech()
            self._response_active = False
            self._idle.set()
            expired = "session_expired" in event["message"]  # the API's 60-minute limit, said already
            self._changed("Reconnecting…", None if expired else event["message"])
            self._lost_answer = self._lost_answer or bool(event.get("lost_answer"))
            if not self.endpoint.rehearsal:
                self._spawn(self._house_comedian_covers(), "set-cover")
        elif kind == "local.reconnected":
            await self._retell("Connected again: the set goes on")
        elif kind == "local.gave_up":
            self._changed("Not connected: the set goes on with your next request", event["message"])
            self._session = None
        elif kind == "local.response_timeout":
            self._changed(error=event["message"])
            await self._send(protocol.response_cancel())
            await self._ask_again("the answer stalled")
        elif kind == "local.protocol_error":
            self._changed(error=event["message"])

    async def _retell(self, status: str) -> None:
        """A new session knows nothing of the set: remind it, and ask again for an answer the drop lost."""
        lost, self._lost_answer = self._lost_answer, False
        await self._remind(skip=self._last_request if lost else None)
        self._changed(status)
        if lost:
            await self._ask_again("the connection dropped mid-answer", conversation_lost=True)

    async def _remind(self, skip: str | None = None) -> None:
        """Tell the session the last lines of the set (never the house comedian's covers, nor `skip`,
        which is about to be asked again)."""
        for turn in self.transcript[-6:]:
            if not turn.text or turn.note.startswith("house comedian") or turn.text == skip:
                continue
            remembered = protocol.user_text if turn.role == "user" else protocol.assistant_text
            await self._send(remembered(turn.text))

    def _unplayed(self, item_id: str) -> bool:
        return self._played.get(item_id, 0) < self._received.get(item_id, 0)

    async def _interrupt(self, why: str) -> bool:
        """Stop the comedian at once, where the visitor stopped hearing (a heckle, a new topic).

        The answer is cancelled and what is queued dropped; the page's player drops what it holds
        and says where it fell silent. The item being heard is truncated there (with Gradio's own
        player: at the audio handed to it), never past what arrived; items after it that were never
        heard (a 2.x answer may have several) are deleted once the answer ends.
        """
        unheard = [i for i in self._audio_items if self._unplayed(i)]
        if not (self._response_active or unheard):
            return False
        self._cut_reported.clear()
        self._drop_speech()
        if self._response_active:
            await self._send(protocol.response_cancel())
        if self._player_reports and unheard:  # the page says where it fell silent: cut there
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CUT_REPORT_SECONDS):
                    await self._cut_reported.wait()
            unheard = [i for i in self._audio_items if self._unplayed(i)]
        if self._audio_items:
            playing = unheard[0] if unheard else self._audio_items[-1]
            later = self._audio_items[self._audio_items.index(playing) + 1 :]
            played_ms = self._played.get(playing, 0) * 1000 // SAMPLE_RATE
            await self._send(protocol.item_truncate(playing, played_ms))
            self._turn("assistant", playing).note = f"{why}: cut at {played_ms / 1000:.1f} s"
            for item_id in later:
                self._turn("assistant", item_id).note = f"{why}: not heard"
            self._unheard += later
            if not self._response_active:
                await self._forget_unheard()
        self._audio_item, self._audio_items = None, []
        self.barges += 1
        return True

    async def _forget_unheard(self) -> None:
        """Delete from the conversation the items the visitor never heard (after their answer ended)."""
        unheard, self._unheard = self._unheard, []
        for item_id in unheard:
            await self._send(protocol.item_delete(item_id))

    async def _house_comedian_covers(self) -> None:
        """While OpenAI is away, the house comedian fills the silence with a short bit, marked as such."""
        from comedy.rehearsal.comedian import load_joke_book  # the rehearsal's book and voice
        from comedy.rehearsal.voice import speak

        told = frozenset(t.text for t in self.transcript)
        line = "While my writer reconnects, a quick one. " + load_joke_book().pick(
            "", self.set_up.style, told=told
        )
        pcm = await asyncio.to_thread(speak, line, self.set_up.voice)
        item_id = f"house_{len(self.transcript)}"
        self.transcript.append(Turn("assistant", line, item_id, "house comedian covers", self.now()))
        self._speaker.put_nowait((item_id, np.asarray(pcm, dtype=np.int16)))
        self._speaker.put_nowait((item_id, np.zeros(0, np.int16)))
        self._changed()

    async def _on_done(self, response: dict) -> None:
        self._answering = None
        self._response_active = False
        self._idle.set()
        ending = endings.read(response)
        if ending.status != "cancelled":
            self._speaker.put_nowait((self._audio_item or "", np.zeros(0, np.int16)))  # play out the tail
        if usage := response.get("usage"):
            self._context = Context.after(usage)
            before = self.meters.cost_usd
            self.meters.add_usage(usage)
            await self._spend(self.meters.cost_usd - before)
        await self._forget_unheard()
        for item in response.get("output") or []:
            turn = self._turn("assistant", item.get("id"))
            if ending.note and (not turn.note or ending.failed):
                turn.note = ending.note
        if ending.failed:
            self._changed(error=ending.words)
            await self._ask_again("the answer failed")
        elif ending.status == "incomplete":
            self._changed(error=ending.words)
        elif ending.status == "completed":
            self.last_error = ""  # the set is well again: the last problem is over
        if not self.closed:
            self._changed("Connected: your turn")

    def _cap(self) -> int | None:
        """The most output tokens the next answer may spend within the visitor's allowance (0: none
        fits); None when the owner's money is not being spent."""
        allowance = self.limits.allowance
        if allowance is None:
            return None
        return answer_cap(
            allowance.left(), self.meters.prices, self._context, self.endpoint.max_output_tokens
        )

    def _out_of_money(self) -> str:
        allowance = self.limits.allowance
        worst = worst_answer_usd(self.meters.prices, self._context, MIN_ANSWER_TOKENS)
        return (allowance.why_not(worst) if allowance else None) or "The spend limit is reached. Thanks!"

    async def _ask(self) -> None:
        """Ask for an answer, capped so that its worst case stays within the budget; if not even a
        short answer fits, the set ends instead, saying why."""
        cap = self._cap()
        if cap == 0:
            await self._end(self._out_of_money())
            return
        await self._send(protocol.response_create(max_output_tokens=cap))

    async def _end(self, reason: str) -> None:
        """Close the set from anywhere: from one of its own tasks, in a task of its own (close
        cancels the set's tasks, and a task cannot wait for its own cancelling)."""
        if asyncio.current_task() in self._tasks:
            self._spawn(self.close(reason), "set-close")
        else:
            await self.close(reason)

    async def _spend(self, usd: float) -> None:
        """Count spend toward the owner's limits; end the set when no answer fits any more, else
        tell the session the new cap for the answers it starts itself."""
        if self.limits.allowance is None:
            return
        self.limits.allowance.spend(usd)
        cap = self._cap()
        if cap == 0:
            await self._end(self._out_of_money())
        elif cap != self._cap_sent and self._session is not None:
            await self._send(self._session_update())

    async def _on_error(self, error: protocol.ApiError) -> None:
        if error.code == "response_cancel_not_active":
            return  # a heckle raced the server's own cancel: nothing to say
        stored = self.endpoint.stored_prompt
        if stored is not None and stored.refuses(error):
            note = stored.refuse(error)
            if self._session is not None:  # the API dropped the whole update: send it again, templated
                with contextlib.suppress(RealtimeError):
                    await self._session.send(self._session_update(), replace_settings=True)
            self._changed(error=note)
            return
        self._changed(error=str(error))
        if error.retryable:
            self._spawn(self._retry_later(error.retry_after or 1.0), "set-retry")

    async def _retry_later(self, seconds: float) -> None:
        self._changed(f"The Realtime API is busy: trying again in {seconds:.1f} s")
        await asyncio.sleep(min(seconds, 10.0))
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
        await self._ask()


class ClubFull(RuntimeError):
    """No seat, or no money: the words say which."""


class Club:
    """The sets of one app process, one per browser tab, and the one gate to its seats.

    A seat is anything that holds a Realtime session for a visitor: their set, or a voice audition
    being recorded. A visitor holds at most one seat (their set and their audition share it), and
    a seat is held only while connected: a set that fails to connect gives its seat back.
    """

    def __init__(self, max_sets: int = 20) -> None:
        self.max_sets = max_sets
        self.sets: dict[str, ComedySet] = {}
        self._listening: dict[str, int] = {}  # visitors with streams open (speaker, engine, page), how many
        self._left: set[str] = set()  # of those, the ones whose tab closed
        self.ended: dict[str, ComedySet] = {}  # each visitor's last ended set, to save it
        self._auditioning: set[str] = set()  # visitors having an audition take recorded now

    def get(self, visitor: str) -> ComedySet | None:
        """The visitor's open set, if any."""
        found = self.sets.get(visitor)
        return found if found is not None and not found.closed else None

    def seated(self) -> set[str]:
        """The visitors holding a seat now."""
        return {v for v, s in self.sets.items() if not s.closed} | self._auditioning

    def listening(self, visitor: str) -> bool:
        """Whether the visitor has a stream open (their page is there)."""
        return visitor in self._listening

    def _check_seat(self, visitor: str) -> None:
        if visitor not in self.seated() and len(self.seated()) >= self.max_sets:
            raise ClubFull("The club is full, try again in a minute.")

    async def seat(self, visitor: str, make: Callable[[], ComedySet]) -> ComedySet:
        """The visitor's set, connected: theirs if they have one, else a new one made by `make`.

        ClubFull past the cap; a RealtimeError when it cannot connect, and then no seat is kept.
        """
        found = self.get(visitor)
        if found is None:
            self._check_seat(visitor)
            self.sets[visitor] = found = make()
        try:
            await found.start()
        except BaseException:
            if self.sets.get(visitor) is found and not found.transcript:  # nothing of it to keep
                del self.sets[visitor]
                await found.close("Could not connect")
            raise
        return found

    @contextlib.asynccontextmanager
    async def audition_seat(self, visitor: str) -> AsyncIterator[None]:
        """Hold a seat while an audition take is recorded; one take at a time per visitor."""
        if visitor in self._auditioning:
            raise ClubFull("A take is being recorded for you already: one at a time, please.")
        self._check_seat(visitor)
        self._auditioning.add(visitor)
        try:
            yield
        finally:
            self._auditioning.discard(visitor)

    async def sets_of(self, visitor: str, poll: float = 0.1) -> AsyncIterator[ComedySet]:
        """Each set the visitor opens, one after another, until their tab closes."""
        self._listening[visitor] = self._listening.get(visitor, 0) + 1
        try:
            while visitor not in self._left:
                found = self.get(visitor)
                if found is None:
                    await asyncio.sleep(poll)
                    continue
                yield found
                while not found.closed:  # the caller stopped listening to it early
                    await asyncio.sleep(poll)
        finally:
            self._listening[visitor] -= 1
            if not self._listening[visitor]:  # the last of the tab's streams is gone
                del self._listening[visitor]
                self._left.discard(visitor)

    async def hang_up(
        self, visitor: str, reason: str = "The set is over", left: bool = False
    ) -> ComedySet | None:
        """Close and forget the visitor's set; `left` when their tab closed (nothing of it is kept)."""
        if left:
            self.ended.pop(visitor, None)
            if visitor in self._listening:
                self._left.add(visitor)
        found = self.sets.pop(visitor, None)
        if found is not None:
            await found.close(reason)
            if not left:
                self.ended[visitor] = found
        return found
