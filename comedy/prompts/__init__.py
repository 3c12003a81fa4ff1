"""The set-up a visitor chooses, mapped onto the session: the repo's prompt template, rendered.

The comedian's prompt lives in `comedian.md` beside this file; the dropdowns map onto its named
variables `comedy_style`, `audience_reaction` and `topic`. A stored prompt (`COMEDY_PROMPT_ID`)
is an opt-in that carries the same variables; see `comedy.prompts.stored`.
"""

from __future__ import annotations

from dataclasses import dataclass

from comedy.prompts import template
from comedy.realtime import models, protocol
from comedy.realtime.protocol import Event

STYLES = ("witty", "dry", "observational", "absurd", "sarcastic", "dark", "dad jokes")
REACTIONS = ("auto", "laughing", "silent", "groaning", "heckling", "cheering")
EDGES = ("clean", "club", "roast")  # how sharp: its rules are in the template
MICROPHONES = {"laptop": "far_field", "headset": "near_field", "off": None}  # -> input noise reduction
DETECTIONS = ("server_vad", "semantic_vad")
EAGERNESS = ("low", "medium", "high", "auto")
TONIGHT_LINES = {  # each line of tonight's record (`comedy.stage.tonight` writes it, the rehearsal reads it)
    "topics": "- Earlier topics: ",
    "latest": "- The latest topic: ",
    "heckles": "- Heckles, in the heckler's words: ",
    "name": "- The visitor's name, as they gave it: ",
    "jokes": "- Jokes told, oldest first, with what the room did: ",
}
DEFAULT_MAX_OUTPUT_TOKENS = 1200  # about 50 s of speech with some reasoning: a bit, never a monologue


@dataclass(frozen=True)
class SetUp:
    """What the visitor picked: voice, style, how the room reacts, and a topic."""

    voice: str = protocol.DEFAULT_VOICE
    style: str = "witty"
    reaction: str = "laughing"
    edge: str = "club"  # one of EDGES
    topic: str = ""
    microphone: str = "laptop"  # a key of MICROPHONES: the input noise reduction for it
    more: tuple[tuple[str, str], ...] = ()  # any further choice on the page, by its template variable

    def variables(self) -> dict[str, str]:
        """The prompt's variables as plain text: `comedy_style`, `audience_reaction`, `edge`, `topic`, and
        one per further choice (a new dropdown is a line in the page's choices and its variable
        in the template)."""
        more = {name: template.clean(str(value), template.VALUE_LIMIT) for name, value in self.more}
        return more | {
            "comedy_style": template.clean(self.style, template.VALUE_LIMIT),
            "audience_reaction": template.clean(self.reaction, template.VALUE_LIMIT),
            "edge": self.edge if self.edge in EDGES else "club",
            "topic": template.clean(self.topic, template.TOPIC_LIMIT) or "anything",
        }


@dataclass(frozen=True)
class Listening:
    """How the server listens, the owner's settings: its turn detection reports speech and never
    acts on it (the set decides what a sound is), and how hard it suppresses noise."""

    detection: str = "server_vad"  # or semantic_vad
    threshold: float = 0.5  # server_vad: 0..1, higher needs louder sound
    silence_ms: int = 500  # server_vad: the quiet that ends a turn
    eagerness: str = "auto"  # semantic_vad: low waits longest for the visitor to finish
    noise_strength: float | None = None  # None: the API's own default (1)

    def turn_detection(self) -> Event:
        """The turn detection: speech started and stopped are reported; the set answers and cuts."""
        if self.detection == "semantic_vad":
            return protocol.semantic_vad(self.eagerness, create_response=False, interrupt_response=False)
        return protocol.server_vad(
            self.threshold,
            silence_duration_ms=self.silence_ms,
            create_response=False,
            interrupt_response=False,
        )

    def noise_reduction(self, microphone: str) -> Event | None:
        """The input noise reduction for the visitor's microphone (None: off)."""
        kind = MICROPHONES.get(microphone, "far_field")
        return protocol.noise_reduction(kind, self.noise_strength) if kind else None


