"""The Realtime models the club offers: which reason, which retire and when.

Dates are OpenAI's announced shutdowns (the `openai` package's model docstring, 3.57). A retiring
model is offered with its date until that day, and not after; the rehearsal server refuses it
from that day on, as the API will.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

DEFAULT_MODEL = "gpt-realtime-2.1"
REASONING_EFFORTS = ("minimal", "low", "medium", "high", "xhigh")  # the SDK's RealtimeReasoningEffort
DEFAULT_REASONING_EFFORT = "low"  # OpenAI: "start with low for most production voice agents"
SHUTDOWN_2027_01_20 = dt.date(2027, 1, 20)


@dataclass(frozen=True)
class Model:
    """One Realtime model as the club knows it."""

    name: str
    reasoning: bool  # takes `session.reasoning`
    retires: dt.date | None = None
    offered: bool = True  # shown in the dropdown (snapshots are accepted, not offered)

    def retired(self, today: dt.date) -> bool:
        """Whether OpenAI has shut it down by `today`."""
        return self.retires is not None and today >= self.retires

    @property
    def label(self) -> str:
        """How the dropdown names it."""
        return f"{self.name} (retires {self.retires.isoformat()})" if self.retires else self.name


CATALOGUE: tuple[Model, ...] = (
    Model("gpt-realtime-2.1", reasoning=True),
    Model("gpt-realtime-2.1-mini", reasoning=True),
    Model("gpt-realtime-2", reasoning=True),
    Model("gpt-realtime", reasoning=False, retires=SHUTDOWN_2027_01_20),
    Model("gpt-realtime-mini", reasoning=False, retires=SHUTDOWN_2027_01_20),
    Model("gpt-realtime-1.5", reasoning=False, offered=False),
    Model("gpt-realtime-2025-08-28", reasoning=False, retires=SHUTDOWN_2027_01_20, offered=False),
    Model("gpt-realtime-mini-2025-12-15", reasoning=False, retires=SHUTDOWN_2027_01_20, offered=False),
    Model("gpt-realtime-mini-2025-10-06", reasoning=False, retires=dt.date(2026, 7, 23), offered=False),
)
_BY_NAME = {m.name: m for m in CATALOGUE}
_SNAPSHOT = re.compile(r"\d{4}-\d{2}-\d{2}")


def today() -> dt.date:
    """Today in UTC, the calendar OpenAI's shutdown dates are given in."""
    return dt.datetime.now(dt.UTC).date()


def find(name: str) -> Model | None:
    """A model by name; a dated snapshot of a known family (`gpt-realtime-2.1-2026-…`) counts as it."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    family, date = name[:-11], name[-10:]
    return _BY_NAME.get(family) if name[-11:-10] == "-" and _SNAPSHOT.fullmatch(date) else None


def reasons(name: str) -> bool:
    """Whether the model takes a reasoning effort (the 2.x family)."""
    found = find(name)
    return found.reasoning if found else False


def retired(name: str, on: dt.date | None = None) -> bool:
    """Whether the model is shut down on `on` (default today)."""
    found = find(name)
    return found.retired(on or today()) if found else False


def choices(on: dt.date | None = None, also: str | None = None) -> list[tuple[str, str]]:
    """The dropdown's (label, name) pairs on `on`: current models, then retiring ones with their date.

    `also` (the owner's configured model) is added when the list lacks it and it is not retired.
    """
    day = on or today()
    listed = [(m.label, m.name) for m in CATALOGUE if m.offered and not m.retired(day)]
    if also and also not in {name for _, name in listed} and not retired(also, day):
        listed.append((also, also))
    return listed


def usable(name: str, on: dt.date | None = None) -> str:
    """`name`, or the default model when `name` is retired on `on`."""
    return DEFAULT_MODEL if retired(name, on) else name
