"""What a visitor's sound said, by its transcript: words, only laughter, or nothing to go on.

The ear decides from a sound's first few hundred milliseconds; the transcription of the whole sound
comes later and can overrule it. A sound the ear took for the room whose transcript holds words is
late speech (answer it); a sound it took for a heckle whose transcript is only laughter ("haha",
"[laughter]") was the room (the comedian picks up where it was cut). Transcribers write laughter
in many ways; a transcript that is neither (empty, or a note such as rehearsal mode's) settles nothing.
"""

from __future__ import annotations

import re
from typing import Literal

Said = Literal["words", "laughter", "unknown"]

_TAG = re.compile(r"\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|<[^>]*>")  # [laughter], (laughs), *laughs*, <laugh>
_LAUGH_TAG = re.compile(r"laugh|chuckl|giggl|applau|clap|chee|cheer", re.IGNORECASE)
_LAUGH = re.compile(r"^(?:(?:ha|he|hi|ho|ah|a)+h?|h+a+h*|lol|lmao|rofl|heh|hah|hm+|mm+|pf+t?|ugh)$")
# Said while laughing, and not a line: "ha ha, oh no" is the room reacting.
INTERJECTIONS = frozenset(
    [
        "oh",
        "ooh",
        "ohh",
        "ah",
        "aah",
        "aw",
        "aww",
        "wow",
        "whoa",
        "omg",
        "god",
        "my",
        "no",
        "nope",
        "yes",
        "yeah",
        "yay",
        "uh",
        "um",
        "er",
        "hey",
        "okay",
        "ok",
    ]
)
MIN_WORDS = 2  # words beyond laughs and interjections that make a transcript a line


def tokens(text: str) -> list[str]:
    """The transcript's words outside any bracketed note, lower case, without punctuation."""
    return re.findall(r"[a-z0-9']+", _TAG.sub(" ", text.lower()))


def said(text: object) -> Said:
    """What a transcript says the sound was."""
    if not isinstance(text, str):
        return "unknown"
    words = tokens(text)
    laughs = [w for w in words if _LAUGH.match(w)]
    rest = [w for w in words if not _LAUGH.match(w) and w not in INTERJECTIONS]
    if len(rest) >= MIN_WORDS:
        return "words"
    laughing_tags = [t for t in _TAG.findall(text) if _LAUGH_TAG.search(t)]
    if (laughs or laughing_tags) and not rest:
        return "laughter"
    return "unknown"


ECHO_SHARE = 0.6  # a transcript whose words are mostly the comedian's own is its echo


def echoes(text: str, comedian: list[str]) -> bool:
    """Whether a transcript is the comedian's own words coming back through the microphone (what
    the echo canceller left), not the visitor's: most of its words are in the comedian's lines."""
    said = [w for w in tokens(text) if not _LAUGH.match(w) and w not in INTERJECTIONS]
    if not said:
        return False
    lines = {w for line in comedian for w in tokens(line)}
    return sum(w in lines for w in said) >= ECHO_SHARE * len(said)
