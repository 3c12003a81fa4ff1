"""The comedy club's page: a Gradio Blocks layout, its events wired to the adapter in `comedy.web.gradio_web`.

No protocol code and no handler logic live here: `comedy.web.gradio_web` adapts Gradio to the club
(`comedy.venue.front`), and the visitor's choices are declared once, as a name -> component map.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from comedy.choices import CHOICES, Choice
from comedy.config import Settings
from comedy.realtime import models
from comedy.rehearsal import RehearsalThread
from comedy.show.comedy_set import ComedySet
from comedy.web import engine_page
from comedy.web.club_app import ClubApp
from comedy.web.gradio_voices import Voices, battle_tab, wire_battle
from comedy.web.gradio_web import SHOWN, Web, choice_input, mode_banner
from comedy.web.look import BATTLE_ICON, CSS, DARK_JS, FLUSH_JS, GEAR_ICON, HEADER_JS, MIC_ICON, THEME
from comedy.web.page_view import applause_meter
from comedy.web.serving import FALLBACK, STREAMS, TAKES, long_event, session_capacity
from comedy.web.serving import launch_options as _launch_options

__all__ = ["ClubApp", "ComedySet", "build", "configure", "launch_options", "main", "session_capacity"]

log = logging.getLogger("comedy.app")
ASSETS = Path(__file__).resolve().parent / "assets"
# A club at night: dark, one warm accent (the spotlight's), large type that reads on a projector.
SHORT = {"concurrency_limit": None}  # presses: never queued behind one another, nor behind a stream


def _choice(choice: Choice, app: ClubApp) -> gr.components.Component:
    """The page's input for a choice (`comedy.choices`), named `choice-NAME` on the page."""
    options, value = choice.shown(), choice.default
    if choice.name == "model":  # the day's models, with the owner's
        options, value = models.choices(also=app.settings.model), app.settings.model
    kind = gr.Radio if choice.radio else gr.Dropdown
    info = choice.info or None
    return choice_input(
        kind(options, value=value, label=choice.label, info=info, elem_id=f"choice-{choice.name}")
    )


def _choices(app: ClubApp, names: tuple[str, ...] | None = None) -> dict[str, gr.components.Component]:
    """The visitor's choices as the settings show them (`names`: these only; None: those not
    placed elsewhere). Adding one is a line in `comedy.choices` (and its variable in the template)."""
    placed = {"model", "mode", "microphone"}
    return {
        c.name: _choice(c, app)
        for c in CHOICES
        if (c.name in names if names is not None else c.name not in placed)
    }


def _header(app: ClubApp) -> gr.HTML:
    """The thin header: the wordmark, the mode pill, the battle view and the settings."""
    pill = (
        '<span class="pill" title="No OpenAI key is set: the house comedian performs offline. '
        'Add your own key in the settings to go live.">'
        'Rehearsal<span class="more"> · offline voice</span></span>'
        if app.settings.rehearsal
        else '<span class="pill live">Live · OpenAI</span>'
    )
    return gr.HTML(
        f'<div class="house-header"><span class="wordmark">{MIC_ICON}AI Stand-up</span>{pill}'
        '<span class="spacer"></span>'
        f'<button type="button" class="battle-toggle" aria-label="Voice battle">{BATTLE_ICON}'
        '<span class="what">Battle</span></button>'
        f'<button type="button" class="settings-toggle" aria-label="Settings">{GEAR_ICON}</button></div>',
        js_on_load=HEADER_JS,
        elem_id="header",
    )


def _fallback() -> SimpleNamespace:
    with gr.Accordion("Sound without the engine", open=False, elem_id="fallback"):
        gr.Markdown(
            "For a network that blocks the engine's WebSocket (the page switches by itself): the "
            "comedian over Gradio's own event stream into the same player, and Gradio's streamed "
            "microphone. Gradio's streamed audio player is slower still."
        )
        return SimpleNamespace(
            button=gr.Button("Use Gradio's audio", elem_id="fallback-audio"),
            mic=gr.Audio(sources=["microphone"], streaming=True, label="Your microphone"),
            hls_button=gr.Button("Play through Gradio's streamed audio player"),
            speaker=gr.Audio(
                streaming=True, autoplay=True, interactive=False, label="The comedian", elem_id="speaker"
            ),
        )


