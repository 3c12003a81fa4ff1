"""The transport adapter: everything Gradio-specific between the page and the club.

The handlers Gradio calls (the microphone, the speaker streams, the buttons, the engine's server
functions, the tab closing), the page's pushed updates, and the launch options (routes, uploads,
ffmpeg, SSR). `app.py` only lays out the page and wires its events to these; `comedy.venue.front` holds
the club's state and rules with no Gradio in it (FastRTC's handler and transport split is the model).

The visitor's choices reach the handlers by name: `app.py` declares them once, as a name ->
component map whose names are the fields of `prompts.SetUp` (plus `model` and `mode`).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TypeVar

import gradio as gr
import pandas as pd

from comedy import prompts
from comedy.choices import HANDS_FREE, NOT_PROMPT
from comedy.money import pricing
from comedy.realtime import models, redaction
from comedy.realtime.session import RealtimeError
from comedy.show import recording
from comedy.show.comedy_set import ComedySet
from comedy.sound import audio
from comedy.venue.club import ClubFull
from comedy.venue.pages import Stream
from comedy.web import gradio_speech, page_view
from comedy.web.club_app import ClubApp
from comedy.web.engine import TooManyTokens, speech_message
from comedy.web.engine import speech as engine_speech
from comedy.web.engine_frames import take_report
from comedy.web.ffmpeg import ensure_ffmpeg
from comedy.web.page_view import status_line

UPDATE_EVERY = 0.1  # seconds between two pushes of the page's transcript, status and meters
PAGE_WAIT_SECONDS = 5.0  # a stream waits this long for its page's heartbeat (a page opens it on load)
SET_WAIT_SECONDS = 10.0  # the show's stream waits this long for the set its press starts
C = TypeVar("C", bound=gr.components.Component)
KEY_LIMIT = 300  # characters of a pasted key; real ones are about 160
_SET_UP_FIELDS = {f.name for f in fields(prompts.SetUp)} - {"more", "topic"}


def playable(take: Path) -> tuple[int, object]:
    """An audition take as Gradio's audio player takes it."""
    rate, samples = audio.read_audio_file(str(take))
    return rate, audio.float_to_pcm16(samples)


def refused(exc: Exception, prefix: str = "") -> str:
    """A failure in words for the page: a warning toast and the text, through the one redaction."""
    words = redaction.redact(f"{prefix}{exc}")
    gr.Warning(words)
    return words


def choice_input(component: C) -> C:
    """One of the page's inputs of the visitor's choices, its refusal of a value none of its
    choices holds said to the visitor and not printed as a traceback in the owner's log (any
    client can send any value). Gradio's own component, its `preprocess` wrapped (a subclass of a
    component would make Gradio write a `.pyi` beside this module)."""
    preprocess = component.preprocess

    def said_not_printed(payload):
        try:
            return preprocess(payload)
        except gr.Error:
            raise gr.Error(
                f"{str(payload)[:40]!r} is not one of the choices.", print_exception=False
            ) from None

    component.preprocess = said_not_printed  # type: ignore[method-assign]
    return component


SHOWN = (
    "transcript",
    "status",
    "figures",
    "latency",
    "laugh",
    "scores",
    "chip",
    "barges",
    "show",
)  # `updates`' outputs, by name


def shown(comedy_set: ComedySet) -> dict[str, object]:
    """What the page shows of a set, by name (the app wires each name to its component): the
    transcript as heard, status, figures, the plots (from two jokes on), laugh meter, the content
    filter's chip, the count of cuts, the show's news (with the scorecard at the end)."""
    latency, scores = page_view.plots(comedy_set)
    return {
        "transcript": page_view.messages(comedy_set),
        "status": page_view.status_line(comedy_set),
        "figures": page_view.figures(comedy_set),
        "latency": latency,
        "laugh": page_view.applause_meter(comedy_set.stage.room),
        "scores": scores,
        "chip": page_view.censored_chip(comedy_set),
        "barges": comedy_set.stage.barges,
        "show": page_view.show_news(comedy_set),
    }


def _same(old: object, new: object) -> bool:
    if isinstance(old, pd.DataFrame) or isinstance(new, pd.DataFrame):
        return isinstance(old, pd.DataFrame) and isinstance(new, pd.DataFrame) and old.equals(new)
    return old == new


