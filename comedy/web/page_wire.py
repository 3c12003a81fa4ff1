"""The page's wire: the `type` of every text message between the page and the server, on the
engine's socket and on the fallback over Gradio's event stream alike.

The page has the same names in `engine_page/wire.js` (`WIRE`); a test holds the two equal.
"""

from __future__ import annotations

import re
from pathlib import Path

AUDIO = "audio"  # server -> page, fallback only: base64 PCM16 (the socket sends audio as binary frames)
CUT = "cut"  # server -> page: drop everything buffered
HOLD = "hold"  # server -> page: a sound over the comedian: pause, keeping everything
RESUME = "resume"  # server -> page: go on from where the hold stopped
END = "end"  # server -> page: an item's speech is all there
WORDS = "words"  # server -> page: caption text, with the item position it arrived at
REFUSED = "refused"  # server -> page: the socket is refused, and why
PLAYED = "played"  # page -> server: how much of each item reached the output device
STARTED = "started"  # page -> server: when an item's first sample reached the output device

TO_PAGE = (AUDIO, CUT, HOLD, RESUME, END, WORDS, REFUSED)
FROM_PAGE = (PLAYED, STARTED)
JS = Path(__file__).resolve().parent / "engine_page" / "wire.js"


def js_names() -> dict[str, str]:
    """The `WIRE` block of `wire.js`, as {NAME: type}."""
    block = re.search(r"const WIRE = Object\.freeze\(\{(.*?)\}\);", JS.read_text(encoding="utf-8"), re.S)
    return dict(re.findall(r'(\w+): "(\w+)"', block.group(1))) if block else {}


def python_names() -> dict[str, str]:
    """This module's names, as {NAME: type}."""
    types = {*TO_PAGE, *FROM_PAGE}
    return {name: value for name, value in globals().items() if name.isupper() and value in types}
