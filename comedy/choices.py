"""The visitor's choices on the page, declared once, in the page's order: the app builds its inputs
from these, the web layer reads the values by name, and the harness and benchmarks pick them by
name. A new choice is one line here; a choice that is not a field of `prompts.SetUp` reaches the
prompt template as a variable of its own name (`SetUp.more`), so it needs that variable too."""

from __future__ import annotations

from dataclasses import dataclass

from comedy import prompts
from comedy.realtime import models, protocol

HANDS_FREE, PUSH_TO_TALK = "Hands-free", "Push-to-talk"
# Each voice with a name and its character in a line, as the settings list them.
VOICE_CHARACTERS = {
    "alloy": "even and easy-going",
    "ash": "clear and a bit brash",
    "ballad": "theatrical, sing-song",
    "coral": "warm and friendly",
    "echo": "calm and low",
    "sage": "calm and dry",
    "shimmer": "bright and bubbly",
    "verse": "lively, a storyteller",
    "marin": "natural, the house favourite",
    "cedar": "natural and grounded",
}
VOICE_LABELS = {voice: f"{voice.title()} · {VOICE_CHARACTERS[voice]}" for voice in protocol.VOICES}


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
    labels: tuple[str, ...] = ()  # what the page shows for each option, where it is not the option

    def shown(self) -> list[tuple[str, str]]:
        """The options as the page lists them: (label, value)."""
        return list(zip(self.labels or self.options, self.options, strict=True))


CHOICES: tuple[Choice, ...] = (
    Choice(
        "voice",
        "Voice",
        protocol.VOICES,
        protocol.DEFAULT_VOICE,
        labels=tuple(VOICE_LABELS[v] for v in protocol.VOICES),
    ),
    Choice("style", "Comedy style", tuple(prompts.STYLES), "witty"),
    Choice(
        "reaction",
        "Audience",
        tuple(prompts.REACTIONS),
        "auto",
        "Listen to the room: the comedian hears how each punchline landed. Or pick a mood.",
        labels=("Listen to the room", "Laughing", "Silent", "Groaning", "Heckling", "Cheering"),
    ),
    Choice(
        "edge",
        "Spice",
        tuple(prompts.EDGES),
        "club",
        "Clean: family-friendly. Club: a club's edge. Roast: your choices get it. Always punching up.",
        labels=("Clean", "Club", "Roast"),
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
        "Talk",
        (HANDS_FREE, PUSH_TO_TALK),
        HANDS_FREE,
        "Automatically: the comedian answers when you pause. Tap to talk: tap the microphone "
        "button when you have finished, and it answers.",
        radio=True,
        prompt=False,
        labels=("Automatically", "Tap to talk"),
    ),
    Choice(
        "microphone",
        "I'm on",
        tuple(prompts.MICROPHONES),
        "laptop",
        "Laughter and applause never cut the comedian: it rides the laugh, then tags the joke.",
        radio=True,
        labels=("Laptop speakers", "Headphones", "No noise filter"),
    ),
)
DEFAULTS = {c.name: c.default for c in CHOICES}
NOT_PROMPT = frozenset(c.name for c in CHOICES if not c.prompt)
