"""The transport adapter: everything Gradio-specific between the page and the club.

The handlers Gradio calls (the microphone, the speaker streams, the buttons, the engine's server
functions, the tab closing), the page's pushed updates, and the launch options (routes, uploads,
ffmpeg, SSR). `app.py` only lays out the page and wires its events to these; `comedy.venue` holds
the club's state and rules with no Gradio in it (FastRTC's handler and transport split is the model).

The visitor's choices reach the handlers by name: `app.py` declares them once, as a name ->
component map whose names are the fields of `prompts.SetUp` (plus `model` and `mode`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import fields
from pathlib import Path

import gradio as gr
import pandas as pd

from comedy import audio, gradio_speech, models, pricing, prompts, protocol, redaction
from comedy.audition import DEFAULT_LINE, one_after_another
from comedy.choices import HANDS_FREE, NOT_PROMPT
from comedy.club import ClubFull
from comedy.comedy_set import ComedySet
from comedy.engine import TooManyTokens, speech_message, take_report
from comedy.engine import speech as engine_speech
from comedy.ffmpeg import ensure_ffmpeg
from comedy.realtime import RealtimeError
from comedy.room import RoomReading
from comedy.transcript import score_words
from comedy.uploads import keep_files_for
from comedy.venue import ClubApp

UPDATE_EVERY = 0.1  # seconds between two pushes of the page's transcript, status and meters
KEY_LIMIT = 300  # characters of a pasted key; real ones are about 160
_SET_UP_FIELDS = {f.name for f in fields(prompts.SetUp)} - {"more", "topic"}


CENSORED_CHIP = "🚫 The content filter cut that joke"
BATTLE_LINE = "My therapist says I have trouble with commitment. We've been seeing each other for six years."


LAMPS = 10


def applause_meter(reading: RoomReading | None) -> str:
    """The laugh meter as a club's applause meter: a row of lamps lit by the last joke's laugh."""
    lit = round((reading.laugh if reading else 0.0) * LAMPS)
    lamps = "".join(f'<span class="lamp{" on" if i < lit else ""}"></span>' for i in range(LAMPS))
    words = score_words(reading) if reading else "waiting for the first punchline"
    return (
        f'<div class="applause" role="meter" aria-label="Applause meter" aria-valuemin="0" '
        f'aria-valuemax="{LAMPS}" aria-valuenow="{lit}"><div class="applause-title">Applause meter</div>'
        f'<div class="lamps">{lamps}</div><div class="applause-words">{words}</div></div>'
    )


def playable(take: Path) -> tuple[int, object]:
    """An audition take as Gradio's audio player takes it."""
    rate, samples = audio.read_audio_file(str(take))
    return rate, audio.float_to_pcm16(samples)


def refused(exc: Exception, prefix: str = "") -> str:
    """A failure in words for the page: a warning toast and the text, through the one redaction."""
    words = redaction.redact(f"{prefix}{exc}")
    gr.Warning(words)
    return words


def status_line(comedy_set: ComedySet) -> str:
    """Mode, sound path, connection and the last error, in one line of words."""
    parts = [comedy_set.endpoint.label]
    if comedy_set.sound:
        parts.append(f"Sound: {comedy_set.sound}")
    parts.append(comedy_set.stage.status)
    if comedy_set.stage.last_error:
        parts.append(f"Last problem: {comedy_set.stage.last_error}")
    return " · ".join(parts)


def messages(comedy_set: ComedySet) -> list[dict]:
    """The transcript as chat messages."""
    return [{"role": t.role, "content": t.shown()} for t in comedy_set.stage.transcript]


SHOWN = (
    "transcript",
    "status",
    "figures",
    "latency",
    "laugh",
    "scores",
    "chip",
    "barges",
)  # `updates`' outputs


