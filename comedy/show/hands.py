"""The set's hands: what carries out the actions its stage returns (events to the session,
speech to the port, timers and the room's reading in tasks), and tells the page when what it
shows has moved. `ComedySet` is the set built on them; its own steps (a restart, the end, the
house comedian's cover) are the three it fills in."""

from __future__ import annotations

import asyncio
import contextlib
import time

from comedy.realtime.protocol import Event
from comedy.show.news import News
from comedy.show.session_link import SessionLink
from comedy.show.speech_port import SpeechPort
from comedy.show.tasks import SetTasks
from comedy.sound.room import read_room
from comedy.stage.actions import (
    Action,
    AnswerEnded,
    AwaitCut,
    Caption,
    Close,
    Cover,
    DropSpeech,
    EndOfAnswer,
    Hold,
    HoldDue,
    LoseSession,
    Play,
    ReadRoom,
    Restart,
    Resume,
    RetryLater,
    Send,
)
from comedy.stage.stage import Stage

CUT_REPORT_SECONDS = 0.3  # how long a cut waits for the player to say where it fell silent


class SetHands:
    """The stage, its session link and speech port, and the tasks its actions start."""

    def __init__(self, stage: Stage, link: SessionLink) -> None:
        self.stage, self.link = stage, link
        self.news = News()  # what the page shows has changed: its stream wakes
        self.port = SpeechPort()  # speech out, to one player
        self._tasks = SetTasks()
        self._cut_reported = asyncio.Event()
        self._idle = asyncio.Event()  # set while no answer is in progress
        self._idle.set()

    async def _restart(self, why: str) -> None:
        raise NotImplementedError

    async def _end(self, reason: str) -> None:
        raise NotImplementedError

    async def _house_comedian_covers(self) -> None:
        raise NotImplementedError

    def _say(self, status: str | None = None, error: str | None = None) -> None:
        self.stage.say(status, error)
        self._shown()

    def _shown(self) -> None:
        self.news.saw(self.stage.version)

    async def _do(self, actions: list[Action] | None) -> None:
        self._shown()
        for action in actions or ():
            await self._carry_out(action)
        self._shown()
        if self.stage.responding:
            self._idle.clear()
        else:
            self._idle.set()

    async def _carry_out(self, action: Action) -> None:
        match action:
            case Send(event, replace_settings):
                await self._send(event, replace_settings)
            case Play() | Caption() | EndOfAnswer() | Hold() | Resume():
                self.port.put(action)
            case HoldDue() | RetryLater() | Cover() | ReadRoom():
                self._tasks.spawn(self._in_time(action), f"set-{type(action).__name__}")
            case DropSpeech():
                self._drop_speech()
            case AwaitCut():
                with contextlib.suppress(TimeoutError):  # a player that left says nothing: not long
                    async with asyncio.timeout(CUT_REPORT_SECONDS):
                        await self._cut_reported.wait()
                await self._do(self.stage.finish_cut(time.monotonic()))
            case Restart(why):
                await self._restart(why)
            case LoseSession():
                self.link.lose()
            case Close(reason):
                await self._end(reason)
            case AnswerEnded():
                pass  # the set goes on: the stage has said all there is to say of it
            case _:
                raise TypeError(f"the set cannot carry out {action!r}")

    async def _in_time(self, action: HoldDue | RetryLater | Cover | ReadRoom) -> None:
        """The actions that take their time, each in a task (the room's reading in a thread too)."""
        match action:
            case HoldDue(at):
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                await self._do(self.stage.hold_due(time.monotonic()))
            case RetryLater(seconds, why):
                await asyncio.sleep(seconds)
                await self._do(self.stage.ask_again(why))
            case Cover():
                await self._house_comedian_covers()
            case ReadRoom():
                reading = await asyncio.to_thread(read_room, action.audio)
                await self._do(self.stage.room_read(reading, action, time.monotonic()))

    async def _send(self, event: Event, replace_settings: bool = False) -> None:
        if problem := await self.link.send(event, replace_settings):
            self._say(error=problem)

    def _drop_speech(self) -> None:
        self._cut_reported.clear()  # the player's word on this cut is still to come
        self.port.cut()
