"""The comedy club's page: a Gradio Blocks layout, its events wired to the adapter in `comedy.web`.

No protocol code and no handler logic live here: `comedy.web` adapts Gradio to the club
(`comedy.venue`), and the visitor's choices are declared once, as a name -> component map.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from comedy import engine_page, models, protocol
from comedy.audition import DEFAULT_LINE
from comedy.choices import CHOICES, Choice
from comedy.comedy_set import ComedySet
from comedy.config import Settings
from comedy.rehearsal import RehearsalThread
from comedy.venue import ClubApp
from comedy.web import BATTLE_LINE, SHOWN, Web, applause_meter, mode_banner, session_capacity
from comedy.web import launch_options as _launch_options

__all__ = ["ClubApp", "ComedySet", "build", "configure", "launch_options", "main", "session_capacity"]

log = logging.getLogger("comedy.app")
CSS = """
#status {font-size: 0.95em; opacity: 0.9}
#mode-banner {text-align: center}
#laugh-meter .applause {padding: 10px 12px}
#laugh-meter .applause-title {font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase}
#laugh-meter .lamps {display: flex; gap: 5px; margin: 8px 0}
#laugh-meter .lamp {flex: 1; height: 20px; border-radius: 4px; background: #2a2a31}
#laugh-meter .lamp.on {background: linear-gradient(#ffd24a, #f59e0b); box-shadow: 0 0 10px #f5b301}
#filter-chip .chip {display: inline-block; padding: 2px 10px; border-radius: 999px;
  background: #7f1d1d; color: #fff; font-weight: 600}
"""
# On a heckle the server has stopped, but the browser still holds ~0.7 s: skip to its end.
FLUSH_JS = """() => { const a = document.querySelector('#speaker audio');
  if (a && a.buffered.length) a.currentTime = a.buffered.end(a.buffered.length - 1); }"""
PLAYERS_PER_ROW = 5
ASSETS = Path(__file__).resolve().parent / "assets"
# A club at night: dark, one warm accent (the spotlight's), large type that reads on a projector.
THEME = gr.themes.Default(
    primary_hue="amber",
    neutral_hue="zinc",
    font=["ui-sans-serif", "system-ui", "sans-serif"],  # no web font: the Space loads nothing from elsewhere
    font_mono=["ui-monospace", "monospace"],
).set(body_text_size="17px", block_title_text_size="16px")
DARK_JS = "() => { document.body.classList.add('dark'); }"  # the club is dark whatever the system says
LONG = {"concurrency_limit": None}  # long-lived and per-visitor events: never queued behind others


def _choice(choice: Choice, app: ClubApp) -> gr.components.Component:
    """The page's input for a choice (`comedy.choices`), named `choice-NAME` on the page."""
    options, value = list(choice.options), choice.default
    if choice.name == "model":  # the day's models, with the owner's
        options, value = models.choices(also=app.settings.model), app.settings.model
    kind = gr.Radio if choice.radio else gr.Dropdown
    info = choice.info or None
    return kind(options, value=value, label=choice.label, info=info, elem_id=f"choice-{choice.name}")


def _choices(app: ClubApp, radio: bool) -> dict[str, gr.components.Component]:
    """The visitor's choices as the page shows them: the dropdowns in the top row, the radios in
    the set's tab. Adding one is a line in `comedy.choices` (and its variable in the template)."""
    return {c.name: _choice(c, app) for c in CHOICES if c.radio == radio}


def _fallback() -> SimpleNamespace:
    with gr.Accordion("Sound without the engine (Gradio's own audio)", open=False, elem_id="fallback"):
        gr.Markdown(
            "For a network that blocks the engine's WebSocket (the page switches by itself): the "
            "comedian over Gradio's own event stream into the same player, and Gradio's streamed "
            "microphone. Gradio's streamed audio player is slower still: about 0.4-1.2 s before "
            "you hear the comedian."
        )
        return SimpleNamespace(
            button=gr.Button("Use Gradio's audio", elem_id="fallback-audio"),
            mic=gr.Audio(sources=["microphone"], streaming=True, label="Your microphone"),
            hls_button=gr.Button("Play through Gradio's streamed audio player"),
            speaker=gr.Audio(
                streaming=True, autoplay=True, interactive=False, label="The comedian", elem_id="speaker"
            ),
        )


