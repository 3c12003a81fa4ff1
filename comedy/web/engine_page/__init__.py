"""The page's audio engine as a Gradio 6 component: a `gr.HTML` with its JavaScript and worklets.

The JavaScript, one file per concern (`PARTS`; the wire's message types in `wire.js`, the pure
functions of what it shows in `shows.js`), the socket's Worker (`socket_worker.js`) and the
AudioWorklet processors (`worklets.js`) live beside this file; the socket's server side is
`comedy.web.engine`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import gradio as gr

HERE = Path(__file__).resolve().parent


@cache
def _read(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


# The engine's parts, by concern, in the order they are inlined (each reads the ones before it).
PARTS = (
    "state.js",  # the engine's state object and its status line
    "levels.js",  # the meters and the spotlight
    "captions.js",  # the caption line, in step with what was heard
    "player.js",  # the player worklet's reports
    "connection.js",  # the socket: token, news, reconnecting, reports back
    "fallback.js",  # Gradio's own event stream when the socket cannot open
    "capture.js",  # the microphone and its echo path
    "check.js",  # the microphone check
    "engine.js",  # the start and the test hooks
    "show.js",  # the show: its button, topics, state, lamps and scorecard
)


def script() -> str:
    """The engine's parts after the wire's names (`wire.js`) and what it shows (`shows.js`: pure
    functions), with the worklets' and the socket worker's source inlined (they load from Blob
    URLs: no extra route)."""
    body = "".join(_read(part) for part in PARTS)
    return (
        _read("wire.js")
        + _read("shows.js")
        + body.replace("__WORKLETS__", json.dumps(_read("worklets.js"))).replace(
            "__SOCKET_WORKER__", json.dumps(_read("wire.js") + _read("socket_worker.js"))
        )
    )


def channel() -> gr.HTML:
    """Where speech arrives by Gradio's own event stream when the engine's socket cannot open: each
    new value goes straight to the engine's player."""
    return gr.HTML(
        value="",
        html_template="",
        js_on_load="watch('value', () => window.__engine && window.__engine.fromGradio(props.value));",
        elem_id="speech-channel",
    )


def news() -> gr.HTML:
    """Where the show's news arrives (its state, lamps, scorecard: `comedy.web.page_view.show_news`),
    pushed by the page's update stream: each new value goes straight to the show."""
    return gr.HTML(
        value="",
        html_template="",
        js_on_load="watch('value', () => window.__engine?.news && window.__engine.news(props.value));",
        elem_id="show-news",
    )


def component(*server_functions: Callable) -> gr.HTML:
    """The show: the stage with its state, captions and lamps, the one button, the microphone's
    mute, the topic field and chips, and the scorecard at the end."""
    return gr.HTML(
        html_template=_read("engine.html"),
        css_template=_read("engine.css"),
        js_on_load=script(),
        server_functions=list(server_functions),
        elem_id="engine",
    )
