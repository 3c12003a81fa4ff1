"""One comedy set per visitor: microphone in (`receive`), speech out (`emit`/`stream`), and the club.

`ComedySet` is the pump: it owns the Realtime session, the tasks, the lock and the speaker queue,
feeds server events and the visitor's actions to its `Stage` (the decisions, in `comedy.stage`)
and carries out the actions the stage returns. Data flows one way: microphone chunks -> the
session -> the stage -> the speaker queue -> the player.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

import numpy as np

from comedy import audio, models, pricing, prompts, protocol
from comedy.budget import Allowance
from comedy.echo import EchoCanceller
from comedy.house import jokes, voice
from comedy.meters import Meters
from comedy.pacing import Pace
from comedy.protocol import SAMPLE_RATE, Event
from comedy.realtime import RealtimeError, RealtimeSession
from comedy.recording import SetRecorder
from comedy.room import RoomReading, read_room
from comedy.speaker import Speaker
from comedy.stage import (
    Action,
    AwaitCut,
    Caption,
    Close,
    Cover,
    DropSpeech,
    EndOfAnswer,
    LoseSession,
    Play,
    ReadRoom,
    Restart,
    RetryLater,
    Send,
    Stage,
    Turn,
)
from comedy.stored_prompt import StoredPrompt, apply_settings

log = logging.getLogger(__name__)

CHUNK_SAMPLES = SAMPLE_RATE // 10  # 100 ms of speech per yield
LEAD_SECONDS = 0.3  # how far ahead of playback the speaker may run
MIC_QUEUE_CHUNKS = 50  # 5 s of microphone audio waiting at most
MAX_CHUNK_SECONDS = 2.0  # the longest microphone chunk taken (the page sends 0.1 s)
CUT_REPORT_SECONDS = 0.3  # how long a cut waits for the page to say where it stopped
NEW_JOKE_WAIT_SECONDS = 3.0  # how long a new topic waits for the cancelled answer to end
MicChunk = tuple[int, np.ndarray, np.ndarray | None]  # rate, samples, what was playing (None: nothing)
CUT = "\x00cut"  # a speaker-queue entry: a heckle dropped what the player holds
_EMPTY = np.zeros(0, np.int16)
BESIDE = np.dtype([("linear", np.int16), ("near", bool)])  # per sample: the linear output, someone in it


def _for_the_speaker(action: Play | Caption | EndOfAnswer) -> tuple:
    """What the speaker queue takes for an action: audio, words, or the empty end of an answer."""
    if isinstance(action, Play):
        return action.item_id, action.pcm
    return action.item_id, action if isinstance(action, Caption) else _EMPTY


__all__ = ["Club", "ClubFull", "ComedySet", "Endpoint", "Limits", "Turn"]


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
    listening: prompts.Listening = field(default_factory=prompts.Listening)

    @property
    def tuning(self) -> prompts.Tuning:
        """The owner's settings for the comedian on this endpoint."""
        return prompts.Tuning(self.model, self.reasoning_effort, self.max_output_tokens, self.listening)

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


@dataclass(frozen=True)
class Opener:
    """A set's first line, made once per voice and style and kept: played the moment Start is pressed."""

    line: str
    pcm: np.ndarray


