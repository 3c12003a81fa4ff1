"""The comedy club: a Gradio Blocks UI over `comedy.club`. No protocol code lives here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import gradio as gr
import pandas as pd

from comedy import audio, engine_page, models, pricing, prompts, protocol, redaction
from comedy.audition import DEFAULT_LINE, TAKE_TOKENS, Audition, one_after_another
from comedy.budget import MIN_ANSWER_TOKENS, Allowance, Budget, Context, worst_answer_usd
from comedy.club import Club, ClubFull, ComedySet, Endpoint, Limits
from comedy.config import Settings
from comedy.engine import Engine, speech_message, take_report
from comedy.ffmpeg import ensure_ffmpeg
from comedy.realtime import RealtimeError
from comedy.rehearsal import RehearsalThread
from comedy.stored_prompt import StoredPrompt
from comedy.uploads import keep_files_for

log = logging.getLogger("comedy.app")
HANDS_FREE, PUSH_TO_TALK = "Hands-free", "Push-to-talk"
UPDATE_EVERY = 0.1  # seconds between two pushes of the page's transcript, status and meters
REHEARSAL_KEY = "rehearsal"
KEY_LIMIT = 300  # characters of a pasted key; real ones are about 160
EXPIRE_EVERY = 30.0  # seconds between two looks for visitors who left without saying so

CSS = """
#status {font-size: 0.95em; opacity: 0.9}
#mode-banner {text-align: center}
"""
# On a heckle the server has stopped, but the browser still holds ~0.7 s: skip to its end.
FLUSH_JS = """() => { const a = document.querySelector('#speaker audio');
  if (a && a.buffered.length) a.currentTime = a.buffered.end(a.buffered.length - 1); }"""


class ClubApp:
    """The app's state: settings, the rehearsal server when there is no key, and the sets."""

    def __init__(self, settings: Settings, rehearsal: RehearsalThread | None) -> None:
        self.settings = settings
        self.rehearsal = rehearsal
        self.club = Club(settings.max_sets)
        self.visitor_keys: dict[str, str] = {}  # a visitor's own key, for their tab only
        self.prices = pricing.price_table()
        self.budget = Budget(settings.max_set_usd, settings.max_day_usd)  # the owner's key only
        self.downloads = Path(tempfile.mkdtemp(prefix="comedy-sets-"))  # mode 0700
        self._saved: dict[str, list[Path]] = {}  # each visitor's downloads, deleted when they go
        self._takes: dict[str, asyncio.Task] = {}  # each visitor's audition take being recorded
        self.last_seen: dict[str, float] = {}  # when each visitor last did something (monotonic)
        self.engine = Engine(self.club)
        redaction.remember(settings.api_key)
        # The owner's opt-in stored prompt, shared by every set: refused once, the template for all.
        self.stored_prompt = (
            StoredPrompt(settings.prompt_id, settings.prompt_version) if settings.prompt_id else None
        )

    def endpoint(self, visitor: str, model: str) -> Endpoint:
        """OpenAI with the visitor's or the owner's key; else the rehearsal server.

        A visitor's own key gets the repo's prompt: the owner's stored prompt is not in their account.
        """
        s = self.settings
        tuning = {"reasoning_effort": s.reasoning_effort, "max_output_tokens": s.max_output_tokens}
        if own := self.visitor_keys.get(visitor):
            return Endpoint(s.realtime_url, own, False, model, None, **tuning)
        if s.api_key is not None:
            return Endpoint(
                s.realtime_url, s.api_key.get_secret_value(), False, model, self.stored_prompt, **tuning
            )
        if self.rehearsal is None:
            raise RealtimeError("No API key is set and rehearsal mode is off.")
        return Endpoint(self.rehearsal.url, REHEARSAL_KEY, True, model, self.stored_prompt, **tuning)

    def allowance(self, visitor: str, endpoint: Endpoint) -> Allowance | None:
        """The visitor's share of the owner's money, when the owner's key pays (not in rehearsal,
        not with the visitor's own key)."""
        if endpoint.rehearsal or visitor in self.visitor_keys:
            return None
        return self.budget.allowance(visitor)

    def seen(self, visitor: str) -> None:
        """The visitor did something: what they left is kept a while longer."""
        self.last_seen[visitor] = time.monotonic()

    async def seat(self, visitor: str, set_up: prompts.SetUp, model: str, mode: str) -> ComedySet:
        """The visitor's set, connected; opened with these choices if they have none.

        ClubFull when there is no seat or no money for an answer; RealtimeError when it cannot
        connect (and then no seat is held).
        """
        self.seen(visitor)
        endpoint = self.endpoint(visitor, model)
        prices = pricing.prices_for(model, self.prices)
        allowance = self.allowance(visitor, endpoint)
        first_answer = worst_answer_usd(prices, Context(), MIN_ANSWER_TOKENS)
        if self.club.get(visitor) is None and allowance and (why := allowance.why_not(first_answer)):
            raise ClubFull(why)
        return await self.club.seat(
            visitor,
            lambda: ComedySet(
                endpoint,
                set_up,
                hands_free=mode == HANDS_FREE,
                max_seconds=self.settings.max_set_seconds,
                prices=prices,
                limits=Limits(self.settings.idle_seconds, allowance),
            ),
        )

    async def audition_take(self, visitor: str, voice: str, style: str, line: str, model: str) -> Audition:
        """A voice saying the line: from the cache at once, else recorded on a seat, within the
        visitor's allowance; the Audition says which (`hits`) and holds the take (`took`)."""
        self.seen(visitor)
        endpoint = self.endpoint(visitor, model)
        where = "rehearsal" if endpoint.rehearsal else endpoint.url
        auditioner = Audition(
            endpoint.url, endpoint.key, model, where, cache_mb=self.settings.audition_cache_mb
        )
        if (cached := auditioner.cached(voice, style, line)) is not None:
            auditioner.took = cached
            return auditioner
        prices = pricing.prices_for(model, self.prices)
        allowance = self.allowance(visitor, endpoint)
        if allowance is not None and (
            why := allowance.why_not(worst_answer_usd(prices, Context(), TAKE_TOKENS))
        ):
            raise ClubFull(why)
        async with self.club.audition_seat(visitor):
            take = self._takes[visitor] = asyncio.create_task(auditioner.take(voice, style, line))
            try:
                auditioner.took = await take
            except asyncio.CancelledError:
                if take.cancelled() and not asyncio.current_task().cancelling():
                    raise RealtimeError("The take was stopped: the tab closed.") from None
                raise
            finally:
                self._takes.pop(visitor, None)
                if allowance is not None:
                    for usage in auditioner.usages:
                        allowance.spend(pricing.usage_cost(usage, prices))
        return auditioner

    def save_set(self, visitor: str) -> Path | None:
        """Write the visitor's set (open or just ended) as a zip to download, under a name of its
        own that nobody can guess (Gradio then serves it from a folder named by its content)."""
        self.seen(visitor)
        comedy_set = self.club.sets.get(visitor) or self.club.ended.get(visitor)
        if comedy_set is None:
            return None
        folder = Path(tempfile.mkdtemp(dir=self.downloads))
        path = folder / f"comedy-set-{secrets.token_urlsafe(12)}.zip"
        path.write_bytes(comedy_set.archive())
        self._saved.setdefault(visitor, []).append(path)
        return path

    async def stop_talking(self, visitor: str) -> None:
        """The visitor released push-to-talk (Gradio's microphone or the engine's switch)."""
        comedy_set = self.club.get(visitor)
        if comedy_set is not None:
            await comedy_set.stop_talking()

    def use_key(self, visitor: str, key: str | None) -> None:
        """Keep a visitor's own key for their tab (None: go back to the house setting)."""
        redaction.forget(self.visitor_keys.pop(visitor, None))
        if key:
            redaction.remember(key)
            self.visitor_keys[visitor] = key

    async def leave(self, visitor: str, reason: str = "The visitor left") -> None:
        """Drop everything the app kept for a visitor who is gone: their set, audition take, key,
        downloads and engine tokens."""
        await self.club.hang_up(visitor, reason, left=True)
        if (take := self._takes.get(visitor)) is not None:
            take.cancel()
        await self.engine.forget(visitor)
        self.use_key(visitor, None)
        for path in self._saved.pop(visitor, []):
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
        self.last_seen.pop(visitor, None)

    async def expire(self) -> list[str]:
        """Forget visitors who did nothing for `COMEDY_FORGET_SECONDS` and have no page open (a
        client that never opened the heartbeat is never told to unload); who went."""
        now, age = time.monotonic(), self.settings.forget_seconds
        known = self.last_seen.keys() | self.visitor_keys.keys() | self.club.ended.keys() | self._saved.keys()
        gone = [
            v
            for v in known
            if not self.club.listening(v) and now - self.last_seen.get(v, 0.0) > age and v not in self._takes
        ]
        for visitor in gone:
            await self.leave(visitor, "Forgotten: no page open")
        return gone

    def lifespan(self) -> Callable:
        """Gradio's app lifespan: the upload sweep, and forgetting visitors who left unseen."""
        files = keep_files_for(self.settings.keep_files_seconds)
        every = max(0.2, min(EXPIRE_EVERY, self.settings.forget_seconds / 4))

        async def expire_forever() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.expire()
                except Exception:  # one bad sweep must not end the sweeping
                    log.exception("forgetting visitors failed")

        @contextlib.asynccontextmanager
        async def lifespan(fastapi_app) -> AsyncIterator[None]:
            async with files(fastapi_app):
                task = asyncio.create_task(expire_forever(), name="forget-visitors")
                try:
                    yield
                finally:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

        return lifespan

    @property
    def mode_banner(self) -> str:
        """What the page says about where the comedian lives."""
        if self.settings.rehearsal:
            return (
                "**Rehearsal mode**: no OpenAI key is set, so the house comedian performs from "
                "its joke book with an offline voice. Paste your own key below to go live."
            )
        return f"**Live**: the comedian runs on OpenAI Realtime (`{self.settings.model}`)."


