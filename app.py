"""The comedy club: a Gradio Blocks UI over `comedy.club`. No protocol code lives here."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import gradio as gr
import pandas as pd

from comedy import audio, engine_page, models, pricing, prompts, protocol
from comedy.audition import DEFAULT_LINE, Audition, one_after_another
from comedy.club import Club, ClubFull, ComedySet, DailySpend, Endpoint, Limits
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
        self.spend_today = DailySpend()
        self.downloads = Path(tempfile.mkdtemp(prefix="comedy-sets-"))
        self.engine = Engine(self.club)
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

    def open_set(self, visitor: str, set_up: prompts.SetUp, model: str, mode: str) -> ComedySet:
        """The visitor's set, opened with these choices if they have none."""
        day_limit = self.settings.max_day_usd
        if day_limit and self.spend_today.total >= day_limit and self.club.get(visitor) is None:
            raise ClubFull("The club reached today's spend limit. Come back tomorrow!")
        return self.club.open(
            visitor,
            lambda: ComedySet(
                self.endpoint(visitor, model),
                set_up,
                hands_free=mode == HANDS_FREE,
                max_seconds=self.settings.max_set_seconds,
                prices=pricing.prices_for(model, self.prices),
                limits=Limits(
                    self.settings.idle_seconds,
                    self.settings.max_set_usd,
                    self.settings.max_day_usd,
                    self.spend_today,
                ),
            ),
        )

    def audition(self, visitor: str, model: str) -> Audition:
        """Auditions through the visitor's endpoint; takes are cached per endpoint and model."""
        endpoint = self.endpoint(visitor, model)
        where = "rehearsal" if endpoint.rehearsal else endpoint.url
        return Audition(endpoint.url, endpoint.key, model, where)

    def _download(self, visitor: str) -> Path:
        return self.downloads / f"comedy-set-{visitor[:8]}.zip"

    def save_set(self, visitor: str) -> Path | None:
        """Write the visitor's set (open or just ended) as a zip to download."""
        comedy_set = self.club.sets.get(visitor) or self.club.ended.get(visitor)
        if comedy_set is None:
            return None
        path = self._download(visitor)
        path.write_bytes(comedy_set.archive())
        return path

    async def stop_talking(self, visitor: str) -> None:
        """The visitor released push-to-talk (Gradio's microphone or the engine's switch)."""
        comedy_set = self.club.get(visitor)
        if comedy_set is not None:
            await comedy_set.stop_talking()

    def forget(self, visitor: str) -> None:
        """Drop what the app kept for a visitor whose tab closed: their key and their download."""
        self.visitor_keys.pop(visitor, None)
        self._download(visitor).unlink(missing_ok=True)

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
        return prompts.SetUp(voice=voice, style=style, reaction=reaction, topic=topic.strip())

    async def start(voice, style, reaction, model, mode, request: gr.Request):
        try:
            comedy_set = app.open_set(request.session_hash, set_up_of(voice, style, reaction), model, mode)
            await comedy_set.start()
            return comedy_set.status_line()
        except (ClubFull, RealtimeError) as exc:
            gr.Warning(str(exc))
            return str(exc)

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
        try:
            comedy_set = app.open_set(
                request.session_hash, set_up_of(voice, style, reaction, topic), model, mode
            )
            await comedy_set.tell(topic)
            return comedy_set.status_line()
        except (ClubFull, RealtimeError) as exc:
            gr.Warning(str(exc))
            return f"Not connected: {exc}"

    async def change(topic, voice, style, reaction, model, mode, request: gr.Request):
        comedy_set = app.club.get(request.session_hash)
        if comedy_set is None:
            return gr.skip()
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

    def save(request: gr.Request):
        path = app.save_set(request.session_hash)
        if path is None:
            gr.Warning("Start a set first: there is nothing to save yet.")
            return None
        return str(path)

    async def audition_one(voice, style, line, model, request: gr.Request):
        try:
            auditioner = app.audition(request.session_hash, model)
            take = await auditioner.take(voice, style, line or DEFAULT_LINE)
        except RealtimeError as exc:
            gr.Warning(str(exc))
            return (gr.skip(),) * 11 + (str(exc),)
        heard = playable(take)
        players = [heard if v == voice else gr.skip() for v in protocol.VOICES]
        return (*players, heard, f"{voice}: ready ({'from the cache' if auditioner.hits else 'new take'}).")

    async def audition_all(style, line, model, request: gr.Request):
        auditioner = app.audition(request.session_hash, model)
        takes: list[Path] = []
        for voice in protocol.VOICES:
            try:
                takes.append(await auditioner.take(voice, style, line or DEFAULT_LINE))
            except RealtimeError as exc:
                yield (gr.skip(),) * 11 + (f"{voice}: {exc}",)
                return
            players = [gr.skip()] * len(protocol.VOICES)
            players[len(takes) - 1] = playable(takes[-1])
            note = f"{len(takes)}/{len(protocol.VOICES)} voices ({auditioner.hits} from the cache)"
            yield (*players, gr.skip(), note)
        order = ", ".join(protocol.VOICES)
        yield (
            *[gr.skip()] * len(protocol.VOICES),
            (protocol.SAMPLE_RATE, one_after_another(takes)),
            f"All ten, one after another: {order} ({auditioner.hits} from the cache).",
        )

    async def use_key(key: str, request: gr.Request):
        key = (key or "").strip()
        if not key:
            app.visitor_keys.pop(request.session_hash, None)
            return "", "Using the house setting again."
        app.visitor_keys[request.session_hash] = key
        await app.club.hang_up(request.session_hash, "Switching to your key")
        return "", "Your key is kept for this tab only. Start the set to go live."

    async def hang_up(request: gr.Request):
        await app.club.hang_up(request.session_hash, "The visitor left", left=True)
        await app.engine.forget(request.session_hash)
        app.forget(request.session_hash)

    # Called from the engine's JavaScript (`server.engine_token()`); Gradio hands a server function
    # the raw request, whose JSON body names the visitor's session.
    async def engine_token(_args, request: gr.Request) -> str:
        return app.engine.mint(await _session_of(request))

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
        save_button.click(save, None, recording, api_name="save")
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
            "lifespan": keep_files_for(app.settings.keep_files_seconds),
            "routes": [app.engine.route()],  # the engine's WebSocket, on Gradio's own app
        },
        # Spaces turn SSR on by default; its Node proxy forwards no WebSocket upgrade.
        "ssr_mode": False,
        "state_session_capacity": session_capacity(app.settings.max_sets),
    }


async def _session_of(request) -> str:
    """The Gradio session a server function was called from (its JSON body says)."""
    body = await request.json()
    return str(body["session_hash"])


def session_capacity(max_sets: int) -> int:
    """Sessions whose page state Gradio keeps: every open tab, with room for many that closed."""
    return max(50, 25 * max_sets)


def main() -> None:
    """`python app.py`: rehearsal mode with no key, OpenAI with one."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    rehearsal = None
    if settings.rehearsal:
        rehearsal = RehearsalThread().start()
        log.info("Rehearsal mode: no OPENAI_API_KEY, the house comedian is on %s", rehearsal.url)
    app = ClubApp(settings, rehearsal)
    demo = build(app)
    demo.queue(default_concurrency_limit=None)
    demo.launch(**launch_options(app))  # Gradio itself honours GRADIO_SERVER_NAME and GRADIO_SERVER_PORT


if __name__ == "__main__":
    main()
