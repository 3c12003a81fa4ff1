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

from comedy.choices import CHOICES, VOICE_LABELS, Choice
from comedy.config import Settings
from comedy.realtime import models, protocol
from comedy.rehearsal import RehearsalThread
from comedy.show.comedy_set import ComedySet
from comedy.venue.takes import BATTLE_LINE
from comedy.web import engine_page
from comedy.web.club_app import ClubApp
from comedy.web.gradio_web import SHOWN, Web, choice_input, mode_banner
from comedy.web.page_view import applause_meter
from comedy.web.serving import FALLBACK, STREAMS, TAKES, long_event, session_capacity
from comedy.web.serving import launch_options as _launch_options

__all__ = ["ClubApp", "ComedySet", "build", "configure", "launch_options", "main", "session_capacity"]

log = logging.getLogger("comedy.app")
CSS = """
footer {display: none !important}
#header {padding: 0}
.house-header {display: flex; align-items: center; gap: 12px; height: 48px}
.wordmark {display: flex; align-items: center; gap: 8px; font-size: 20px; font-weight: 800}
.wordmark svg {width: 26px; height: 26px}
.pill {padding: 3px 10px; border-radius: 999px; font-size: 13px; font-weight: 600;
  background: #3a3a42; color: #e8e3d6}
.pill.live {background: #f5b301; color: #17120a}
.house-header .spacer {flex: 1}
.house-header button {display: inline-flex; align-items: center; gap: 6px; min-height: 40px; padding: 0 12px;
  border-radius: 20px; border: 1px solid #4a4a55; background: transparent; color: inherit; cursor: pointer}
.house-header button svg {width: 20px; height: 20px}
#battle {display: none}
#leaderboard .standings {margin: 0; padding-left: 1.6em; font-size: 16px; line-height: 1.7}
#leaderboard .voice {font-weight: 700}
#leaderboard .character, #leaderboard .standings-empty {opacity: 0.75}
#leaderboard .record {margin-left: 6px}
#laugh-meter .applause {padding: 10px 12px}
#laugh-meter .applause-title {font-weight: 700; letter-spacing: 0.08em; text-transform: uppercase}
#laugh-meter .lamps {display: flex; gap: 5px; margin: 8px 0}
#laugh-meter .lamp {flex: 1; height: 20px; border-radius: 4px; background: #2a2a31}
#laugh-meter .lamp.on {background: linear-gradient(#ffd24a, #f59e0b); box-shadow: 0 0 10px #f5b301}
#filter-chip .chip {display: inline-block; padding: 2px 10px; border-radius: 999px;
  background: #7f1d1d; color: #fff; font-weight: 600}
.mic-check {min-height: 40px; padding: 0 14px; border-radius: 20px; border: 1px solid #4a4a55;
  background: transparent; color: inherit; cursor: pointer}
.wordmark {white-space: nowrap}
#settings:not(.open) > .toggle-button {display: none}
#show-news, #speech-channel, #filter-chip:not(:has(.chip)) {display: none !important}
.house-header button {min-height: 44px; min-width: 44px; justify-content: center}
:focus-visible {outline: 3px solid #f5b301 !important; outline-offset: 2px}
.engine-facts {margin: 0 0 8px; font-size: 14px; opacity: 0.85}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after {animation: none !important; transition: none !important;
    scroll-behavior: auto !important}
}
@media (max-width: 640px) {
  .pill .more {display: none}
  .house-header {gap: 6px}
  .wordmark {font-size: 16px; gap: 4px}
  .house-header button {padding: 0 9px}
  .battle-toggle .what {display: none}
}
"""
MIC_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="9" y="2" width="6" height="12" rx="3" '
    'fill="#f5b301"/><path d="M6 11a6 6 0 0 0 12 0M12 17v4M8 21h8" fill="none" stroke="#f5b301" '
    'stroke-width="2" stroke-linecap="round"/></svg>'
)
BATTLE_ICON = (
    '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="8.5" cy="12" r="5.5" fill="none" '
    'stroke="currentColor" stroke-width="2"/><circle cx="15.5" cy="12" r="5.5" fill="none" '
    'stroke="#f5b301" stroke-width="2"/></svg>'
)
GEAR_ICON = (  # Lucide's "settings" (ISC licence): a gear, not a sun
    '<svg viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><path d="M12.22 2h-.44a2 2 0 0 0-2 2v.18a2 2 0 0 '
    "1-1 1.73l-.43.25a2 2 0 0 1-2 0l-.15-.08a2 2 0 0 0-2.73.73l-.22.38a2 2 0 0 0 .73 2.73l.15.1a2 2 0 0 "
    "1 1 1.72v.51a2 2 0 0 1-1 1.74l-.15.09a2 2 0 0 0-.73 2.73l.22.38a2 2 0 0 0 2.73.73l.15-.08a2 2 0 0 1 "
    "2 0l.43.25a2 2 0 0 1 1 1.73V20a2 2 0 0 0 2 2h.44a2 2 0 0 0 2-2v-.18a2 2 0 0 1 1-1.73l.43-.25a2 2 0 "
    "0 1 2 0l.15.08a2 2 0 0 0 2.73-.73l.22-.39a2 2 0 0 0-.73-2.73l-.15-.08a2 2 0 0 1-1-1.74v-.5a2 2 0 0 1 "
    "1-1.74l.15-.09a2 2 0 0 0 .73-2.73l-.22-.38a2 2 0 0 0-2.73-.73l-.15.08a2 2 0 0 1-2 0l-.43-.25a2 2 0 0 "
    '1-1-1.73V4a2 2 0 0 0-2-2z"/><circle cx="12" cy="12" r="3"/></svg>'
)
# The header's buttons: the battle view (shown in place of the show), and the settings sidebar.
HEADER_JS = """
element.querySelector('.battle-toggle').addEventListener('click', () => {
  const on = document.querySelector('#battle').style.display !== 'flex';
  document.querySelector('#battle').style.display = on ? 'flex' : 'none';
  document.querySelector('#show-row').style.display = on ? 'none' : '';
  element.querySelector('.battle-toggle .what').textContent = on ? 'Back to the show' : 'Battle';
});
const gear = element.querySelector('.settings-toggle');
gear.addEventListener('click', () => {
  const toggle = document.querySelector('#settings .toggle-button')
    || document.querySelector('button[aria-label="Toggle Sidebar"]');
  if (toggle) toggle.click();
});
// A closed drawer is out of reach: Tab never walks into its controls (inert), and the gear says
// whether it is open. Escape closes it.
(function watchDrawer() {
  const drawer = document.querySelector('#settings');
  const content = drawer?.querySelector('.sidebar-content');
  if (!content) { requestAnimationFrame(watchDrawer); return; }
  const sync = () => {
    const open = drawer.classList.contains('open');
    content.inert = !open;
    gear.setAttribute('aria-expanded', String(open));
  };
  new MutationObserver(sync).observe(drawer, { attributes: true, attributeFilter: ['class'] });
  sync();
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && drawer.classList.contains('open')) {
      drawer.querySelector('.toggle-button')?.click();
      gear.focus();
    }
  });
})();
"""
# On a heckle the server has stopped, but the browser still holds ~0.7 s: skip to its end.
FLUSH_JS = """() => { const a = document.querySelector('#speaker audio');
  if (a && a.buffered.length) a.currentTime = a.buffered.end(a.buffered.length - 1); }"""