def build(app: ClubApp) -> gr.Blocks:
    """The Blocks UI, wired to `app`."""
    ensure_ffmpeg()  # Gradio encodes the streamed speech with an ffmpeg subprocess

    def playable(take: Path) -> tuple[int, object]:
        rate, samples = audio.read_audio_file(str(take))
        return rate, audio.float_to_pcm16(samples)

    def set_up_of(voice: str, style: str, reaction: str, topic: str = "") -> prompts.SetUp:
        return prompts.SetUp(voice=voice, style=style, reaction=reaction, topic=prompts.visitor_topic(topic))

    def refused(exc: Exception, prefix: str = "") -> str:
        # Every word that reaches the page from a failure passes the one redaction.
        words = redaction.redact(f"{prefix}{exc}")
        gr.Warning(words)
        return words

    async def start(voice, style, reaction, model, mode, request: gr.Request):
        try:
            comedy_set = await app.seat(request.session_hash, set_up_of(voice, style, reaction), model, mode)
            return comedy_set.status_line()
        except (ClubFull, RealtimeError) as exc:
            return refused(exc)

    async def speech_events(request: gr.Request) -> AsyncIterator[str]:
        # The fallback where the engine's socket cannot open: the same speech over Gradio's own
        # event stream, into the engine's player in the page.
        async for comedy_set in app.club.sets_of(request.session_hash):
            comedy_set.heard_through("Gradio's event stream (the engine's socket is blocked)")
            async for kind, item_id, pcm in comedy_set.stream():
                yield speech_message(kind, item_id, pcm)

    async def speaker(request: gr.Request) -> AsyncIterator[bytes]:
        # One long-lived stream per tab: it plays each set the visitor starts, until they leave.
        async for comedy_set in app.club.sets_of(request.session_hash):
            comedy_set.heard_through("Gradio's audio (slower)")
            async for chunk in comedy_set.emit():
                yield audio.wav_bytes(chunk)

    async def tell(topic, voice, style, reaction, model, mode, request: gr.Request):
        topic = prompts.visitor_topic(topic)
        try:
            comedy_set = await app.seat(
                request.session_hash, set_up_of(voice, style, reaction, topic), model, mode
            )
            await comedy_set.tell(topic)
            return comedy_set.status_line()
        except (ClubFull, RealtimeError) as exc:
            return refused(exc, "Not connected: ")

    async def change(topic, voice, style, reaction, model, mode, request: gr.Request):
        comedy_set = app.club.get(request.session_hash)
        if comedy_set is None:
            return gr.skip()
        app.seen(request.session_hash)
        await comedy_set.change(set_up_of(voice, style, reaction, topic), mode == HANDS_FREE, model)
        return comedy_set.status_line()

    async def hear(chunk, request: gr.Request):
        comedy_set = app.club.get(request.session_hash)
        if chunk is not None and comedy_set is not None:
            comedy_set.receive(*chunk)  # hands the chunk on and returns: nothing slow here

    async def stop_talking(request: gr.Request):
        await app.stop_talking(request.session_hash)

    async def end(request: gr.Request):
        ended = await app.club.hang_up(request.session_hash, "The set is over. Thanks for coming!")
        return ended.status_line() if ended else "No set running."

    def shown(comedy_set: ComedySet) -> tuple:
        meters = comedy_set.meters
        if comedy_set.endpoint.rehearsal:
            figures = (
                f"{meters.summary()} · (rehearsal is free: cost at {comedy_set.endpoint.model} list prices)"
            )
        else:
            figures = meters.summary()
        plot = pd.DataFrame(
            {
                "joke": range(1, len(meters.latencies_s) + 1),
                "latency (ms)": [round(x * 1000) for x in meters.latencies_s],
            }
        )
        room = comedy_set.room.meter() if comedy_set.room else None
        return (comedy_set.messages(), comedy_set.status_line(), figures, plot, room, comedy_set.barges)

    async def updates(request: gr.Request):
        # One long-lived stream per tab: the transcript, status and meters reach the page when they
        # change (pushed, not polled), for each set the visitor opens until the tab closes.
        async for comedy_set in app.club.sets_of(request.session_hash):
            seen = -1
            while seen != comedy_set.version or not comedy_set.closed:
                if seen != comedy_set.version:
                    seen = comedy_set.version
                    yield shown(comedy_set)
                    await asyncio.sleep(UPDATE_EVERY)  # words arrive a few a second: one render for several
                await comedy_set.news()

    def save(request: gr.Request):  # a thread of its own; at most `saves_at_once` at a time
        path = app.save_set(request.session_hash)
        if path is None:
            gr.Warning("Start a set first: there is nothing to save yet.")
            return None
        return str(path)

    async def audition_one(voice, style, line, model, request: gr.Request):
        line = prompts.visitor_line(line) or DEFAULT_LINE
        try:
            auditioner = await app.audition_take(request.session_hash, voice, style, line, model)
        except (ClubFull, RealtimeError) as exc:
            return (*[gr.skip()] * (len(protocol.VOICES) + 1), refused(exc))
        heard = playable(auditioner.took)
        players = [heard if v == voice else gr.skip() for v in protocol.VOICES]
        return (*players, heard, f"{voice}: ready ({'from the cache' if auditioner.hits else 'new take'}).")

    async def audition_all(style, line, model, request: gr.Request):
        line = prompts.visitor_line(line) or DEFAULT_LINE
        takes: list[Path] = []
        hits = 0
        for voice in protocol.VOICES:
            try:
                auditioner = await app.audition_take(request.session_hash, voice, style, line, model)
            except (ClubFull, RealtimeError) as exc:
                yield (*[gr.skip()] * (len(protocol.VOICES) + 1), refused(exc, f"{voice}: "))
                return
            takes.append(auditioner.took)
            hits += auditioner.hits
            players = [gr.skip()] * len(protocol.VOICES)
            players[len(takes) - 1] = playable(takes[-1])
            note = f"{len(takes)}/{len(protocol.VOICES)} voices ({hits} from the cache)"
            yield (*players, gr.skip(), note)
        order = ", ".join(protocol.VOICES)
        yield (
            *[gr.skip()] * len(protocol.VOICES),
            (protocol.SAMPLE_RATE, one_after_another(takes)),
            f"All {len(protocol.VOICES)}, one after another: {order} ({hits} from the cache).",
        )

    async def use_key(key: str, request: gr.Request):
        key = (key or "").strip()
        app.seen(request.session_hash)
        if not key:
            app.use_key(request.session_hash, None)
            return "", "Using the house setting again."
        if len(key) > KEY_LIMIT or not key.isascii() or not key.isprintable() or " " in key:
            return "", "That does not look like an OpenAI API key: nothing was kept."
        app.use_key(request.session_hash, key)
        await app.club.hang_up(request.session_hash, "Switching to your key")
        return "", "Your key is kept for this tab only. Start the set to go live."

    async def hang_up(request: gr.Request):
        await app.leave(request.session_hash)

    # Called from the engine's JavaScript (`server.engine_token()`); Gradio hands a server function
    # the raw request, whose JSON body names the visitor's session.
    async def engine_token(_args, request: gr.Request) -> str:
        visitor = await _session_of(request)
        app.seen(visitor)
        return app.engine.mint(visitor)

    async def engine_report(report, request: gr.Request) -> None:
        # The player's reports when speech comes over Gradio's event stream (the fallback).
        comedy_set = app.club.get(await _session_of(request))
        if comedy_set is not None:
            take_report(comedy_set, report)

    async def stop_talking_now(_args, request: gr.Request) -> None:
        await app.stop_talking(await _session_of(request))

    with gr.Blocks(title="AI Stand-up Comedian") as demo:
        gr.Markdown(
            "# 🎤 AI Stand-up Comedian\nPick a voice and a style, then talk to the comedian "
            "or give it a topic. Heckling is allowed: talk over it and it stops to answer you."
        )
        gr.Markdown(app.mode_banner, elem_id="mode-banner")
        with gr.Row():
            voice = gr.Dropdown(list(protocol.VOICES), value=protocol.DEFAULT_VOICE, label="Voice")
            style = gr.Dropdown(list(prompts.STYLES), value="witty", label="Comedy style")
            reaction = gr.Dropdown(
                list(prompts.REACTIONS),
                value="laughing",
                label="Audience reaction",
                info="auto: the room reader listens after each punchline and decides",
            )
            model = gr.Dropdown(
                models.choices(also=app.settings.model),
                value=app.settings.model,
                label="Model",
                info="Retiring models show their shutdown date and leave the list on that day.",
            )
        with gr.Tab("The set"):
            with gr.Row():
                topic = gr.Textbox(label="Topic", placeholder="airports, cats, computers…", scale=4)
                tell_button = gr.Button("Tell a joke", variant="primary", scale=1, elem_id="tell-joke")
            with gr.Row():
                with gr.Column():
                    engine_page.component(engine_token, stop_talking_now, engine_report)
                    speech_channel = engine_page.channel()
                    mode = gr.Radio(
                        [HANDS_FREE, PUSH_TO_TALK],
                        value=HANDS_FREE,
                        label="Microphone",
                        info="Hands-free: the comedian answers when you pause. "
                        "Push-to-talk: it answers when you switch the microphone off. Headphones avoid echo.",
                    )
                with gr.Column():
                    with gr.Row():
                        start_button = gr.Button("Start the set", variant="primary", elem_id="start-set")
                        end_button = gr.Button("End the set", variant="stop")
                    with gr.Accordion(
                        "Sound without the engine (Gradio's own audio)", open=False, elem_id="fallback"
                    ):
                        gr.Markdown(
                            "For a network that blocks the engine's WebSocket (the page switches by "
                            "itself): the comedian over Gradio's own event stream into the same player, "
                            "and Gradio's streamed microphone. Gradio's streamed audio player is slower "
                            "still: about 0.4-1.2 s before you hear the comedian."
                        )
                        fallback_button = gr.Button("Use Gradio's audio", elem_id="fallback-audio")
                        mic = gr.Audio(sources=["microphone"], streaming=True, label="Your microphone")
                        hls_button = gr.Button("Play through Gradio's streamed audio player")
                        speaker_out = gr.Audio(
                            streaming=True,
                            autoplay=True,
                            interactive=False,
                            label="The comedian",
                            elem_id="speaker",
                        )
            with gr.Row():
                transcript = gr.Chatbot(label="Transcript", height=320, elem_id="transcript", scale=3)
                with gr.Column(scale=2):
                    laugh_meter = gr.Label(
                        label="Laugh meter (the room after the punchline)", elem_id="laugh-meter"
                    )
                    latency_plot = gr.LinePlot(
                        x="joke",
                        y="latency (ms)",
                        label="Latency per joke",
                        height=180,
                        elem_id="latency-plot",
                    )
            status = gr.Markdown(
                "Not started. Press **Start the set**, record, or tell a joke.", elem_id="status"
            )
            figures = gr.Markdown("", elem_id="meters")
            with gr.Row():
                save_button = gr.Button("Save the set (WAV + transcript)")
                recording = gr.File(label="The set so far", elem_id="recording")
        with gr.Tab("Voice audition"):
            gr.Markdown(
                "Hear every voice say the same line in the chosen style. Takes are cached, so "
                "a repeat plays at once and costs nothing."
            )
            with gr.Row():
                line = gr.Textbox(DEFAULT_LINE, label="Line", scale=4)
                audition_voice = gr.Dropdown(list(protocol.VOICES), value="cedar", label="One voice")
            with gr.Row():
                one_button = gr.Button("Audition this voice")
                all_button = gr.Button("Audition all ten, one after another", variant="primary")
            now_playing = gr.Audio(
                label="Now playing",
                autoplay=True,
                interactive=False,
                type="filepath",
                elem_id="audition-player",
            )
            audition_status = gr.Markdown("", elem_id="audition-status")
            players = []
            for row in (protocol.VOICES[:5], protocol.VOICES[5:]):
                with gr.Row():
                    players += [gr.Audio(label=v, interactive=False) for v in row]
        with gr.Accordion("Use your own OpenAI key", open=False, visible=app.settings.rehearsal):
            key_box = gr.Textbox(
                label="OpenAI API key",
                type="password",
                placeholder="sk-… (kept for this tab only, never shown or stored)",
            )
            key_button = gr.Button("Use my key")
        barges = gr.Number(0, visible=False)

        choices = [voice, style, reaction, model, mode]
        gr.on(
            [start_button.click, mic.start_recording],
            start,
            choices,
            status,
            concurrency_limit=None,
            api_name="start",
        )
        fallback_button.click(
            speech_events,
            None,
            speech_channel,
            concurrency_limit=None,
            api_name="speech_events",
            show_progress="hidden",
        )
        hls_button.click(speaker, None, speaker_out, concurrency_limit=None, api_name="speaker")
        # A long-running Space outlives a shutdown date: each page load lists the models of that day.
        demo.load(
            lambda: gr.Dropdown(choices=models.choices(also=app.settings.model)),
            None,
            model,
            api_visibility="private",
        )
        gr.on(
            [tell_button.click, topic.submit],
            tell,
            [topic, *choices],
            status,
            concurrency_limit=None,
            api_name="tell",
        )
        gr.on(
            [c.change for c in choices],
            change,
            [topic, *choices],
            status,
            concurrency_limit=None,
            api_name="change",
        )
        mic.stream(
            hear, [mic], None, stream_every=0.1, time_limit=None, concurrency_limit=None, api_name="hear"
        )
        mic.stop_recording(stop_talking, None, None, concurrency_limit=None, api_name="stop_talking")
        end_button.click(end, None, status, concurrency_limit=None, api_name="end")
        demo.load(
            updates,
            None,
            [transcript, status, figures, latency_plot, laugh_meter, barges],
            concurrency_limit=None,
            api_name="updates",
            api_visibility="private",
            show_progress="hidden",
        )
        barges.change(None, None, None, js=FLUSH_JS)
        save_button.click(
            save,
            None,
            recording,
            api_name="save",
            concurrency_limit=app.settings.saves_at_once,
            concurrency_id="save",
        )
        audition_outputs = [*players, now_playing, audition_status]
        one_button.click(
            audition_one,
            [audition_voice, style, line, model],
            audition_outputs,
            concurrency_limit=None,
            api_name="audition_one",
        )
        all_button.click(
            audition_all,
            [style, line, model],
            audition_outputs,
            concurrency_limit=None,
            api_name="audition_all",
        )
        key_button.click(use_key, key_box, [key_box, status], api_visibility="private")
        demo.unload(hang_up)
    return demo