class ComedySet:
    """A visitor's set: one Realtime session, the speaker queue, and the stage that decides."""

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
        opener: Opener | None = None,
        greeting: str | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.max_seconds = max_seconds
        self.response_timeout = response_timeout
        self.reconnect_window = reconnect_window  # how long a dropped connection is tried again
        self.limits = limits or Limits()
        self._news = asyncio.Event()  # set by every change the page shows, for its stream
        self.stage = Stage(
            set_up,
            endpoint.tuning,
            Meters(prices or pricing.prices_for(endpoint.model)),
            time.monotonic(),
            hands_free=hands_free,
            rehearsal=endpoint.rehearsal,
            key=endpoint.key,
            stored_prompt=endpoint.stored_prompt,
            allowance=self.limits.allowance,
            changed=self._news.set,
        )
        self.started_at = self.stage.started_at
        self.ended_at: float | None = None
        self.closed = False
        self.finished = asyncio.Event()  # set when the set is closed: who waits for its end wakes
        self.sound = ""  # the path the visitor hears it through, once a player is attached
        self.recorder = SetRecorder(max_seconds + 60)
        self._session: RealtimeSession | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()  # every task the set started; all cancelled on close
        self._mic: asyncio.Queue[MicChunk | None] = asyncio.Queue(MIC_QUEUE_CHUNKS)
        self._pace = Pace()  # what reaches the API: real time and a little slack, never a flood
        self._told_pace = False
        self.echo = EchoCanceller()  # takes the comedian out of the microphone, given what the page played
        self._beside: np.ndarray | None = None  # the canceller's linear output and `near`, beside the sent
        # (item_id, pcm) to play; an empty pcm ends an answer; None ends the set.
        self._speaker: asyncio.Queue[tuple[str, np.ndarray] | None] = asyncio.Queue()
        self._generation = 0  # bumped by a cut: what the speaker holds is dropped
        self._stream_end = 0.0  # when what `stream` has handed out will have played
        self._cut_reported = asyncio.Event()
        self._idle = asyncio.Event()  # set while no answer is in progress
        self._idle.set()
        self._opener = opener  # played at once on the first start, while the session connects
        self._greeting = greeting  # with no opener: the line the session says at once, on the first start
        self._mic_path = audio.MicrophonePath()

    # --- the visible state (the stage's)

    @property
    def transcript(self) -> list[Turn]:
        """The set's lines so far."""
        return self.stage.transcript

    @property
    def status(self) -> str:
        """What the set is doing, in words."""
        return self.stage.status

    @property
    def last_error(self) -> str:
        """The last problem, masked; empty once the set is well again."""
        return self.stage.last_error

    @property
    def version(self) -> int:
        """Bumped on every change the page shows."""
        return self.stage.version

    @property
    def meters(self) -> Meters:
        """Cost and latency."""
        return self.stage.meters

    @property
    def room(self) -> RoomReading | None:
        """The room reader's last verdict."""
        return self.stage.room

    @property
    def barges(self) -> int:
        """Cuts so far."""
        return self.stage.barges

    @property
    def set_up(self) -> prompts.SetUp:
        """The visitor's choices."""
        return self.stage.set_up

    @property
    def hands_free(self) -> bool:
        """Hands-free (the API's turn detection) or push-to-talk."""
        return self.stage.hands_free

    @property
    def speaker(self) -> Speaker:
        """What of each answer arrived and was heard."""
        return self.stage.speaker

    @property
    def first_audio_handed(self) -> dict[str, float]:
        """Item -> when its first sample went to the visitor (monotonic)."""
        return self.stage.speaker.first_heard

    @property
    def connected(self) -> bool:
        """Whether the set's socket is open now."""
        return self._session is not None and self._session.connected

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
            self.stage.say()

    def now(self) -> float:
        """Seconds into the set."""
        return time.monotonic() - self.started_at

    @property
    def length(self) -> float:
        """Seconds the set has run (to its end, once over)."""
        return (self.ended_at or time.monotonic()) - self.started_at

    def jokes(self) -> list[Turn]:
        """The comedian's lines, in order (each scored by the room once it has reacted)."""
        return [t for t in self.transcript if t.role == "assistant" and t.text]

    # --- carrying out the stage's actions

    async def _do(self, actions: list[Action] | None) -> None:
        for action in actions or ():
            await self._carry_out(action)
        if self.stage.responding:
            self._idle.clear()
        else:
            self._idle.set()

    async def _carry_out(self, action: Action) -> None:
        match action:
            case Send(event, replace_settings):
                await self._send(event, replace_settings)
            case Play() | Caption() | EndOfAnswer():
                self._speaker.put_nowait(_for_the_speaker(action))
            case DropSpeech():
                self._drop_speech()
            case AwaitCut():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CUT_REPORT_SECONDS):
                        await self._cut_reported.wait()
                await self._do(self.stage.finish_cut(time.monotonic()))
            case RetryLater(seconds, why):
                self._spawn(self._later(seconds, why), "set-retry")
            case Cover():
                self._spawn(self._house_comedian_covers(), "set-cover")
            case Restart(why):
                await self._restart(why)
            case LoseSession():
                self._session = None
            case Close(reason):
                await self._end(reason)
            case ReadRoom():
                self._spawn(self._read_the_room(action), "set-room-reader")

    async def _read_the_room(self, asked: ReadRoom) -> None:
        """The room's reading, worked out in a thread (tens of ms: other visitors wait for no one)."""
        reading = await asyncio.to_thread(read_room, asked.audio)
        await self._do(self.stage.room_read(reading, asked, time.monotonic()))

    async def _later(self, seconds: float, why: str) -> None:
        await asyncio.sleep(seconds)
        await self._do(self.stage.ask_again(why))

    async def _send(self, event: Event, replace_settings: bool = False) -> None:
        session = self._session
        if session is None:
            return
        try:
            await session.send(event, replace_settings=replace_settings)
        except RealtimeError as exc:
            self.stage.say(error=str(exc))

    def _spawn(self, work, name: str) -> asyncio.Task:
        """Run `work` as a task the set owns: it is cancelled when the set closes."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- starting and stopping

    async def start(self) -> None:
        """Connect; safe to call from every event that needs the set running. After the connection
        was given up, the next call connects again and re-tells the set to the new session."""
        async with self._lock:
            if self._session is not None or self.closed:
                return
            first = not self._tasks
            opener, self._opener = self._opener, None
            if opener is not None:
                self._open_the_show(opener)
            self.stage.say("Connecting…" if first else "Connecting again…")
            try:
                await self._open_session()
            except RealtimeError as exc:
                self.stage.say("Not connected", str(exc))
                raise
            self._spawn(self._read(), "set-reader")
            if opener is not None:  # the session carries on from what was already said
                await self._send(protocol.assistant_text(opener.line))
            if first:
                self._spawn(self._send_microphone(), "set-mic")
                self._spawn(self._watch_the_clock(), "set-clock")
                greeting, self._greeting = self._greeting, None
                if greeting is not None and opener is None:
                    await self._do(self.stage.greet(greeting, time.monotonic()))
                return
        await self._do(self.stage.retell("Connected again: the set goes on"))

    def _open_the_show(self, opener: Opener) -> None:
        """The cached opener, to the speaker at once: the visitor hears the set begin while the
        session connects."""
        item_id = protocol.new_id("opener")
        self.stage.opened(opener.line, item_id, time.monotonic())
        self.stage.speaker.arrived(item_id, len(opener.pcm))
        self._speaker.put_nowait((item_id, Caption(item_id, opener.line, 0)))
        self._speaker.put_nowait((item_id, opener.pcm))
        self._speaker.put_nowait((item_id, _EMPTY))

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
        note = await apply_settings(session, self.stage.session_update, self.endpoint.stored_prompt)
        self.stage.connected(note)

    async def close(self, reason: str = "The set is over") -> None:
        """End the set: close the socket, stop the tasks, release the speaker. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.finished.set()
        self.stage.release_hold()  # an answer still in flight is not billed to this set any more
        self.ended_at = time.monotonic()
        self.stage.ended(reason)  # said at once: the closing below takes a moment
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

    async def _end(self, reason: str) -> None:
        """Close the set from anywhere: from one of its own tasks, in a task of its own (close
        cancels the set's tasks, and a task cannot wait for its own cancelling)."""
        if asyncio.current_task() in self._tasks:
            self._spawn(self.close(reason), "set-close")
        else:
            await self.close(reason)

    async def _watch_the_clock(self) -> None:
        """Close the set at its length limit, or when nobody has done anything for a while."""
        while True:
            now = time.monotonic()
            if now - self.started_at >= self.max_seconds:
                minutes = self.max_seconds / 60
                await self.close(f"The set reached its limit of {minutes:g} minutes. Thanks for coming!")
                return
            idle = self.limits.idle_seconds
            if idle and now - self.stage.last_activity >= idle and self._idle.is_set():
                await self.close(f"Closed after {idle / 60:g} minutes of quiet. Start a new set any time.")
                return
            await asyncio.sleep(min(1.0, max(0.05, idle / 10 if idle else 1.0)))

    # --- input: microphone and buttons

    def receive(self, rate: int, samples: np.ndarray, reference: np.ndarray | None = None) -> None:
        """A microphone chunk, handed on at once (a slow handler makes Gradio drop chunks), with
        what the page was playing as it was captured (the engine's frames; None: nothing played).

        A live microphone sends a tenth of a second at a time: a chunk longer than a couple of
        seconds is not one, and is skipped with a word.
        """
        if self.closed:
            return
        frames = max(np.shape(samples), default=0)  # (N,), (N, channels) or (channels, N)
        if rate > 0 and frames > rate * MAX_CHUNK_SECONDS:
            self.stage.say(
                error=f"Skipped a microphone chunk of {frames / rate:.0f} s: not a live microphone."
            )
            return
        if rate > 0 and not self._pace.take(frames / rate):
            if not self._told_pace:
                self._told_pace = True
                self.stage.say(
                    error="The microphone sent audio faster than real time: what came too fast was dropped."
                )
            return
        try:
            self._mic.put_nowait((rate, samples, reference))
        except asyncio.QueueFull:
            self.stage.say(error="The microphone is sending faster than the connection takes it.")

    async def _send_microphone(self) -> None:
        while True:
            item = await self._mic.get()
            if item is None:
                chunks = self._mic_path.flush()
            else:
                try:
                    chunks = self._mic_path.feed(*self._without_echo(*item))
                except ValueError as exc:
                    self.stage.say(error=f"Skipped an unreadable microphone chunk: {exc}")
                    continue
            for chunk in chunks:
                await self._send(protocol.audio_append(chunk))
            if chunks:
                pcm = audio.pcm16_array(b"".join(chunks))  # one view of what was just sent
                await self._do(self.stage.sent_microphone(len(pcm) / SAMPLE_RATE))
                self.recorder.add(self.now() - len(pcm) / SAMPLE_RATE, pcm)
                linear, near = self._linear_beside(len(pcm))
                settled = self.echo.settled if self.echo.echoing else None  # None: no echo to tell apart
                await self._do(self.stage.microphone(pcm, time.monotonic(), settled, linear, near))
            if item is None and not self.hands_free:
                await self._do(self.stage.committed())

    def _without_echo(self, rate: int, samples: np.ndarray, reference: np.ndarray | None) -> tuple:
        """The engine's microphone with the comedian taken out, its linear canceller's output (and
        where it holds someone besides the comedian) kept beside it for the ear (anything else
        passes through, heard as it is)."""
        engine_frame = rate == SAMPLE_RATE and np.ndim(samples) == 1 and np.asarray(samples).dtype == np.int16
        if not engine_frame:
            self._beside = None
            return rate, samples
        cancelled = self.echo.process(samples, reference)
        beside = np.zeros(len(cancelled.linear), BESIDE)
        beside["linear"] = cancelled.linear
        if cancelled.near is not None:
            beside["near"] = cancelled.near
        self._beside = beside if self._beside is None else np.concatenate([self._beside, beside])
        return rate, cancelled.audio

    def _linear_beside(self, samples: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The linear canceller's output for the `samples` just sent, and where it holds someone
        besides the comedian (24 kHz passes sample for sample)."""
        if self._beside is None or len(self._beside) < samples:
            return None, None
        taken, self._beside = self._beside[:samples], self._beside[samples:]
        return taken["linear"], taken["near"]

    async def stop_talking(self) -> None:
        """The visitor released push-to-talk: send what they said as one turn."""
        if not self.hands_free and not self.closed:
            await self._mic.put(None)

    async def tell(self, topic: str) -> None:
        """The visitor typed a topic and asked for a joke."""
        await self.start()
        topic = topic.strip()
        self.stage.last_activity = time.monotonic()
        await self._do(self.stage.new_topic(topic))
        cut = None if self.stage.opening else self.stage.cut("skipped for a new joke", time.monotonic())
        if cut is not None:
            await self._do(cut)
            # The API takes no new answer while one is active: wait for the cancel to land.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(NEW_JOKE_WAIT_SECONDS):
                    await self._idle.wait()
        await self._do(self.stage.joke(topic, time.monotonic()))

    async def change(
        self, set_up: prompts.SetUp, hands_free: bool | None = None, model: str | None = None
    ) -> None:
        """New choices mid-set: a session.update at once, or a fresh session where the API needs one."""
        if model is not None and model != self.endpoint.model:
            self.endpoint = replace(self.endpoint, model=model)
        self.stage.tuning = replace(self.endpoint.tuning, model=self.stage.tuning.model)  # as it stands now
        actions = self.stage.change(set_up, hands_free, model)
        if self._session is not None and not self.closed:
            await self._do(actions)

    async def _restart(self, why: str) -> None:
        async with self._lock:
            old, self._session = self._session, None
            if old is not None:
                await old.close()
            self._drop_speech()
            try:
                await self._open_session()
            except RealtimeError as exc:
                self.stage.say("Not connected", str(exc))
                return
            for action in self.stage.remind():  # the new session remembers the last few lines
                await self._carry_out(action)
            self.stage.say(f"Connected: restarted the session for {why}; the transcript is kept")
            self._spawn(self._read(), "set-reader")

    # --- output: the speaker

    async def emit(self) -> AsyncIterator[np.ndarray]:
        """100 ms int16 chunks of the comedian's speech, paced to stay just ahead of playback.

        Counts what it hands on per answer: that, not what arrived, is where a heckle cuts.
        """
        pending, last_item = np.zeros(0, np.int16), ""
        generation, play_end = self._generation, 0.0
        while (entry := await self._speaker.get()) is not None:
            if generation != self._generation:  # a cut: drop what was waiting
                pending, generation = np.zeros(0, np.int16), self._generation
            item_id, piece = entry
            if item_id == CUT or isinstance(piece, Caption):  # Gradio's player shows no captions
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
                self.stage.speaker.handed(item_id, real)
                self.recorder.add(play_end - self.started_at, chunk[:real])
                if item_id != last_item:  # an answer's first audio: the latency clock stops
                    last_item = item_id
                    self.stage.first_heard(item_id, time.monotonic())
                play_end += CHUNK_SAMPLES / SAMPLE_RATE
                yield chunk
            if end_of_answer and generation == self._generation:
                self.stage.punchline_landed(play_end)  # it has landed once the browser played it

    async def stream(self) -> AsyncIterator[tuple[str, str, np.ndarray | Caption | None]]:
        """Speech as it arrives, for a player that keeps its own clock and reports what it played
        (the page's engine): `("audio", item, pcm)`; `("words", item, Caption)`, its captions, to show
        once played that far; `("end", item, None)` once an answer is all sent; `("cut", "", None)`
        when a heckle drops what the player holds.

        What was heard, and so where a heckle cuts, comes from the player's reports (`heard`).
        """
        try:
            async for piece in self._stream():
                yield piece
        finally:
            self.stage.speaker.reports = False  # the player left: a cut no longer waits for its word

    async def _stream(self) -> AsyncIterator[tuple[str, str, np.ndarray | Caption | None]]:
        while (entry := await self._speaker.get()) is not None:
            item_id, piece = entry
            now = time.monotonic()
            if isinstance(piece, Caption):
                yield "words", item_id, piece
            elif item_id == CUT:
                self._stream_end = now
                yield "cut", "", None
            elif piece.size == 0:
                self.stage.punchline_landed(max(now, self._stream_end))  # when the player gets there
                yield "end", item_id, None
            else:
                plays_at = max(now, self._stream_end)
                self.recorder.add(plays_at - self.started_at, piece)
                self._stream_end = plays_at + len(piece) / SAMPLE_RATE
                yield "audio", item_id, piece

    def heard(self, item_id: str, samples: int) -> None:
        """The player's report: `samples` of an item have reached the visitor (never more than arrived)."""
        self.stage.speaker.report(item_id, samples)

    def cut_heard(self) -> None:
        """The player's report after a cut: its counts now say all the visitor heard."""
        self._cut_reported.set()

    def started(self, item_id: str, at: float) -> None:
        """The player's report: an item's first sample reached the output device at `at` (monotonic)."""
        self.stage.first_heard(item_id, at)

    def _drop_speech(self) -> None:
        self._cut_reported.clear()  # the page's word on this cut is still to come
        self._generation += 1
        while not self._speaker.empty():
            if self._speaker.get_nowait() is None:
                self._speaker.put_nowait(None)
                return
        self._speaker.put_nowait((CUT, _EMPTY))  # a player that keeps its own buffer drops it

    # --- the reader: server events -> the stage -> actions

    async def _read(self) -> None:
        session = self._session
        if session is None:
            return
        async for event in session:
            try:
                await self._do(self.stage.on_event(event, time.monotonic()))
            except Exception as exc:  # one odd event must not end the show
                log.warning("could not handle a %s event: %s", event.get("type"), exc)
                self.stage.say(error=f"Skipped an event the app could not read ({event.get('type')}).")

    async def _house_comedian_covers(self) -> None:
        """While OpenAI is away, the house comedian fills the silence with a short bit, marked as such."""
        told = frozenset(t.text for t in self.transcript)
        line = "While my writer reconnects, a quick one. " + jokes.load_joke_book().pick(
            "", self.set_up.style, told=told
        )
        pcm = await asyncio.to_thread(voice.speak, line, self.set_up.voice)
        item_id = f"house_{len(self.transcript)}"
        self.stage.covered(line, item_id, time.monotonic())
        self._speaker.put_nowait((item_id, np.asarray(pcm, dtype=np.int16)))
        self._speaker.put_nowait((item_id, _EMPTY))


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
        self._arrivals: dict[str, asyncio.Event] = {}  # wakes a tab's streams when its set is seated

    def get(self, visitor: str) -> ComedySet | None:
        """The visitor's open set, if any."""
        found = self.sets.get(visitor)
        return found if found is not None and not found.closed else None

    def seated(self) -> set[str]:
        """The visitors holding a seat now."""
        return {v for v, s in self.sets.items() if not s.closed} | self._auditioning

    @property
    def leaving(self) -> int:
        """Tabs that closed while one of their streams is still winding down."""
        return len(self._left)

    def listening(self, visitor: str) -> bool:
        """Whether the visitor has a stream open (their page is there)."""
        return visitor in self._listening

    def _check_seat(self, visitor: str) -> None:
        seated = self.seated()
        if visitor not in seated and len(seated) >= self.max_sets:
            raise ClubFull("The club is full, try again in a minute.")

    async def seat(self, visitor: str, make: Callable[[], ComedySet]) -> ComedySet:
        """The visitor's set, connected: theirs if they have one, else a new one made by `make`.

        ClubFull past the cap; a RealtimeError when it cannot connect, and then no seat is kept.
        """
        found = self.get(visitor)
        if found is None:
            self._check_seat(visitor)
            self.sets[visitor] = found = make()
            if (arrival := self._arrivals.get(visitor)) is not None:
                arrival.set()
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

    async def sets_of(self, visitor: str) -> AsyncIterator[ComedySet]:
        """Each set the visitor opens, one after another, until their tab closes."""
        self._listening[visitor] = self._listening.get(visitor, 0) + 1
        try:
            while visitor not in self._left:
                arrival = self._arrivals.setdefault(visitor, asyncio.Event())
                arrival.clear()
                found = self.get(visitor)
                if found is None:  # woken when a set is seated (an opener plays at once) or the tab left
                    await arrival.wait()
                    continue
                yield found
                await found.finished.wait()  # the caller stopped listening to it early: until it ends
        finally:
            self._listening[visitor] -= 1
            if not self._listening[visitor]:  # the last of the tab's streams is gone
                del self._listening[visitor]
                self._left.discard(visitor)
                self._arrivals.pop(visitor, None)

    async def hang_up(
        self, visitor: str, reason: str = "The set is over", left: bool = False
    ) -> ComedySet | None:
        """Close and forget the visitor's set; `left` when their tab closed (nothing of it is kept)."""
        if left:
            self.ended.pop(visitor, None)
            if visitor in self._listening:
                self._left.add(visitor)
                if (arrival := self._arrivals.get(visitor)) is not None:
                    arrival.set()  # its streams waiting for a set stop waiting
        found = self.sets.pop(visitor, None)
        if found is not None:
            await found.close(reason)
            if not left:
                self.ended[visitor] = found
        return found
