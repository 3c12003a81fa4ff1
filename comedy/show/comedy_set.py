"""A visitor's set, the pump: microphone in (`receive`), speech out (`port`), and the stage that
decides in between.

`ComedySet` owns the Realtime session, the tasks and the lock, feeds server events and the
visitor's actions to its `Stage` (the decisions, in `comedy.stage.stage`) and carries out the actions the
stage returns. Data flows one way: microphone chunks -> the session -> the stage -> the speech port
-> the player, whose adapter (`comedy.web.engine`, `comedy.web.gradio_speech`) keeps its own clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace

import numpy as np

from comedy import prompts
from comedy.house import jokes, voice
from comedy.money import pricing
from comedy.money.meters import Meters
from comedy.realtime import protocol
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.realtime.session import RealtimeError
from comedy.show.endpoint import Endpoint, Limits, Opener
from comedy.show.hands import SetHands
from comedy.show.microphone_in import MicrophoneIn
from comedy.show.recording import SetRecorder
from comedy.show.session_link import SessionLink
from comedy.show.speech_port import CutHeard, Report, Scheduled
from comedy.sound import threads as hearing_threads
from comedy.stage import clock as set_clock
from comedy.stage.stage import Stage

log = logging.getLogger(__name__)

NEW_JOKE_WAIT_SECONDS = 3.0  # how long a new topic waits for the cancelled answer to end

__all__ = ["ComedySet"]


class ComedySet(SetHands):
    """A visitor's set: its session, microphone, speech port and tasks, and the stage that decides."""

    def __init__(
        self,
        endpoint: Endpoint,
        set_up: prompts.SetUp,
        *,
        hands_free: bool = True,
        prices: pricing.Prices | None = None,
        limits: Limits | None = None,
        opener: Opener | None = None,
        greeting: str | None = None,
    ) -> None:
        self.limits = limits or Limits()
        stage = Stage(
            set_up,
            endpoint.tuning,
            Meters(prices or pricing.prices_for(endpoint.model)),
            time.monotonic(),
            hands_free=hands_free,
            rehearsal=endpoint.rehearsal,
            key=endpoint.key,
            stored_prompt=endpoint.stored_prompt,
            allowance=self.limits.allowance,
        )
        super().__init__(stage, SessionLink(endpoint))
        self.stage.answers.holds = self.limits.hold_first
        self.started_at = self.stage.started_at
        self.ended_at: float | None = None
        self.closed = False
        self.finished = asyncio.Event()  # set when the set is closed: who waits for its end wakes
        self.sound = ""  # the path the visitor hears it through, once a player is attached
        self.recorder = SetRecorder(self.limits.max_seconds + 60)
        self._lock, self.microphone = asyncio.Lock(), MicrophoneIn()
        self.ear_cpu_seconds = 0.0  # the CPU time the stage's ear took on the event loop
        # played at once on the first start, while the session connects; with none, the line said at once
        self._opener, self._greeting = opener, greeting

    @property
    def endpoint(self) -> Endpoint:
        """Where the set's session goes."""
        return self.link.endpoint

    @property
    def connected(self) -> bool:
        """Whether the set's socket is open now."""
        return self.link.connected

    def heard_through(self, path: str) -> None:
        """Say which path the visitor hears the set through (the engine, or Gradio's audio)."""
        if path != self.sound:
            self.sound = path
            self._say()

    @property
    def length(self) -> float:
        """Seconds the set has run (to its end, once over)."""
        return (self.ended_at or time.monotonic()) - self.started_at

    # --- starting and stopping

    async def start(self) -> None:
        """Connect; safe to call from every event that needs the set running. After the connection
        was given up, the next call connects again and re-tells the set to the new session."""
        async with self._lock:
            if self.link.open or self.closed:
                return
            first = not self._tasks.started
            opener, self._opener = self._opener, None
            if opener is not None:  # heard at once, while the session connects
                await self._do(self.stage.opened(opener.line, opener.pcm, time.monotonic()))
            self._say("Connecting…" if first else "Connecting again…")
            try:
                await self._open_session()
            except RealtimeError as exc:
                self._say("Not connected", str(exc))
                raise
            self._tasks.spawn(self._read(), "set-reader")
            if opener is not None:  # the session carries on from what was already said
                await self._send(protocol.assistant_text(opener.line))
            if first:
                self._tasks.spawn(self._send_microphone(), "set-mic")
                self._tasks.spawn(self._watch_the_clock(), "set-clock")
                greeting, self._greeting = self._greeting, None
                if greeting is not None and opener is None:
                    await self._do(self.stage.greet(greeting, time.monotonic()))
                return
        await self._do(self.stage.retell("Connected again: the set goes on"))

    async def _open_session(self) -> None:
        note = await self.link.connect(self.stage.session_update)
        self.stage.connected(note)
        self._shown()

    async def close(self, reason: str = "The set is over") -> None:
        """End the set: close the socket, stop the tasks, release the speaker. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.finished.set()
        self.stage.release_hold()  # an answer still in flight is not billed to this set any more
        self.ended_at = time.monotonic()
        self.stage.ended(reason)  # said at once: the closing below takes a moment
        self._shown()
        log.info("set closed: %s", reason)
        await self._tasks.cancel()  # close may run in one of them
        await self.link.close()
        self.port.close()

    async def _end(self, reason: str) -> None:
        """Close the set from anywhere: from one of its own tasks, in a task of its own (close
        cancels the set's tasks, and a task cannot wait for its own cancelling)."""
        if self._tasks.running_one():
            self._tasks.spawn(self.close(reason), "set-close")
        else:
            await self.close(reason)

    async def _watch_the_clock(self) -> None:
        """Close the set at its length limit, or when nobody has done anything for a while."""
        idle = self.limits.idle_seconds
        while True:
            now, answering = time.monotonic(), not self._idle.is_set()
            quiet = now - self.stage.shown.last_activity
            why = set_clock.why_close(now - self.started_at, self.limits.max_seconds, quiet, idle, answering)
            if why is not None:
                await self.close(why)
                return
            await asyncio.sleep(set_clock.check_every(idle))

    # --- input: microphone and buttons

    def receive(self, rate: int, samples: np.ndarray, reference: np.ndarray | None = None) -> None:
        """A microphone chunk, handed on at once, with what the page was playing as it was captured
        (the engine's frames; None: nothing played). What is not taken is said."""
        if not self.closed and (problem := self.microphone.take(rate, samples, reference)):
            self._say(error=problem)

    async def _send_microphone(self) -> None:
        while True:
            ready = await hearing_threads.run(self.microphone.ready, await self.microphone.next())
            for problem in ready.problems:
                self._say(error=problem)
            for piece in ready.chunks:
                await self._send(protocol.audio_append(piece))
            if len(ready.pcm):
                seconds = len(ready.pcm) / SAMPLE_RATE
                await self._do(self.stage.sent_microphone(seconds))
                self.recorder.add(time.monotonic() - self.started_at - seconds, ready.pcm)
                now, started = time.monotonic(), time.thread_time()
                actions = self.stage.microphone(ready.pcm, now, ready.settled, ready.linear, ready.near)
                self.ear_cpu_seconds += time.thread_time() - started
                await self._do(actions)
            if ready.turn_ended and not self.stage.hands_free:
                await self._do(self.stage.committed())

    async def stop_talking(self) -> None:
        """The visitor released push-to-talk: send what they said as one turn."""
        if not self.stage.hands_free and not self.closed:
            await self.microphone.end_turn()

    async def tell(self, topic: str) -> None:
        """The visitor typed a topic and asked for a joke."""
        await self.start()
        topic = topic.strip()
        self.stage.touched(time.monotonic())
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
            self.link.endpoint = replace(self.endpoint, model=model)
        actions = self.stage.change(set_up, hands_free, model, tuning=self.endpoint.tuning)
        if self.link.open and not self.closed:
            await self._do(actions)

    async def _restart(self, why: str) -> None:
        """A fresh session: the old one's items go, the new one is told the set (`ConnectionEvents`)."""
        async with self._lock:
            await self.link.close()
            await self._do(self.stage.restarting(why))
            try:
                await self._open_session()
            except RealtimeError as exc:
                self._say("Not connected", str(exc))
                return
            await self._do(self.stage.restarted(why))
            self._tasks.spawn(self._read(), "set-reader")

    # --- output: the speech port and the player's reports

    def player(self, report: Report) -> None:
        """What the attached player says of what it played (and, for the recording, when)."""
        if isinstance(report, CutHeard):
            self._cut_reported.set()
        elif isinstance(report, Scheduled):
            self.recorder.add(report.at - self.started_at, report.pcm)
        self.stage.player(report)
        self._shown()

    # --- the reader: server events -> the stage -> actions

    async def _read(self) -> None:
        async for event in self.link.events():
            try:
                await self._do(self.stage.on_event(event, time.monotonic()))
            except Exception as exc:  # one odd event must not end the show
                log.warning("could not handle a %s event: %s", event.get("type"), exc)
                self._say(error=f"Skipped an event the app could not read ({event.get('type')}).")

    async def _house_comedian_covers(self) -> None:
        """While OpenAI is away, the house comedian fills the silence with a short bit, marked as such."""
        told = frozenset(t.text for t in self.stage.transcript)
        line = jokes.cover_line(self.stage.set_up.style, told)
        pcm = await asyncio.to_thread(voice.speak, line, self.stage.set_up.voice)
        await self._do(self.stage.covered(line, np.asarray(pcm, dtype=np.int16), time.monotonic()))
