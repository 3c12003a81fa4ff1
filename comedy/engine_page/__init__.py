"""The page's audio engine as a Gradio 6 component: a `gr.HTML` with its JavaScript and worklets.

The JavaScript (`engine.js`; the wire's message types in `wire.js`, the pure functions of what it
shows in `shows.js`), the socket's Worker (`socket_worker.js`) and the AudioWorklet processors
(`worklets.js`) live beside this file; the server side of the socket is `comedy.engine`.
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


def script() -> str:
    """`engine.js` after the wire's names (`wire.js`) and what it shows (`shows.js`: pure
    functions), with the worklets' and the socket worker's source inlined (they load from Blob
    URLs: no extra route)."""
    return (
        _read("wire.js")
        + _read("shows.js")
        + (
            _read("engine.js")
            .replace("__WORKLETS__", json.dumps(_read("worklets.js")))
            .replace("__SOCKET_WORKER__", json.dumps(_read("wire.js") + _read("socket_worker.js")))
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


def component(*server_functions: Callable) -> gr.HTML:
    """The engine's panel: start button, microphone switch, levels, and the path it is on."""
    return gr.HTML(
        html_template=_read("engine.html"),
        css_template=_read("engine.css"),
        js_on_load=script(),
        server_functions=list(server_functions),
        elem_id="engine",
    )