def shown(comedy_set: ComedySet) -> dict[str, object]:
    """What the page shows of a set, by name (the app wires each name to its component): the
    transcript, status, figures, latency plot, laugh meter, the laugh per joke, the content
    filter's chip, the count of cuts."""
    meters = comedy_set.stage.meters
    figures = meters.summary()
    minutes = comedy_set.length / 60
    if meters.answers and minutes >= 0.25:
        figures += f" · ${meters.cost_usd / minutes:.3f} a minute over {minutes:.1f} min"
    if comedy_set.endpoint.rehearsal:
        figures += f" · (rehearsal is free: cost at {comedy_set.endpoint.model} list prices)"
    plot = pd.DataFrame(
        {
            "joke": range(1, len(meters.latencies_s) + 1),
            "latency (ms)": [round(x * 1000) for x in meters.latencies_s],
        }
    )
    room = applause_meter(comedy_set.stage.room)
    jokes = comedy_set.stage.lines.jokes()
    scored = [(n, t.score.laugh) for n, t in enumerate(jokes, 1) if t.score is not None]
    scores = pd.DataFrame({"joke": [n for n, _ in scored], "laugh": [laugh for _, laugh in scored]})
    chip = f'<span class="chip">{CENSORED_CHIP}</span>' if comedy_set.stage.shown.censored else ""
    return {
        "transcript": messages(comedy_set),
        "status": status_line(comedy_set),
        "figures": figures,
        "latency": plot,
        "laugh": room,
        "scores": scores,
        "chip": chip,
        "barges": comedy_set.stage.barges,
    }


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

    async def change(self, request: gr.Request, topic: object, *values: object):
        """A choice changed mid-set."""
        comedy_set = self.app.club.get(request.session_hash)
        if comedy_set is None:
            return gr.skip()
        picked = self._picked(values)
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
        into the engine's player in the page."""
        async for comedy_set in self.app.club.sets_of(request.session_hash):
            comedy_set.heard_through("Gradio's event stream (the engine's socket is blocked)")
            async for piece in engine_speech(comedy_set):
                yield speech_message(piece)

    async def speaker(self, request: gr.Request) -> AsyncIterator[bytes]:
        """Gradio's streamed audio player: one long-lived stream per tab, every set the visitor starts."""
        async for comedy_set in self.app.club.sets_of(request.session_hash):
            comedy_set.heard_through("Gradio's audio (slower)")
            async for chunk in gradio_speech.chunks(comedy_set):
                yield audio.wav_bytes(chunk)

    async def updates(self, request: gr.Request) -> AsyncIterator[list]:
        """One long-lived stream per tab: the transcript, status and meters reach the page when
        they change (pushed, not polled), for each set the visitor opens until the tab closes."""
        async for comedy_set in self.app.club.sets_of(request.session_hash):
            seen = -1
            while seen != comedy_set.stage.version or not comedy_set.closed:
                if seen != comedy_set.stage.version:
                    seen = comedy_set.stage.version
                    values = shown(comedy_set)
                    yield [values[name] for name in SHOWN]
                    await asyncio.sleep(UPDATE_EVERY)  # words arrive a few a second: one render for several
                await comedy_set.news.wait()

    # --- the voice audition

    def _skip_all(self, words: str) -> tuple:
        return (*[gr.skip()] * (len(protocol.VOICES) + 1), words)

    async def audition_one(self, request: gr.Request, voice: str, style: str, line: object, model: str):
        """One voice says the line."""
        line = prompts.visitor_line(line) or DEFAULT_LINE
        try:
            auditioner = await self.app.audition_take(request.session_hash, voice, style, line, model)
        except (ClubFull, RealtimeError) as exc:
            return self._skip_all(refused(exc))
        heard = playable(auditioner.took)
        players = [heard if v == voice else gr.skip() for v in protocol.VOICES]
        return (*players, heard, f"{voice}: ready ({'from the cache' if auditioner.hits else 'new take'}).")

    async def audition_all(self, request: gr.Request, style: str, line: object, model: str):
        """Every voice says the line, one after another."""
        line = prompts.visitor_line(line) or DEFAULT_LINE
        takes: list[Path] = []
        hits = 0
        for voice in protocol.VOICES:
            try:
                auditioner = await self.app.audition_take(request.session_hash, voice, style, line, model)
            except (ClubFull, RealtimeError) as exc:
                yield self._skip_all(refused(exc, f"{voice}: "))
                return
            takes.append(auditioner.took)
            hits += auditioner.hits
            players = [gr.skip()] * len(protocol.VOICES)
            players[len(takes) - 1] = playable(takes[-1])
            yield (*players, gr.skip(), f"{len(takes)}/{len(protocol.VOICES)} voices ({hits} from the cache)")
        order = ", ".join(protocol.VOICES)
        yield (
            *[gr.skip()] * len(protocol.VOICES),
            (protocol.SAMPLE_RATE, one_after_another(takes)),
            f"All {len(protocol.VOICES)}, one after another: {order} ({hits} from the cache).",
        )

    # --- the voice battle

    async def battle(
        self, request: gr.Request, first: str, second: str, style: str, line: object, model: str
    ):
        """Two voices do the same bit, one after the other; then the visitor may vote."""
        line = prompts.visitor_line(line) or BATTLE_LINE
        if first == second or first not in protocol.VOICES or second not in protocol.VOICES:
            return gr.skip(), gr.skip(), gr.skip(), "Pick two different voices."
        takes: list[Path] = []
        for voice in (first, second):
            try:
                auditioner = await self.app.audition_take(request.session_hash, voice, style, line, model)
            except (ClubFull, RealtimeError) as exc:
                return gr.skip(), gr.skip(), gr.skip(), refused(exc, f"{voice}: ")
            takes.append(auditioner.took)
        self.app.battle_heard(request.session_hash, style, first, second)
        both = (protocol.SAMPLE_RATE, one_after_another(takes))
        said = f"{first}, then {second}, in a {style} style. Who did it better? Vote below."
        return playable(takes[0]), playable(takes[1]), both, said

    async def vote_first(self, request: gr.Request) -> tuple:
        """The first voice won."""
        return await self._vote(request, first_won=True)

    async def vote_second(self, request: gr.Request) -> tuple:
        """The second voice won."""
        return await self._vote(request, first_won=False)

    async def _vote(self, request: gr.Request, first_won: bool) -> tuple:
        try:
            style, winner = await self.app.vote(request.session_hash, first_won)
        except ValueError as exc:
            return gr.skip(), str(exc)
        return await self.leaderboard(style), f"Your vote for {winner} is in: the {style} leaderboard."

    async def leaderboard(self, style: str) -> pd.DataFrame:
        """The voices that have fought in a style, best first, from every visitor's votes."""
        standings = await asyncio.to_thread(self.app.votes.standings, style)
        return pd.DataFrame(
            {
                "voice": [s.voice for s in standings],
                "wins": [s.wins for s in standings],
                "losses": [s.losses for s in standings],
                "won": [f"{s.share:.0%}" for s in standings],
            }
        )

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
        """`engine_token`, `stop_talking_now` and `engine_report`, as the engine's page calls them
        (plain functions: Gradio marks each one)."""
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

        return engine_token, stop_talking_now, engine_report