@dataclass(frozen=True)
class Tuning:
    """How the comedian runs, beside what the visitor picked: the owner's settings."""

    model: str = models.DEFAULT_MODEL
    reasoning_effort: str = models.DEFAULT_REASONING_EFFORT
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    listening: Listening = Listening()


def instructions(set_up: SetUp, tonight: str = "") -> str:
    """The repo's comedian prompt rendered for this set-up; the topic goes in quoted, as data, and
    `tonight` (the show's record, `comedy.stage.tonight`, its audience words quoted) last."""
    values = set_up.variables() | {
        "topic": template.quoted_topic(set_up.topic),
        "tonight": tonight or template.NO_TONIGHT,
    }
    return template.render(template.load(), values)


def session_update(
    set_up: SetUp,
    tuning: Tuning | None = None,
    *,
    prompt: Event | None = None,
    hands_free: bool = True,
    event_id: str | None = None,
    tonight: str = "",
) -> Event:
    """The `session.update` for a set-up: the rendered template, or a stored `prompt` reference
    (then without instructions, which would override it). Reasoning only for reasoning models."""
    tuning = tuning or Tuning()
    return protocol.session_update(
        voice=set_up.voice,
        instructions=None if prompt else instructions(set_up, tonight),
        prompt=prompt,
        turn_detection=tuning.listening.turn_detection() if hands_free else None,
        noise_reduction=tuning.listening.noise_reduction(set_up.microphone),
        reasoning_effort=tuning.reasoning_effort if models.reasons(tuning.model) else None,
        max_output_tokens=tuning.max_output_tokens,
        event_id=event_id,
    )


def tag_instructions(set_up: SetUp, reaction: str, tonight: str = "") -> str:
    """The comedian's instructions for riding a laugh: the same prompt, then a short tag line."""
    room = "laughed" if reaction == "laughter" else "applauded"
    return (
        f"{instructions(set_up, tonight)}\n\nThe room just {room} at your last line and the laugh has faded. "
        "Ride it: one short tag line that tops the same joke, a sentence at most, then stop."
    )


def resume_instructions(set_up: SetUp, tonight: str = "") -> str:
    """The comedian's instructions after the room laughed over it (taken for a heckle, it was cut):
    the same prompt, then pick the line up where the room stopped hearing it."""
    return (
        f"{instructions(set_up, tonight)}\n\nThe room burst out laughing and you stopped mid-line. "
        "Pick it up where you were cut off: finish that joke from the last words the room heard, without "
        "repeating them, then stop."
    )


OPENERS = {  # short: it fills the time the session takes to connect, and the first joke follows it
    "witty": "Good evening! Lovely crowd. Give me a topic.",
    "dry": "Hello. This is apparently comedy. Topic?",
    "observational": "Evening, everyone! So, what are we talking about?",
    "absurd": "Good evening, humans and the pigeon at the back!",
    "sarcastic": "Oh great, an audience. Thrilling. Topic?",
    "dark": "Good evening. Let's laugh while we still can.",
    "dad jokes": "Hi! I'm the comedian. Nice to meet you, the comedian!",
}


def opener(style: str) -> str:
    """The line that opens a set in this style, played from the cache the moment Start is pressed."""
    return OPENERS.get(style, OPENERS["witty"])


def audition_instructions(line: str, style: str) -> str:
    """Response instructions that make the comedian say one given line, for a voice audition."""
    return f'Perform it in a {style} style. Say exactly this line and nothing else: "{line}"'


def visitor_topic(text: object) -> str:
    """A topic as it comes from the page (anything at all), cleaned and bounded where it enters."""
    return template.clean(text if isinstance(text, str) else "", template.TOPIC_LIMIT)


def visitor_line(text: object) -> str:
    """An audition line as it comes from the page, cleaned and bounded where it enters."""
    return template.clean(text if isinstance(text, str) else "", template.LINE_LIMIT)


def joke_request(topic: str) -> str:
    """What the visitor 'says' when they press the button with a topic."""
    topic = template.clean(topic, template.TOPIC_LIMIT)
    return f"Tell me a joke about {topic}." if topic else "Tell me a joke."