def launch_options(app: ClubApp) -> dict:
    """What `demo.launch` needs for this app.

    Gradio's queue runs at most `max_threads` jobs at once, long-lived ones included, and every
    visitor holds two for the whole set (the speaker stream and the microphone stream): the
    default of 40 would turn the 21st visitor away in silence. Uploaded files older than
    `COMEDY_KEEP_FILES_SECONDS` are deleted. Gradio keeps a copy of the page's config for every
    session it has seen (about 0.1-0.2 MB each, 10,000 sessions by default): the club keeps the
    25 sessions per set allowed at once that were used last, which bounds memory on a busy Space.
    """
    return {
        "css": CSS,
        "max_threads": max(40, 3 * app.settings.max_sets + 20),
        # Every microphone chunk arrives as an uploaded file: without a sweep the disk fills up.
        "app_kwargs": {
            "lifespan": app.lifespan(),
            "routes": [app.engine.route()],  # the engine's WebSocket, on Gradio's own app
        },
        # Spaces turn SSR on by default; its Node proxy forwards no WebSocket upgrade.
        "ssr_mode": False,
        "max_file_size": round(app.settings.max_upload_mb * 1024 * 1024),
        "state_session_capacity": session_capacity(app.settings.max_sets),
    }


async def _session_of(request) -> str:
    """The Gradio session a server function was called from (its JSON body says)."""
    body = await request.json()
    return str(body["session_hash"])


def session_capacity(max_sets: int) -> int:
    """Sessions whose page state Gradio keeps: every open tab, with room for many that closed."""
    return max(50, 25 * max_sets)


def configure(environ: dict[str, str] | None = None) -> ClubApp:
    """The app from its settings: the rehearsal server when there is no key.

    The key is then taken out of the process environment: it lives in the settings alone, and no
    child process (Gradio's ffmpeg) inherits it.
    """
    settings = Settings.from_env(environ)
    for name in ("OPENAI_API_KEY",):
        os.environ.pop(name, None)
    rehearsal = None
    if settings.rehearsal:
        rehearsal = RehearsalThread().start()
        log.info("Rehearsal mode: no OPENAI_API_KEY, the house comedian is on %s", rehearsal.url)
    return ClubApp(settings, rehearsal)


def main() -> None:
    """`python app.py`: rehearsal mode with no key, OpenAI with one."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = configure()
    demo = build(app)
    demo.queue(default_concurrency_limit=None)
    demo.launch(**launch_options(app))  # Gradio itself honours GRADIO_SERVER_NAME and GRADIO_SERVER_PORT


if __name__ == "__main__":
    main()
