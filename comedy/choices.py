"""The visitor's choices on the page, declared once, in the page's order: the app builds its inputs
from these, the web layer reads the values by name, and the harness and benchmarks pick them by
name. A new choice is one line here; a choice that is not a field of `prompts.SetUp` reaches the
prompt template as a variable of its own name (`SetUp.more`), so it needs that variable too."""

from __future__ import annotations

from dataclasses import dataclass

from comedy import models, prompts, protocol

HANDS_FREE, PUSH_TO_TALK = "Hands-free", "Push-to-talk"


@dataclass(frozen=True)
class Choice:
    """One choice: its name (a `SetUp` field or a template variable), what it offers, its default."""

    name: str
    label: str
    options: tuple[str, ...]
    default: str
    info: str = ""
    radio: bool = False  # a row of buttons rather than a dropdown
    prompt: bool = True  # the comedian's (sent in the prompt) or the app's own (the model, the microphone)


CHOICES: tuple[Choice, ...] = (
    Choice("voice", "Voice", protocol.VOICES, protocol.DEFAULT_VOICE),
    Choice("style", "Comedy style", tuple(prompts.STYLES), "witty"),
    Choice(
        "reaction",
        "Audience reaction",
        tuple(prompts.REACTIONS),
        "laughing",
        "auto: the room reader listens after each punchline and decides",
    ),
    Choice(
        "edge",
        "Edge",
        tuple(prompts.EDGES),
        "club",
        "clean: family-friendly; club: a club's edge; roast: the visitor's choices get it. "
        "Always punching up.",
    ),
    Choice(
        "model",
        "Model",
        (models.DEFAULT_MODEL,),  # the day's list is the app's (`models.choices`)
        models.DEFAULT_MODEL,
        "Retiring models show their shutdown date and leave the list on that day.",
        prompt=False,
    ),
    Choice(
        "mode",
        "Microphone",
        (HANDS_FREE, PUSH_TO_TALK),
        HANDS_FREE,
        "Hands-free: the comedian answers when you pause. "
        "Push-to-talk: it answers when you switch the microphone off. Headphones avoid echo.",
        radio=True,
        prompt=False,
    ),
    Choice(
        "microphone",
        "Noise reduction",
        tuple(prompts.MICROPHONES),
        "laptop",
        "laptop: far-field (a room, laptop speakers); headset: near-field; off. Laughter and "
        "applause never cut the comedian: it rides the laugh, then tags the joke.",
        radio=True,
    ),
)
DEFAULTS = {c.name: c.default for c in CHOICES}
NOT_PROMPT = frozenset(c.name for c in CHOICES if not c.prompt)