def _show(web: Web) -> SimpleNamespace:
    """The first screen: the show (stage, one button, topics) and the transcript beside it."""
    page = SimpleNamespace()
    with gr.Row(elem_id="show-row", equal_height=False):
        with gr.Column(scale=2, min_width=320):
            page.show = engine_page.component(*web.server_functions())
            page.news = engine_page.news()
            page.channel = engine_page.channel()
            page.chip = gr.HTML("", elem_id="filter-chip")
        with gr.Column(scale=1, min_width=280, elem_id="rail"):
            page.transcript = gr.Chatbot(
                label="Transcript",
                height=420,
                elem_id="transcript",
                buttons=[],
                placeholder="Words appear here as you hear them.",
            )
    # For the API (`/tell`) and the tests: a topic, never shown.
    page.topic = gr.Textbox(visible=False, label="Topic")
    return page


def _settings(app: ClubApp, choices: dict, page: SimpleNamespace) -> SimpleNamespace:
    """The settings, out of sight: the comedian, the microphone, the account, and the stats."""
    box = SimpleNamespace()
    with gr.Sidebar(label="Settings", open=False, position="right", elem_id="settings"):
        gr.Markdown("### Comedian")
        choices.update(_choices(app))
        box.preview = gr.Button("Hear this voice", size="sm", elem_id="preview-voice")
        box.preview_audio = gr.Audio(
            label="Voice preview",
            autoplay=True,
            interactive=False,
            type="filepath",
            elem_id="audition-player",
        )
        box.preview_said = gr.Markdown("", elem_id="audition-status")
        gr.Markdown("### Microphone")
        choices.update(_choices(app, ("mode", "microphone")))
        gr.HTML(
            '<button type="button" class="mic-check">Check the microphone</button>'
            '<p class="mic-check-said" aria-live="polite"></p>',
            elem_id="mic-check",
        )
        with gr.Accordion("Go live: your own key, the model and cost", open=not app.settings.rehearsal):
            box.key = gr.Textbox(
                label="OpenAI API key",
                type="password",
                placeholder="sk-… (kept for this tab only, never shown or stored)",
                visible=app.settings.rehearsal,
            )
            box.key_button = gr.Button("Go live", visible=app.settings.rehearsal)
            choices.update(_choices(app, ("model",)))
            box.estimate = gr.Markdown("", elem_id="cost-estimate")
        gr.Markdown("### The show")
        box.status = gr.Markdown("Not started.", elem_id="status")
        # how the sound travels and who cancels the echo (the engine writes it)
        gr.HTML('<p class="engine-facts"></p>', elem_id="engine-facts")
        page.fallback = _fallback()
        with gr.Accordion("Stats for nerds", open=False, elem_id="stats"):
            box.figures = gr.Markdown("", elem_id="meters")
            box.laugh = gr.HTML(applause_meter(None), elem_id="laugh-meter")
            box.scores = gr.BarPlot(
                x="joke",
                y="laugh",
                label="Laugh per joke (lamps)",
                height=220,
                y_lim=[0, 10],
                elem_id="joke-scores",
            )
            box.latency = gr.BarPlot(
                x="joke", y="ms", label="Latency per joke (ms)", height=220, elem_id="latency-plot"
            )
            gr.Markdown(mode_banner(app), elem_id="mode-banner")
            box.save = gr.Button("Save the set (WAV + transcript)")
            box.recording = gr.File(label="The set so far", elem_id="recording")
    return box


def _wire_presses(web: Web, choices: dict, page: SimpleNamespace, box) -> None:
    """Start, a topic (typed or tapped), a changed choice, the end."""
    picks = list(choices.values())
    gr.on(
        [page.show.click, page.fallback.mic.start_recording],
        web.start,
        picks,
        box.status,
        api_name="start",
        **SHORT,
    )
    page.topic.submit(web.tell, [page.topic, *picks], box.status, api_name="tell", **SHORT)
    # every topic tapped goes through, even while the last one is still being asked for
    page.show.submit(
        web.tell_from_show, picks, box.status, api_visibility="private", trigger_mode="multiple", **SHORT
    )
    gr.on([c.change for c in picks], web.change, [page.topic, *picks], box.status, api_name="change", **SHORT)
    page.show.stop(web.end, None, box.status, api_name="end", **SHORT)