ASSETS = Path(__file__).resolve().parent / "assets"
# A club at night: dark, one warm accent (the spotlight's), large type that reads on a projector.
THEME = gr.themes.Default(
    primary_hue="amber",
    neutral_hue="zinc",
    font=["ui-sans-serif", "system-ui", "sans-serif"],  # no web font: the Space loads nothing from elsewhere
    font_mono=["ui-monospace", "monospace"],
).set(body_text_size="17px", block_title_text_size="16px")
DARK_JS = "() => { document.body.classList.add('dark'); }"  # the club is dark whatever the system says
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


def _battle() -> SimpleNamespace:
    """Two voices, the club's bit, one after the other; the visitor votes once both have played; a
    leaderboard per style."""
    tab = SimpleNamespace()
    with gr.Column(elem_id="battle"):
        gr.Markdown(
            f"## Voice battle\nTwo voices do the same bit in your style: *\u201c{BATTLE_LINE}\u201d* "
            "Listen to both, then vote for the funnier one."
        )
        with gr.Row():
            named = [(VOICE_LABELS[v], v) for v in protocol.VOICES]
            tab.first = choice_input(gr.Dropdown(named, value="marin", label="First voice"))
            tab.second = choice_input(gr.Dropdown(named, value="cedar", label="Second voice"))
        tab.fight = gr.Button("Battle", elem_id="battle-go")
        tab.both = gr.Audio(
            label="Both, one after the other", autoplay=True, interactive=False, elem_id="battle-both"
        )
        with gr.Row(equal_height=True):
            with gr.Column():
                tab.first_take = gr.Audio(label="First voice", interactive=False)
                tab.first_won = gr.Button("Marin was funnier", elem_id="vote-first", interactive=False)
            with gr.Column():
                tab.second_take = gr.Audio(label="Second voice", interactive=False)
                tab.second_won = gr.Button("Cedar was funnier", elem_id="vote-second", interactive=False)
        tab.status = gr.Markdown("", elem_id="battle-status")
        gr.Markdown("### Leaderboard for this style")
        tab.board = gr.HTML("", elem_id="leaderboard")
    return tab


