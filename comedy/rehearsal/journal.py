"""What the rehearsal server is told to do (`Conduct`: the switches a test or the CLI sets) and what
it did (`Journal`: bounded records tests and the UI read). A connection is handed both; none of its
parts reads the server itself."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from comedy.realtime import models
from comedy.rehearsal.audience import Audience
from comedy.rehearsal.faults import Faults


@dataclass
class Conduct:
    """How the house behaves. `pace` is the audio stream's speed against real time (1.0 live, 0 as
    fast as possible); `faults` holds the test switches; the rest switch on behaviours of the real API."""

    pace: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    faults: Faults = field(default_factory=Faults)
    refused_keys: set[str] = field(default_factory=set)  # answered as the API answers a revoked key
    refuse_prompts: bool = False  # refuse `session.prompt` as the API does once stored prompts end
    preambles: bool = False  # answer as 2.x models may: a short preamble item, then the answer
    thinks: bool = True  # the model thinks before it speaks, as long as live (`thinking`)
    audience: Audience = field(default_factory=Audience)  # laughs, applause, heckles a test cues
    today: Callable[[], dt.date] = models.today  # the calendar for shutdown dates
    max_session_seconds: float = 3600.0  # the real API's limit
    # An answer streams faster than it plays, so what the server sent before a client's cancel
    # reached it arrives after the client cancelled: the answer goes on this long after a cancel.
    cancel_lag: float = 0.0


def _log(length: int) -> deque:
    return deque(maxlen=length)


@dataclass
class Journal:
    """What happened, newest last, each record bounded."""

    session_updates: deque[dict] = field(default_factory=lambda: _log(100))
    received: deque[str] = field(default_factory=lambda: _log(10_000))  # client event types
    sent: deque[str] = field(default_factory=lambda: _log(10_000))  # server event types
    errors: deque[str] = field(default_factory=lambda: _log(1_000))  # each error event's code and message
    usages: deque[dict] = field(default_factory=lambda: _log(1_000))
    transcriptions: deque[dict] = field(default_factory=lambda: _log(1_000))  # input transcription usage
    truncations: deque[tuple[str, int]] = field(default_factory=lambda: _log(1_000))
    asked: deque[dict] = field(default_factory=lambda: _log(1_000))  # each response.create's `response`
    first_audio_sent: deque[tuple[str, float]] = field(default_factory=lambda: _log(1_000))  # (item, when)
    appended_samples: int = 0  # microphone audio appended over every session, at 24 kHz
    connections: int = 0
