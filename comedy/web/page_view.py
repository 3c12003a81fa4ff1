"""What the page shows of a set, as pure functions of it: the show's state and lamps, the transcript
as far as it was heard, the end-of-show scorecard, and the stats (status line, figures, plots).
`comedy.web.gradio_web` pushes them; the page's JavaScript draws the show's part (`engine_page/show.js`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from comedy.sound.room import RoomReading
from comedy.stage.floor import OPEN, RIDING
from comedy.stage.transcript import Turn, score_words
from comedy.stage.transcript import joke_of as joke_of

if TYPE_CHECKING:
    from comedy.venue.votes import Standing

LAMPS = 10
CENSORED_CHIP = "The content filter cut that joke"
ROW_WORDS = 16  # a joke's row on the scorecard: the joke's first words
BEST_CHARACTERS = 220  # the best joke in full, cut only at a word past this many characters


class ShownSet(Protocol):
    """What the page reads of a set (a `ComedySet`)."""

    stage: object
    endpoint: object
    sound: str
    closed: bool
    length: float


# --- the show: its state, lamps and scorecard (`show.js` draws them)


def show_state(comedy_set: ShownSet) -> str:
    """The one-line state on the stage, as the visitor hears it: warming, on-stage (speech plays),
    your-turn (nothing left to play), listening (a sound is heard, or the comedian holds for it),
    riding (it holds for the laugh), heckle (from the heckle to the end of its answer), switching
    (a new voice's session), thinking, over."""
    if comedy_set.closed:
        return "over"
    stage = comedy_set.stage
    if stage.floor.state is RIDING:
        return "riding"
    if stage.floor.state is not OPEN:  # held for a sound: within a heckle's answer, still the heckle
        return "heckle" if _in_a_heckle(stage) else "listening"
    return _said_state(stage.status) or _heard_state(stage)


def _said_state(status: str) -> str | None:
    """The states the status line settles: riding a laugh, switching voice, warming up."""
    if "riding" in status or status.startswith("The room laughed"):
        return "riding"
    if status.startswith("Switching"):
        return "switching"
    if status.startswith(("Connecting", "Reconnecting", "Not started")):
        return "warming"
    return None


def _heard_state(stage) -> str:
    """The states what plays and what is heard settle: a heckle to the end of its answer, a sound
    heard, speech playing, an answer coming, or the visitor's turn."""
    if _in_a_heckle(stage):
        return "heckle"
    if stage.hearing.in_sound:
        return "listening"
    if stage.speaker.unheard():
        return "on-stage"
    if stage.busy:
        return "thinking" if stage.status.startswith("Thinking") else "on-stage"
    return "your-turn"


def _in_a_heckle(stage) -> bool:
    """From a heckle to the end of its answer: heard, waiting for its words, or answered."""
    if stage.status.startswith("Heckled") or stage.hearing.heckle_pending:
        return True
    return _last_line_a_heckle(stage.transcript) and (stage.busy or bool(stage.speaker.unheard()))


def _last_line_a_heckle(transcript: list[Turn]) -> bool:
    """Whether the visitor's last line was a heckle (while an answer comes or plays, it is the
    heckle's)."""
    last = next((t for t in reversed(transcript) if t.role == "user"), None)
    return last is not None and last.note == "heckle"


def lamps(reading: RoomReading | None) -> int:
    """How many of the ten lamps a laugh lights."""
    return round((reading.laugh if reading else 0.0) * LAMPS)


def _first_words(text: str, count: int = ROW_WORDS) -> str:
    words = text.split()
    if len(words) <= count:
        return " ".join(words)
    return " ".join(words[:count]).rstrip(".,;:!?…") + "…"


def _heard_whole(turn: Turn, played: dict[str, int]) -> bool:
    """Whether the visitor heard a line to its end (not cut, not ended mid-line by End)."""
    if "cut" in turn.note or "not heard" in turn.note:
        return False
    return turn.heard(played.get(turn.item_id or "", 0)) == turn.text


def _whole(text: str, most: int = BEST_CHARACTERS) -> str:
    """A joke in full; a very long one ends at a word boundary, never mid-word."""
    text = " ".join(text.split())
    if len(text) <= most:
        return text
    return text[: text.rfind(" ", 0, most)] + "…"


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def scorecard(comedy_set: ShownSet) -> dict:
    """The end of the show: each joke heard to its end with its lamps (the joke itself, not the
    line that read the room; a line cut short is no joke), the best joke in full, the set's length."""
    stage = comedy_set.stage
    played = stage.speaker.played
    jokes = [t for t in stage.lines.jokes() if t.note != "opener" and _heard_whole(t, played)]
    best = stage.best_joke()
    return {
        "count": len(jokes),
        "length": _minutes(comedy_set.length),
        "jokes": [{"text": _first_words(joke_of(t.text)), "lamps": lamps(t.score)} for t in jokes],
        "best": _whole(joke_of(best.text)) if best else "",
        "best_lamps": lamps(best.score) if best else 0,
    }


def show_news(comedy_set: ShownSet) -> str:
    """The show's news for the page, as JSON: its state, the last laugh's lamps, and at the end the
    scorecard."""
    stage = comedy_set.stage
    news: dict = {
        "set": f"{id(comedy_set):x}",  # which show: a late word from an ended one is not news
        "state": show_state(comedy_set),
        "lamps": lamps(stage.room),
    }
    if comedy_set.closed:
        news["scorecard"] = scorecard(comedy_set)
    return json.dumps(news)


# --- the transcript: heard words only, a laugh score per joke its only note


def _line(turn: Turn, played: int) -> str:
    text = turn.heard(played).strip()
    if text and turn.score is not None and turn.role == "assistant":
        text += f" **· laugh {lamps(turn.score)}/{LAMPS}**"
    return text


def messages(comedy_set: ShownSet) -> list[dict]:
    """The transcript as chat messages: the comedian's words once the visitor has heard them."""
    played = comedy_set.stage.speaker.played
    shown = ((t.role, _line(t, played.get(t.item_id or "", 0))) for t in comedy_set.stage.transcript)
    return [{"role": role, "content": text} for role, text in shown if text]


# --- the stats (out of sight, in the settings)


def applause_meter(reading: RoomReading | None) -> str:
    """The laugh meter as a club's applause meter: a row of lamps lit by the last joke's laugh."""
    lit = lamps(reading)
    row = "".join(f'<span class="lamp{" on" if i < lit else ""}"></span>' for i in range(LAMPS))
    words = score_words(reading) if reading else "waiting for the first punchline"
    return (
        f'<div class="applause" role="meter" aria-label="Applause meter" aria-valuemin="0" '
        f'aria-valuemax="{LAMPS}" aria-valuenow="{lit}"><div class="applause-title">Applause meter</div>'
        f'<div class="lamps">{row}</div><div class="applause-words">{words}</div></div>'
    )


def status_line(comedy_set: ShownSet) -> str:
    """Mode, sound path, connection and the last error, in one line of words."""
    parts = [comedy_set.endpoint.label]
    if comedy_set.sound:
        parts.append(f"Sound: {comedy_set.sound}")
    parts.append(comedy_set.stage.status)
    if comedy_set.stage.last_error:
        parts.append(f"Last problem: {comedy_set.stage.last_error}")
    return " · ".join(parts)


def figures(comedy_set: ShownSet) -> str:
    """The meters in words: cost, latency, tokens."""
    meters = comedy_set.stage.meters
    said = meters.summary()
    minutes = comedy_set.length / 60
    if meters.answers and minutes >= 0.25:
        said += f" · ${meters.cost_usd / minutes:.3f} a minute over {minutes:.1f} min"
    if comedy_set.endpoint.rehearsal:
        said += f" · (rehearsal is free: cost at {comedy_set.endpoint.model} list prices)"
    return said


def plots(comedy_set: ShownSet) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The latency and laugh per joke, jokes numbered as categories; None before two jokes."""
    latencies = comedy_set.stage.meters.latencies_s
    jokes = comedy_set.stage.lines.jokes()
    scored = [(str(n), lamps(t.score)) for n, t in enumerate(jokes, 1) if t.score is not None]
    latency = laughs = None
    if len(latencies) >= 2:
        numbers = [str(n) for n in range(1, len(latencies) + 1)]
        latency = pd.DataFrame({"joke": numbers, "ms": [round(x * 1000) for x in latencies]})
    if len(scored) >= 2:
        laughs = pd.DataFrame({"joke": [n for n, _ in scored], "laugh": [lit for _, lit in scored]})
    return latency, laughs


def censored_chip(comedy_set: ShownSet) -> str:
    """The content filter's chip, when it cut the last joke."""
    return f'<span class="chip">{CENSORED_CHIP}</span>' if comedy_set.stage.shown.censored else ""


# --- the voice battle's standings

SHARE_FROM = 5  # votes a voice needs before its share of wins is shown


def standings_list(standings: Sequence[Standing], characters: dict[str, str]) -> str:
    """The voices that have fought in a style as a ranked list (best first), each with its name,
    its character, its count of votes and, from a few votes on, its share of wins."""
    if not standings:
        return '<p class="standings-empty">No votes in this style yet: battle two voices and vote.</p>'
    rows = []
    for s in standings:
        votes = s.wins + s.losses
        won = f", won {s.share:.0%}" if votes >= SHARE_FROM else ""
        record = f"{votes} vote{'s' * (votes != 1)}: {s.wins} won, {s.losses} lost{won}"
        rows.append(
            f'<li data-voice="{s.voice}"><span class="voice">{s.voice.title()}</span> '
            f'<span class="character">{characters.get(s.voice, "")}</span> '
            f'<span class="record">{record}</span></li>'
        )
    return f'<ol class="standings" aria-label="Leaderboard for this style">{"".join(rows)}</ol>'
