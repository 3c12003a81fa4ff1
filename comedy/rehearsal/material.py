"""What the rehearsal's house comedian says (a line it was told to say, else a joke for the
moment from the joke book, with a callback to tonight's record as the live comedian is asked to),
and the usage of an answer estimated as the real API reports it."""

from __future__ import annotations

import contextlib
import json
import math
import random
import re
from dataclasses import dataclass

from comedy import prompts
from comedy.house.jokes import JokeBook, load_joke_book, read_set_up
from comedy.realtime import protocol

SAY_EXACTLY = re.compile(r'Say exactly this line[^:]*:\s*"(.+)"\s*$', re.DOTALL)
AUDIO_MS_PER_TOKEN = 50  # output audio is counted at a token per 50 ms


def tokens(text: str) -> int:
    """Text tokens, at four characters a token."""
    return math.ceil(len(text) / 4) if text else 0


def choose_line(session: dict, items: list[dict], heckled: set[str], params: dict, rng: random.Random) -> str:
    """What the house comedian says: a line it was told to say, else a joke for the moment."""
    if said := SAY_EXACTLY.search(params.get("instructions") or ""):
        return said.group(1)
    asked = protocol.merge_session(
        session, {k: v for k, v in params.items() if k in ("instructions", "prompt")}
    )
    set_up = read_set_up(asked)
    tonight = read_tonight(asked.get("instructions") or "")
    request = set_up.get("topic", "")
    for item in reversed(items):
        if item.get("role") == "user":
            texts = [c.get("text") or "" for c in item.get("content", [])]
            request = " ".join(texts) + " " + request
            break
    spoken = [
        c.get("transcript") or c.get("text") or ""
        for i in items
        if i.get("role") == "assistant"
        for c in i.get("content", [])
    ]
    book = load_joke_book()
    told = frozenset(j.text for j in book.jokes if any(j.text in line for line in spoken)) | tonight.told(
        book
    )
    last_answer = next((i for i in reversed(items) if i.get("role") == "assistant"), None)
    typed = _typed_since(items, last_answer)
    answering_heckle = last_answer is not None and last_answer["id"] in heckled and not typed
    if answering_heckle:
        set_up["audience_reaction"] = "heckling"  # answer the heckle first (a typed topic is a topic)
    line = book.pick(request, set_up.get("comedy_style", ""), set_up.get("audience_reaction", ""), told, rng)
    called = callback(book, tonight, set_up.get("topic", ""), " ".join(spoken), rng, answering_heckle)
    return f"{line} {called}" if called else line


def _typed_since(items: list[dict], answer: dict | None) -> bool:
    """Whether the visitor typed a line after `answer` (a new topic that cut it is no heckle)."""
    after = items[items.index(answer) + 1 :] if answer is not None else items
    return any(
        c.get("type") == "input_text" for i in after if i.get("role") == "user" for c in i.get("content", [])
    )


def estimate_usage(
    session: dict, items: list[dict], spoken_ms: dict[str, int], text_out: int, output: list[dict]
) -> dict:
    """A usage object of the real shape, estimated from what this conversation holds."""
    answer_ids = {item["id"] for item in output}
    instructions = session.get("instructions") or ""
    context_text = instructions + " ".join(
        c.get("text") or c.get("transcript") or ""
        for i in items
        if i["id"] not in answer_ids
        for c in i.get("content", [])
    )
    audio_in_s = sum(i.get("_seconds", 0.0) for i in items)
    text_in, audio_in = tokens(context_text), round(audio_in_s * 10)
    cached_text = (text_in // 64) * 64 if text_in >= 1024 else 0
    audio_out = sum(round(spoken_ms.get(i, 0) / AUDIO_MS_PER_TOKEN) for i in answer_ids)
    return {
        "total_tokens": text_in + audio_in + text_out + audio_out,
        "input_tokens": text_in + audio_in,
        "output_tokens": text_out + audio_out,
        "input_token_details": {
            "text_tokens": text_in,
            "audio_tokens": audio_in,
            "image_tokens": 0,
            "cached_tokens": cached_text,
            "cached_tokens_details": {"text_tokens": cached_text, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


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
        for name, start in prompts.TONIGHT_LINES.items():
            if line.startswith(start):
                with contextlib.suppress(ValueError):
                    found[name] = [str(json.loads(q)) for q in _QUOTED.findall(line[len(start) :])]
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
