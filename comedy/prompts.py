"""The set-up a visitor chooses, mapped onto the session: stored-prompt variables or instructions."""

from __future__ import annotations

from dataclasses import dataclass

from comedy import protocol
from comedy.protocol import Event

STYLES = ("witty", "dry", "observational", "absurd", "sarcastic", "dark", "dad jokes")
REACTIONS = ("auto", "laughing", "silent", "groaning", "heckling", "cheering")


@dataclass(frozen=True)
class SetUp:
    """What the visitor picked: voice, style, how the room reacts, and a topic."""

    voice: str = protocol.DEFAULT_VOICE
    style: str = "witty"
    reaction: str = "laughing"
    topic: str = ""

    def variables(self) -> dict[str, str]:
        """The stored prompt's variables: `comedy_style`, `audience_reaction`, `topic`."""
        return {
            "comedy_style": self.style,
            "audience_reaction": self.reaction,
            "topic": self.topic or "anything",
        }


def instructions(set_up: SetUp) -> str:
    """Inline instructions for when no stored prompt is configured."""
    return (
        "You are a stand-up comedian performing live in a small comedy club. "
        "Answer with one short bit: a line that reads the room, then one joke, under 20 seconds. "
        "Keep it clever and kind; never punch down. If someone heckles, answer the heckle.\n"
        f"Comedy style: {set_up.style}.\n"
        f"Audience reaction: {set_up.reaction}.\n"
        f"Topic: {set_up.topic or 'anything the audience brings up'}."
    )


def session_update(
    set_up: SetUp,
    *,
    prompt_id: str | None = None,
    prompt_version: str | None = None,
    hands_free: bool = True,
) -> Event:
    """The `session.update` for a set-up: stored prompt with variables if an id is set."""
    prompt = protocol.prompt_reference(prompt_id, set_up.variables(), prompt_version) if prompt_id else None
    return protocol.session_update(
        voice=set_up.voice,
        instructions=None if prompt else instructions(set_up),
        prompt=prompt,
        turn_detection=protocol.server_vad() if hands_free else None,
    )


def audition_instructions(line: str, style: str) -> str:
    """Response instructions that make the comedian say one given line, for a voice audition."""
    return f'Perform it in a {style} style. Say exactly this line and nothing else: "{line}"'


def joke_request(topic: str) -> str:
    """What the visitor 'says' when they press the button with a topic."""
    topic = topic.strip()
    return f"Tell me a joke about {topic}." if topic else "Tell me a joke."