def _funnier(voice: str) -> gr.Button:
    """A vote button that names its voice (closed until both voices have played)."""
    return gr.Button(f"{voice.title()} was funnier", interactive=False)


def _votes_closed() -> tuple[gr.Button, gr.Button]:
    """A new battle: no vote until both of its voices have played."""
    return gr.Button(interactive=False), gr.Button(interactive=False)


def _wire_battle(demo: gr.Blocks, web: Web, choices: dict, tab: SimpleNamespace) -> None:
    style, model = choices["style"], choices["model"]
    outputs = [tab.first_take, tab.second_take, tab.both, tab.status]
    inputs = [tab.first, tab.second, style, model]
    tab.fight.click(
        web.battle, inputs, outputs, api_name="battle", **long_event(TAKES, web.app.settings.max_sets)
    )
    votes = [tab.first_won, tab.second_won]
    tab.fight.click(_votes_closed, None, votes, api_visibility="private", queue=False)
    tab.both.stop(
        web.battle_played, None, [tab.status, *votes], api_name="battle_played", api_visibility="private"
    )
    tab.first_won.click(web.vote_first, None, [tab.board, tab.status], api_name="vote_first")
    tab.second_won.click(web.vote_second, None, [tab.board, tab.status], api_name="vote_second")
    gr.on([demo.load, style.change], web.leaderboard, style, tab.board, api_visibility="private")
    for voice, vote in ((tab.first, tab.first_won), (tab.second, tab.second_won)):  # name the voice
        voice.change(_funnier, voice, vote, api_visibility="private", queue=False)


def _wire_set(demo: gr.Blocks, web: Web, app: ClubApp, choices: dict, page: SimpleNamespace, box) -> None:
    picks = list(choices.values())
    fallback = page.fallback
    sets = app.settings.max_sets
    gr.on(
        [page.show.click, fallback.mic.start_recording],
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
        [page.show.click, page.show.submit, fallback.mic.start_recording],
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
        web.audition_one,
        preview_in,
        [box.preview_audio, box.preview_said],
        api_name="audition_one",
        **long_event(TAKES, sets),
    )


def build(app: ClubApp) -> gr.Blocks:
    """The Blocks UI, wired to `app` through the Gradio adapter."""
    web = Web(app)
    with gr.Blocks(title="AI Stand-up Comedian") as demo:
        _header(app)
        page = _show(web)
        battle = _battle()
        choices: dict = {}
        box = _settings(app, choices, page)
        choices = {c.name: choices[c.name] for c in CHOICES}  # in the declared order, for every event
        web.choices = tuple(choices)
        _wire_set(demo, web, app, choices, page, box)
        _wire_battle(demo, web, choices, battle)
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
