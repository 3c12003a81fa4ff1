"""The house comedian's joke book: picks a line by topic words, style and audience reaction, never a
joke told tonight; and the callbacks that turn tonight's topics and heckles into a line."""

from __future__ import annotations

import contextlib
import json
import random
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

JOKE_BOOK = Path(__file__).resolve().parents[2] / "assets" / "jokes.json"
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Joke:
    """One joke from the book."""

    style: str
    topics: frozenset[str]
    text: str


@dataclass(frozen=True)
class JokeBook:
    """The bundled jokes and the openers that answer an audience reaction."""

    jokes: tuple[Joke, ...]
    openers: dict[str, tuple[str, ...]]
    callbacks: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def pick(
        self,
        request: str = "",
        style: str = "",
        reaction: str = "",
        told: frozenset[str] = frozenset(),
        rng: random.Random | None = None,
    ) -> str:
        """A line for this moment: one sentence for the room, then the best-fitting untold joke.

        Topic words in the request count most, then the style; jokes already told come last.
        """
        rng = rng or random.Random()
        words = set(_WORD.findall(request.lower()))
        words |= {w.rstrip("s") for w in words}
        style = style.strip().lower()

        def score(joke: Joke) -> tuple[int, int, int, float]:
            return (
                joke.text not in told,
                len(words & joke.topics) > 0,
                joke.style == style,
                rng.random(),
            )

        joke = max(self.jokes, key=score)
        if joke.text in told:  # every joke told: no joke twice in a show, the room gets the truth
            return "That's every joke I know, so here's the truth: I'm stalling. Give me a new topic."
        # as the prompt asks: one sentence that reads the room, then the joke (the scorecard's row)
        openers = self.openers.get(reaction.strip().lower()) or self.openers.get("auto")
        opener = rng.choice(openers) + " " if openers else ""
        return opener + joke.text


@lru_cache(maxsize=4)
def load_joke_book(path: Path = JOKE_BOOK) -> JokeBook:
    """Read the joke book from `assets/jokes.json`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    jokes = tuple(
        Joke(style=j["style"], topics=frozenset(t.lower() for t in j["topics"]), text=j["text"])
        for j in data["jokes"]
    )
    openers = {k: tuple(v) for k, v in data.get("openers", {}).items()}
    callbacks = {k: tuple(v) for k, v in data.get("callbacks", {}).items()}
    return JokeBook(jokes=jokes, openers=openers, callbacks=callbacks)


_INSTRUCTION_FIELDS = {
    "comedy_style": re.compile(r"comedy style:\s*([^.\n]+)", re.IGNORECASE),
    "audience_reaction": re.compile(r"audience reaction:\s*([^.\n]+)", re.IGNORECASE),
    # "Topic: cats." or the repo template's "Topic, in the audience's words (…): "cats""
    "topic": re.compile(r"^\W*topic\b[^:\n]*:\s*([^\n]+?)\.?\s*$", re.IGNORECASE | re.MULTILINE),
}


def _unquote(text: str) -> str:
    if text.startswith('"'):
        with contextlib.suppress(ValueError):
            return str(json.loads(text))
    return text


def read_set_up(session: dict) -> dict[str, str]:
    """What the comedian was asked for: stored-prompt variables, else lines in the instructions.

    Returns `comedy_style`, `audience_reaction` and `topic` where given.
    """
    found: dict[str, str] = {}
    prompt = session.get("prompt") or {}
    for name, value in (prompt.get("variables") or {}).items():
        text = value.get("text") if isinstance(value, dict) else value
        if isinstance(text, str):
            found[name] = text
    instructions = session.get("instructions") or ""
    for name, pattern in _INSTRUCTION_FIELDS.items():
        match = pattern.search(instructions)
        if match and name not in found:
            found[name] = _unquote(match.group(1).strip())
    return found


def cover_line(style: str, told: frozenset[str]) -> str:
    """What the house comedian says while OpenAI is away: a short bit not told yet."""
    return "While my writer reconnects, a quick one. " + load_joke_book().pick("", style, told=told)