class Web:
    """Gradio's side of the club: one method per event the page wires."""

    def estimate(self, model: str) -> str:
        """What a minute of set costs on `model`, before the show (the real figure follows it)."""
        offered = {value for _, value in models.choices(also=self.app.settings.model)}
        model = model if model in offered else self.app.settings.model
        usd = pricing.per_minute(pricing.prices_for(model, self.app.prices))
        free = " Rehearsal is free: this is what it would cost live." if self.app.settings.rehearsal else ""
        return (
            f"**About ${usd:.2f} a minute of set** on {model} (three 15 s bits a minute, list prices).{free}"
        )

    def __init__(self, app: ClubApp, choices: Sequence[str] = ()) -> None:
        ensure_ffmpeg()  # Gradio encodes the fallback's streamed speech with an ffmpeg subprocess
        self.app = app
        self.choices = tuple(choices)  # the names of the visitor's choices, in the page's order

    def _picked(self, values: Sequence[object]) -> dict[str, object]:
        return dict(zip(self.choices, values, strict=True))

    def _set_up(self, picked: dict[str, object], topic: object = "") -> prompts.SetUp:
        chosen = {k: v for k, v in picked.items() if k in _SET_UP_FIELDS}
        more = tuple((k, str(v)) for k, v in picked.items() if k not in _SET_UP_FIELDS | NOT_PROMPT)
        return prompts.SetUp(**chosen, topic=prompts.visitor_topic(topic), more=more)

    # --- the set

    async def start(self, request: gr.Request, *values: object) -> str:
        """Start the set (the button, or the Gradio microphone's first recording)."""
        picked = self._picked(values)
        try:
            comedy_set = await self.app.seat(
                request.session_hash, self._set_up(picked), picked["model"], picked["mode"], greet=True
            )
            return status_line(comedy_set)
        except (ClubFull, RealtimeError) as exc:
            return refused(exc)

    async def tell(self, request: gr.Request, topic: object, *values: object) -> str:
        """A typed topic: a joke about it, now."""
        picked, topic = self._picked(values), prompts.visitor_topic(topic)
        try:
            comedy_set = await self.app.seat(
                request.session_hash, self._set_up(picked, topic), picked["model"], picked["mode"]
            )
            await comedy_set.tell(topic)
            return status_line(comedy_set)
        except (ClubFull, RealtimeError) as exc:
            return refused(exc, "Not connected: ")

    async def tell_from_show(self, request: gr.Request, event: gr.EventData, *values: object) -> str:
        """A topic chip or the show's topic field: the show starts if it has not, and tells that joke."""
        data = event._data if isinstance(event._data, dict) else {}
        return await self.tell(request, data.get("topic", ""), *values)

    async def change(self, request: gr.Request, topic: object, *values: object):
        """A choice changed mid-set."""
        comedy_set = self.app.club.get(request.session_hash)
        picked = self._picked(values)
        if comedy_set is None:  # a live opener for the new voice and style, ready for their Start
            self.app.studio.prepare_opener(request.session_hash, self._set_up(picked), str(picked["model"]))
            return gr.skip()
        self.app.seen(request.session_hash)
        await comedy_set.change(self._set_up(picked, topic), picked["mode"] == HANDS_FREE, picked["model"])
        return status_line(comedy_set)

    async def end(self, request: gr.Request) -> str:
        """End the set; its recording stays to be saved."""
        ended = await self.app.club.hang_up(request.session_hash, "The set is over. Thanks for coming!")
        return status_line(ended) if ended else "No set running."

    def save(self, request: gr.Request) -> str | None:
        """The set as a zip to download (run in a thread of its own, a few at a time)."""
        path = self.app.save_set(request.session_hash)
        if path is None:
            gr.Warning("Start a set first: there is nothing to save yet.")
            return None
        return str(path)

    # --- Gradio's own microphone and speaker (the fallback)

    async def hear(self, request: gr.Request, chunk) -> None:
        """A chunk of Gradio's streamed microphone, handed on at once."""
        comedy_set = self.app.club.get(request.session_hash)
        if chunk is not None and comedy_set is not None:
            comedy_set.receive(*chunk)

    async def stop_talking(self, request: gr.Request) -> None:
        """Gradio's microphone stopped recording: push-to-talk's turn ends."""
        await self.app.stop_talking(request.session_hash)

    async def speech_events(self, request: gr.Request) -> AsyncIterator[str]:
        """Where the engine's socket cannot open: the same speech over Gradio's own event stream,
        into the engine's player in the page (one such stream per open page)."""
        async for comedy_set, stream in self._streamed(request.session_hash, "speech_events"):
            comedy_set.heard_through("Gradio's event stream (the engine's socket is blocked)")
            async for piece in stream.until_stopped(engine_speech(comedy_set)):
                yield speech_message(piece)

    async def speaker(self, request: gr.Request) -> AsyncIterator[bytes]:
        """Gradio's streamed audio player: one long-lived stream per open page, every set the
        visitor starts."""
        async for comedy_set, stream in self._streamed(request.session_hash, "speaker"):
            comedy_set.heard_through("Gradio's audio (slower)")
            async for chunk in stream.until_stopped(gradio_speech.chunks(comedy_set)):
                yield audio.wav_bytes(chunk)

    async def _streamed(self, visitor: str, kind: str) -> AsyncIterator[tuple[ComedySet, Stream]]:
        """Each set the visitor opens, for a stream of `kind` that lives while their page is open
        and no newer one of its kind replaces it."""
        if not await self.app.pages.wait_open(visitor, PAGE_WAIT_SECONDS):
            return
        with self.app.pages.stream(visitor, kind) as stream:
            async for comedy_set in stream.until_stopped(self.app.club.sets_of(visitor)):
                yield comedy_set, stream

    async def updates(self, request: gr.Request) -> AsyncIterator[list]:
        """The show's stream, from the press that starts it: the transcript (as it is heard),
        status, meters and the show's news reach the page when they change (pushed, not polled),
        until the set is over (its end card asks for the download). One per open page (a newer one replaces
        it); none for a page that is not open, none waiting long for a set that never comes."""
        visitor = request.session_hash
        if not await self.app.pages.wait_open(visitor, PAGE_WAIT_SECONDS):
            return
        with self.app.pages.stream(visitor, "updates") as stream:
            comedy_set = await self.app.club.arrival(visitor, SET_WAIT_SECONDS, stream.stopped)
            if comedy_set is None:
                return
            async for values in stream.until_stopped(self._updates_of(comedy_set)):
                yield values

    async def _updates_of(self, comedy_set: ComedySet) -> AsyncIterator[list]:
        """What changed in the page's view of one set, as it changes, to its end."""
        last: dict[str, object] = {}
        seen = None
        while True:
            stage = comedy_set.stage
            now = (stage.version, sum(stage.speaker.played.values()), comedy_set.closed)
            if now != seen:
                seen, values, over = now, shown(comedy_set), comedy_set.closed
                changed = {k: v for k, v in values.items() if k not in last or not _same(last[k], v)}
                last.update(changed)
                yield [changed[name] if name in changed else gr.skip() for name in SHOWN]
                if over:
                    return
                await asyncio.sleep(UPDATE_EVERY)  # words arrive a few a second: one render for several
                continue
            await comedy_set.news.wait(UPDATE_EVERY if stage.speaker.unheard() else 1.0)

    # --- the visitor's key, and leaving

    async def use_key(self, request: gr.Request, key: object) -> tuple[str, str]:
        """A visitor's own key, for their tab only (checked for shape, never shown again)."""
        key = key.strip() if isinstance(key, str) else ""
        self.app.seen(request.session_hash)
        if not key:
            self.app.use_key(request.session_hash, None)
            return "", "Using the house setting again."
        if len(key) > KEY_LIMIT or not key.isascii() or not key.isprintable() or " " in key:
            return "", "That does not look like an OpenAI API key: nothing was kept."
        self.app.use_key(request.session_hash, key)
        await self.app.club.hang_up(request.session_hash, "Switching to your key")
        return "", "Your key is kept for this tab only. Start the set to go live."

    async def hang_up(self, request: gr.Request) -> None:
        """The tab closed."""
        await self.app.leave(request.session_hash)

    # --- the engine's server functions (called from its JavaScript by name, with the raw request)

    def server_functions(self) -> tuple:
        """`engine_token`, `stop_talking_now`, `engine_report`, `best_bit` and `set_download`, as
        the engine's page calls them (plain functions: Gradio marks each one)."""
        app = self.app

        async def engine_token(_args, request: gr.Request) -> str | dict:
            visitor = await _session_of(request)
            app.seen(visitor)
            try:
                return app.engine.mint(visitor)  # a one-use token for the engine's socket
            except TooManyTokens as exc:
                return {"refused": str(exc)}  # the page says why, and uses Gradio's stream

        async def stop_talking_now(_args, request: gr.Request) -> None:
            await app.stop_talking(await _session_of(request))  # the engine's microphone switch went off

        async def engine_report(report, request: gr.Request) -> None:
            # The player's reports when speech comes over Gradio's event stream (the fallback).
            comedy_set = app.club.get(await _session_of(request))
            if comedy_set is not None and isinstance(report, dict):
                take_report(comedy_set, report)

        async def best_bit(_args, request: gr.Request) -> dict:
            # The best joke and its laugh, for the end card's player (the engine's own).
            comedy_set = app.club.ended.get(await _session_of(request))
            pcm = None if comedy_set is None else await asyncio.to_thread(recording.best_bit_of, comedy_set)
            if pcm is None:
                return {"refused": "No joke got a laugh tonight: nothing to replay."}
            return {"item": "best-bit", "pcm": base64.b64encode(pcm.astype("<i2").tobytes()).decode("ascii")}

        async def set_download(_args, request: gr.Request) -> dict:
            # The end card's download: waits for the zip (however early the click), then its URL.
            url = await app.set_downloads.ready(await _session_of(request))
            return {"url": url} if url else {"refused": "No show to download: start one first."}

        return engine_token, stop_talking_now, engine_report, best_bit, set_download


async def _session_of(request) -> str:
    """The Gradio session a server function was called from (its JSON body says)."""
    body = await request.json()
    return str(body["session_hash"])


def mode_banner(app: ClubApp) -> str:
    """What the page says about where the comedian lives."""
    if app.settings.rehearsal:
        return (
            "**Rehearsal mode**: no OpenAI key is set, so the house comedian performs from "
            "its joke book with an offline voice. Paste your own key below to go live."
        )
    return f"**Live**: the comedian runs on OpenAI Realtime (`{app.settings.model}`)."
