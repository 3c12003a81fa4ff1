"""The page's wire: one vocabulary of message types, the same in Python and in the page."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from comedy.show.speech_port import Cut
from comedy.stage.actions import Caption, EndOfAnswer, Play
from comedy.web import page_wire
from comedy.web.engine import speech_message
from comedy.web.engine_page import script


def test_the_page_and_the_server_name_the_same_message_types() -> None:
    assert page_wire.js_names() == page_wire.python_names()
    assert set(page_wire.python_names().values()) == {*page_wire.TO_PAGE, *page_wire.FROM_PAGE}


def test_the_page_script_and_its_socket_worker_carry_the_names() -> None:
    page = script()
    assert page.startswith(page_wire.JS.read_text(encoding="utf-8"))
    assert page.count("const WIRE = Object.freeze(") == 2  # the page's own, and the worker's (inlined)


def test_every_fallback_message_has_a_type_from_the_wire() -> None:
    pieces = [
        Play("item_1", np.arange(480, dtype=np.int16)),
        Caption("item_1", "Good evening", 480),
        Cut(),
        EndOfAnswer("item_1"),
    ]
    messages = [json.loads(speech_message(piece)) for piece in pieces]
    assert [m["type"] for m in messages] == [page_wire.AUDIO, page_wire.WORDS, page_wire.CUT, page_wire.END]
    assert all("kind" not in m for m in messages)


def test_the_engines_parts_make_one_script_node_can_parse(tmp_path) -> None:
    """The parts share one scope once inlined: a name declared twice, or a part cut mid-statement,
    is a syntax error the page would only show in its console."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the README's test command installs it)")
    body = tmp_path / "engine.js"
    body.write_text(f"function onLoad(element, server, props, watch) {{\n{script()}\n}}\n", encoding="utf-8")
    checked = subprocess.run([node, "--check", str(body)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
