"""The house comedian: picks a line from the joke book by topic words, style and audience reaction,
never a joke told tonight, and calls back to tonight's earlier topics and heckles (read from the
"Tonight so far" record its instructions carry, as the live comedian is asked to)."""

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


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_TONIGHT_LINES = {
    "topics": "- Earlier topics: ",
    "heckles": "- Heckles, in the heckler's words: ",
    "name": "- The visitor's name, as they gave it: ",
    "jokes": "- Jokes told, oldest first",
}


@dataclass(frozen=True)
class Tonight:
    """What the comedian's instructions say of tonight: earlier topics, heckles, the visitor's name
    and the openings of the jokes told (`comedy.stage.tonight` writes them, quoted)."""

    topics: tuple[str, ...] = ()
    heckles: tuple[str, ...] = ()
    name: str = ""
    jokes: tuple[str, ...] = ()

    def told(self, book: JokeBook) -> frozenset[str]:
        """The book's jokes whose openings the record holds (told in an earlier session too)."""
        openings = [j.rstrip("…").strip() for j in self.jokes if j.strip()]
        return frozenset(j.text for j in book.jokes if any(j.text.startswith(o) for o in openings))


def read_tonight(instructions: str) -> Tonight:
    """Tonight's record out of the instructions (an empty one where there is none)."""
    found: dict[str, list[str]] = {}
    for line in instructions.splitlines():
        for name, start in _TONIGHT_LINES.items():
            if line.startswith(start):
                quoted = _QUOTED.findall(line[len(start) :] if name != "jokes" else line.split(":", 1)[-1])
                with contextlib.suppress(ValueError):
                    found[name] = [str(json.loads(q)) for q in quoted]
    return Tonight(
        tuple(found.get("topics", ())),
        tuple(found.get("heckles", ())),
        (found.get("name") or [""])[0],
        tuple(found.get("jokes", ())),
    )


def callback(
    book: JokeBook,
    tonight: Tonight,
    topic: str,
    said: str,
    rng: random.Random,
    answering_heckle: bool = False,
) -> str:
    """A line that calls back to tonight: the latest heckle not yet called back (not the one being
    answered now), else the first earlier topic not called back (nor the topic now), else the
    visitor's name once; empty when there is nothing to call back."""
    heckles = tonight.heckles[:-1] if answering_heckle else tonight.heckles
    said = said.lower()

    def called(kind: str, **value: str) -> bool:  # a callback of this kind said already with it
        return any(line.format(**value).lower() in said for line in book.callbacks.get(kind, ()))

    for heckle in reversed(heckles):
        if book.callbacks.get("heckle") and not called("heckle", heckle=f'"{heckle}"'):
            return rng.choice(book.callbacks["heckle"]).format(heckle=f'"{heckle}"')
    for earlier in tonight.topics:
        if earlier != topic and book.callbacks.get("topic") and not called("topic", topic=earlier):
            return rng.choice(book.callbacks["topic"]).format(topic=earlier)
    if tonight.name and book.callbacks.get("name") and not called("name", name=tonight.name):
        return rng.choice(book.callbacks["name"]).format(name=tonight.name)
    return ""