async def _session_of(request) -> str:
    """The Gradio session a server function was called from (its JSON body says)."""
    body = await request.json()
    return str(body["session_hash"])


def session_capacity(max_sets: int) -> int:
    """Sessions whose page state Gradio keeps: every open tab, with room for many that closed."""
    return max(50, 25 * max_sets)


def mode_banner(app: ClubApp) -> str:
    """What the page says about where the comedian lives."""
    if app.settings.rehearsal:
        return (
            "**Rehearsal mode**: no OpenAI key is set, so the house comedian performs from "
            "its joke book with an offline voice. Paste your own key below to go live."
        )
    return f"**Live**: the comedian runs on OpenAI Realtime (`{app.settings.model}`)."


def lifespan(app: ClubApp) -> Callable:
    """Gradio's app lifespan: its uploads swept, and the club running."""
    files = keep_files_for(app.settings.keep_files_seconds)

    @contextlib.asynccontextmanager
    async def serving(fastapi_app) -> AsyncIterator[None]:
        async with files(fastapi_app), app.running():
            yield

    return serving


def launch_options(app: ClubApp, css: str = "") -> dict:
    """What `demo.launch` needs for this app.

    Gradio's queue runs at most `max_threads` jobs at once, long-lived ones included, and every
    visitor holds two for the whole set (the speaker stream and the microphone stream): the
    default of 40 would turn the 21st visitor away in silence. Uploaded files older than
    `COMEDY_KEEP_FILES_SECONDS` are deleted. Gradio keeps a copy of the page's config for every
    session it has seen (about 0.1-0.2 MB each, 10,000 sessions by default): the club keeps the
    25 sessions per set allowed at once that were used last, which bounds memory on a busy Space.
    """
    return {
        "css": css,
        "max_threads": max(40, 3 * app.settings.max_sets + 20),
        "app_kwargs": {
            "lifespan": lifespan(app),  # the upload sweep; visitors who left unseen are forgotten
            "routes": [app.engine.route()],  # the engine's WebSocket, on Gradio's own app
        },
        # Spaces turn SSR on by default; its Node proxy forwards no WebSocket upgrade.
        "ssr_mode": False,
        # Gradio keeps each event's inputs (the topic typed, the line auditioned) in the browser's
        # storage and lists them on /gradio_api/runs by default: nothing of a visitor's is kept.
        "run_history": False,
        "max_file_size": round(app.settings.max_upload_mb * 1024 * 1024),
        "state_session_capacity": session_capacity(app.settings.max_sets),
    }