def _set_tab(web: Web, choices: dict) -> SimpleNamespace:
    """The set: topic, the engine, the microphone mode, start/end, the fallback, transcript, meters."""
    page = SimpleNamespace()
    with gr.Row():
        page.topic = gr.Textbox(label="Topic", placeholder="airports, cats, computers…", scale=4)
        page.tell = gr.Button("Tell a joke", variant="primary", scale=1, elem_id="tell-joke")
    with gr.Row():
        with gr.Column():
            engine_page.component(*web.server_functions())
            page.channel = engine_page.channel()
            choices.update(_choices(web.app, radio=True))
        with gr.Column():
            with gr.Row():
                page.start = gr.Button("Start the set", variant="primary", elem_id="start-set")
                page.end = gr.Button("End the set", variant="stop")
            page.fallback = _fallback()
    with gr.Row():
        page.transcript = gr.Chatbot(label="Transcript", height=320, elem_id="transcript", scale=3)
        with gr.Column(scale=2):
            page.laugh = gr.HTML(applause_meter(None), elem_id="laugh-meter")
            page.scores = gr.BarPlot(
                x="joke", y="laugh", label="Laugh per joke", height=160, y_lim=[0, 1], elem_id="joke-scores"
            )
            page.latency = gr.LinePlot(
                x="joke", y="latency (ms)", label="Latency per joke", height=160, elem_id="latency-plot"
            )
    page.status = gr.Markdown(
        "Not started. Press **Start the set**, record, or tell a joke.", elem_id="status"
    )
    page.chip = gr.HTML("", elem_id="filter-chip")
    page.figures = gr.Markdown("", elem_id="meters")
    with gr.Row():
        page.save = gr.Button("Save the set (WAV + transcript)")
        page.recording = gr.File(label="The set so far", elem_id="recording")
    return page


def _audition_tab() -> SimpleNamespace:
    """Every voice says the same line; one player per voice, as many as there are voices."""
    gr.Markdown(
        "Hear every voice say the same line in the chosen style. Takes are cached, so a repeat "
        "plays at once and costs nothing."
    )
    tab = SimpleNamespace()
    with gr.Row():
        tab.line = gr.Textbox(DEFAULT_LINE, label="Line", scale=4)
        tab.voice = gr.Dropdown(list(protocol.VOICES), value="cedar", label="One voice")
    with gr.Row():
        tab.one = gr.Button("Audition this voice")
        tab.all = gr.Button(f"Audition all {len(protocol.VOICES)}, one after another", variant="primary")
    tab.now_playing = gr.Audio(
        label="Now playing", autoplay=True, interactive=False, type="filepath", elem_id="audition-player"
    )
    tab.status = gr.Markdown("", elem_id="audition-status")
    tab.players = []
    for first in range(0, len(protocol.VOICES), PLAYERS_PER_ROW):
        with gr.Row():
            row = protocol.VOICES[first : first + PLAYERS_PER_ROW]
            tab.players += [gr.Audio(label=v, interactive=False) for v in row]
    return tab


def _battle_tab() -> SimpleNamespace:
    """Two voices, the same bit, one after the other; the visitor votes; a leaderboard per style."""
    gr.Markdown(
        "Two voices do the same bit in the chosen style, one after the other. Vote for the funnier "
        "one: every visitor's votes make the leaderboard for that style (kept across restarts)."
    )
    tab = SimpleNamespace()
    with gr.Row():
        tab.first = gr.Dropdown(list(protocol.VOICES), value="marin", label="First voice")
        tab.second = gr.Dropdown(list(protocol.VOICES), value="cedar", label="Second voice")
        tab.line = gr.Textbox(BATTLE_LINE, label="The bit", scale=3)
    tab.fight = gr.Button("Battle!", variant="primary", elem_id="battle")
    tab.both = gr.Audio(label="Both, one after the other", autoplay=True, interactive=False)
    with gr.Row(equal_height=True):
        with gr.Column():
            tab.first_take = gr.Audio(label="First voice", interactive=False)
            tab.first_won = gr.Button("The first was funnier", elem_id="vote-first")
        with gr.Column():
            tab.second_take = gr.Audio(label="Second voice", interactive=False)
            tab.second_won = gr.Button("The second was funnier", elem_id="vote-second")
    tab.status = gr.Markdown("", elem_id="battle-status")
    tab.board = gr.Dataframe(label="Leaderboard for this style", interactive=False, elem_id="leaderboard")
    return tab


def _wire_battle(demo: gr.Blocks, web: Web, choices: dict, tab: SimpleNamespace) -> None:
    style, model = choices["style"], choices["model"]
    outputs = [tab.first_take, tab.second_take, tab.both, tab.status]
    inputs = [tab.first, tab.second, style, tab.line, model]
    tab.fight.click(web.battle, inputs, outputs, api_name="battle", **LONG)
    tab.first_won.click(web.vote_first, None, [tab.board, tab.status], api_name="vote_first")
    tab.second_won.click(web.vote_second, None, [tab.board, tab.status], api_name="vote_second")
    gr.on([demo.load, style.change], web.leaderboard, style, tab.board, api_visibility="private")