def _wire_fallback(web: Web, page: SimpleNamespace, sets: int) -> None:
    """Sound without the engine: speech over Gradio's event stream or its player, its microphone."""
    fallback = page.fallback
    fallback.button.click(
        web.speech_events,
        None,
        page.channel,
        api_name="speech_events",
        show_progress="hidden",
        **long_event(FALLBACK, sets),
    )
    fallback.hls_button.click(
        web.speaker, None, fallback.speaker, api_name="speaker", **long_event(FALLBACK, sets)
    )
    fallback.mic.stream(
        web.hear,
        [fallback.mic],
        None,
        stream_every=0.1,
        time_limit=None,
        api_name="hear",
        **long_event(FALLBACK, sets),
    )
    fallback.mic.stop_recording(web.stop_talking, None, None, api_name="stop_talking", **SHORT)


def _wire_updates(web: Web, page: SimpleNamespace, box, sets: int) -> None:
    """The show's stream: transcript, status, meters and the stage's news, pushed as they change."""
    barges = gr.Number(0, visible=False)
    shown = {  # each thing `web.shown` names, to its component
        "transcript": page.transcript,
        "status": box.status,
        "figures": box.figures,
        "latency": box.latency,
        "laugh": box.laugh,
        "scores": box.scores,
        "chip": page.chip,
        "barges": barges,
        "show": page.news,
    }
    # The show's stream opens with the press that starts a set (a newer one replaces it): a page
    # with no show holds no slot of the queue.
    gr.on(
        [page.show.click, page.show.submit, page.fallback.mic.start_recording],
        web.updates,
        None,
        [shown[name] for name in SHOWN],
        api_name="updates",
        api_visibility="private",
        show_progress="hidden",
        trigger_mode="multiple",
        **long_event(STREAMS, sets),
    )
    barges.change(None, None, None, js=FLUSH_JS)


def _wire_box(demo: gr.Blocks, web: Web, voices: Voices, app: ClubApp, choices: dict, box) -> None:
    """The settings' own events: the day's models, the download, a voice's preview."""
    # A long-running Space outlives a shutdown date: each page load lists the models of that day.
    demo.load(
        lambda: gr.Dropdown(choices=models.choices(also=app.settings.model)),
        None,
        choices["model"],
        api_visibility="private",
    )
    box.save.click(
        web.save,
        None,
        box.recording,
        api_name="save",
        concurrency_limit=app.settings.saves_at_once,
        concurrency_id="save",
    )
    preview_in = [choices["voice"], choices["style"], choices["model"]]
    box.preview.click(
        voices.audition_one,
        preview_in,
        [box.preview_audio, box.preview_said],
        api_name="audition_one",
        **long_event(TAKES, app.settings.max_sets),
    )


def _wire_set(demo: gr.Blocks, web: Web, app: ClubApp, choices: dict, page: SimpleNamespace, box) -> None:
    _wire_presses(web, choices, page, box)
    _wire_fallback(web, page, app.settings.max_sets)
    _wire_updates(web, page, box, app.settings.max_sets)
    _wire_box(demo, web, Voices(app), app, choices, box)


def build(app: ClubApp) -> gr.Blocks:
    """The Blocks UI, wired to `app` through the Gradio adapter."""
    web = Web(app)
    with gr.Blocks(title="AI Stand-up Comedian") as demo:
        _header(app)
        page = _show(web)
        battle = battle_tab()
        choices: dict = {}
        box = _settings(app, choices, page)
        choices = {c.name: choices[c.name] for c in CHOICES}  # in the declared order, for every event
        web.choices = tuple(choices)
        _wire_set(demo, web, app, choices, page, box)
        wire_battle(demo, Voices(app), choices, battle)
        gr.on(
            [demo.load, choices["model"].change],
            web.estimate,
            choices["model"],
            box.estimate,
            api_visibility="private",
        )
        box.key_button.click(web.use_key, box.key, [box.key, box.status], api_visibility="private")
        demo.unload(web.hang_up)
    return demo


def launch_options(app: ClubApp) -> dict:
    """What `demo.launch` needs for this app (see `comedy.web.serving.launch_options`): and the club's
    look, its favicon and its title."""
    return {
        **_launch_options(app, CSS),
        "footer_links": [],  # no API or settings footer: the page is the show
        "theme": THEME,
        "js": DARK_JS,
        "favicon_path": str(ASSETS / "favicon.png"),
    }


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
    # Gradio itself honours GRADIO_SERVER_NAME and GRADIO_SERVER_PORT
    demo.launch(prevent_thread_lock=True, **launch_options(app))
    app.engine.tighten(demo.server)
    demo.block_thread()


if __name__ == "__main__":
    main()
