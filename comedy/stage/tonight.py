"""Tonight's memory: a short record of the show, read off the set's transcript, for the comedian's
instructions: the topics given, the heckles' words, a name the visitor offered, each joke's opening
words with what the room did. Pure.

Everything the audience said goes in as quoted data (cleaned to one line, bounded, in JSON double
quotes), so a heckle that says "ignore your rules" stays a heckle: it can neither close its quotes
nor start a line of its own. The whole record is bounded however long the set runs.
"""

from __future__ import annotations

import json
import re

from comedy.prompts import TONIGHT_LINES as LINES
from comedy.prompts import template
from comedy.stage.transcript import Transcript, Turn, joke_of

TOPICS_KEPT = 5  # the earlier topics remembered (the latest is the set's topic)
HECKLES_KEPT = 3
JOKES_KEPT = 10  # with the conversation, what keeps a joke from being told twice after a new session
TOPIC_CHARS = 60
HECKLE_CHARS = 80
OPENING_CHARS = 60  # a joke's opening words
NAME_CHARS = 30
MAX_CHARS = 2000  # the whole record, however long the set
NOTHING_YET = template.NO_TONIGHT
LANDED = 0.3  # a laugh this big (the laugh meter, 0..1) is a joke that landed
HECKLED_NOTES = ("heckle", "heard late")
NOT_JOKES = ("opener", "house comedian")  # lines that are not the comedian's own jokes

_TOPIC = re.compile(r"^Tell me a joke about (.+)\.$")
_NAME = re.compile(r"\b(?:my name is|my name's|call me|i'm called|i am called)\s+([a-z][a-z'-]{1,29})", re.I)
_NOT_NAMES = frozenset({"not", "just", "the", "a", "an", "very", "so", "really", "here", "back", "going"})


def _quoted(text: str, limit: int) -> str:
    return json.dumps(template.clean(text, limit), ensure_ascii=False)


def topics(transcript: Transcript) -> list[str]:
    """The topics given tonight, oldest first, each once."""
    found: list[str] = []
    for turn in transcript.lines:
        if turn.role == "user" and (match := _TOPIC.match(turn.text)) and match.group(1) not in found:
            found.append(match.group(1))
    return found


def heckles(transcript: Transcript) -> list[str]:
    """The heckles' words, oldest first."""
    return [t.text for t in transcript.lines if t.role == "user" and t.note in HECKLED_NOTES and t.text]


def name(transcript: Transcript) -> str | None:
    """The name the visitor offered last ("my name is …", "call me …"), if any."""
    offered = None
    for turn in transcript.lines:
        if turn.role == "user" and (match := _NAME.search(turn.text)):
            word = match.group(1)
            if word.lower() not in _NOT_NAMES:
                offered = word.capitalize() if word.islower() else word
    return offered


def jokes(transcript: Transcript) -> list[Turn]:
    """The comedian's own jokes told tonight, oldest first (not the opener, not a cover)."""
    return [
        t for t in transcript.lines if t.role == "assistant" and t.text and not t.note.startswith(NOT_JOKES)
    ]


def took(turn: Turn) -> str:
    """What the room did with a joke, in a few words."""
    score = turn.score
    if score is None:
        return "cut off" if "cut" in turn.note else "no reaction heard yet"
    if score.kind in ("laughter", "applause"):
        verdict = "landed" if score.laugh >= LANDED else "a small laugh"
        return f"{score.kind}, {verdict}"
    return {"speech": "the room talked over it", "noise": "a cough: it died"}.get(
        score.kind, "silence: it died"
    )


def render(transcript: Transcript) -> str:
    """Tonight so far, for the instructions: at most `MAX_CHARS`, the oldest jokes dropped first."""
    given = topics(transcript)
    lines = []
    if earlier := given[:-1][-TOPICS_KEPT:]:
        lines.append(LINES["topics"] + "; ".join(_quoted(t, TOPIC_CHARS) for t in earlier))
    if latest := given[-1:]:
        lines.append(LINES["latest"] + _quoted(latest[0], TOPIC_CHARS))
    if heard := heckles(transcript)[-HECKLES_KEPT:]:
        lines.append(LINES["heckles"] + "; ".join(_quoted(h, HECKLE_CHARS) for h in heard))
    if (offered := name(transcript)) is not None:
        lines.append(LINES["name"] + _quoted(offered, NAME_CHARS))
    told = [f"{_quoted(joke_of(t.text), OPENING_CHARS)} ({took(t)})" for t in jokes(transcript)[-JOKES_KEPT:]]
    while told:
        record = "\n".join([*lines, LINES["jokes"] + "; ".join(told)])
        if len(record) <= MAX_CHARS:
            return record
        told.pop(0)
    return "\n".join(lines) if lines else NOTHING_YET  # each line bounded: far under MAX_CHARS