def _wire_set(demo: gr.Blocks, web: Web, app: ClubApp, choices: dict, page: SimpleNamespace) -> None:
    picks = list(choices.values())
    fallback = page.fallback
    gr.on(
        [page.start.click, fallback.mic.start_recording],
        web.start,
        picks,
        page.status,
        api_name="start",
        **LONG,
    )
    gr.on(
        [page.tell.click, page.topic.submit],
        web.tell,
        [page.topic, *picks],
        page.status,
        api_name="tell",
        **LONG,
    )
    gr.on([c.change for c in picks], web.change, [page.topic, *picks], page.status, api_name="change", **LONG)
    page.end.click(web.end, None, page.status, api_name="end", **LONG)
    fallback.button.click(
        web.speech_events, None, page.channel, api_name="speech_events", show_progress="hidden", **LONG
    )
    fallback.hls_button.click(web.speaker, None, fallback.speaker, api_name="speaker", **LONG)
    fallback.mic.stream(
        web.hear, [fallback.mic], None, stream_every=0.1, time_limit=None, api_name="hear", **LONG
    )
    fallback.mic.stop_recording(web.stop_talking, None, None, api_name="stop_talking", **LONG)
    # A long-running Space outlives a shutdown date: each page load lists the models of that day.
    demo.load(
        lambda: gr.Dropdown(choices=models.choices(also=app.settings.model)),
        None,
        choices["model"],
        api_visibility="private",
    )
    barges = gr.Number(0, visible=False)
    shown = {  # each thing `web.shown` names, to its component
        "transcript": page.transcript,
        "status": page.status,
        "figures": page.figures,
        "latency": page.latency,
        "laugh": page.laugh,
        "scores": page.scores,
        "chip": page.chip,
        "barges": barges,
    }
    demo.load(
        web.updates,
        None,
        [shown[name] for name in SHOWN],
        api_name="updates",
        api_visibility="private",
        show_progress="hidden",
        **LONG,
    )
    barges.change(None, None, None, js=FLUSH_JS)
    page.save.click(
        web.save,
        None,
        page.recording,
        api_name="save",
        concurrency_limit=app.settings.saves_at_once,
        concurrency_id="save",
    )


def _wire_audition(web: Web, choices: dict, tab: SimpleNamespace) -> None:
    outputs = [*tab.players, tab.now_playing, tab.status]
    style, model = choices["style"], choices["model"]
    tab.one.click(
        web.audition_one, [tab.voice, style, tab.line, model], outputs, api_name="audition_one", **LONG
    )
    tab.all.click(web.audition_all, [style, tab.line, model], outputs, api_name="audition_all", **LONG)


def build(app: ClubApp) -> gr.Blocks:
    """The Blocks UI, wired to `app` through the Gradio adapter."""
    web = Web(app)
    with gr.Blocks(title="AI Stand-up Comedian") as demo:
        gr.Markdown(
            "# 🎤 AI Stand-up Comedian\nPick a voice and a style, then talk to the comedian "
            "or give it a topic. Heckling is allowed: talk over it and it stops to answer you."
        )
        gr.Markdown(mode_banner(app), elem_id="mode-banner")
        with gr.Row():
            choices = _choices(app, radio=False)
        estimate = gr.Markdown(web.estimate(app.settings.model), elem_id="cost-estimate")
        with gr.Tab("The set"):
            page = _set_tab(web, choices)
        with gr.Tab("Voice audition"):
            audition = _audition_tab()
        with gr.Tab("Voice battle"):
            battle = _battle_tab()
        with gr.Accordion("Use your own OpenAI key", open=False, visible=app.settings.rehearsal):
            key_box = gr.Textbox(
                label="OpenAI API key",
                type="password",
                placeholder="sk-… (kept for this tab only, never shown or stored)",
            )
            key_button = gr.Button("Use my key")
        choices = {c.name: choices[c.name] for c in CHOICES}  # in the declared order, for every event
        web.choices = tuple(choices)
        _wire_set(demo, web, app, choices, page)
        _wire_audition(web, choices, audition)
        _wire_battle(demo, web, choices, battle)
        choices["model"].change(web.estimate, choices["model"], estimate, api_visibility="private")
        key_button.click(web.use_key, key_box, [key_box, page.status], api_visibility="private")
        demo.unload(web.hang_up)
    return demo


def launch_options(app: ClubApp) -> dict:
    """What `demo.launch` needs for this app (see `comedy.web.launch_options`): and the club's
    look, its favicon and its title."""
    return {
        **_launch_options(app, CSS),
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
