"""Where a set's Realtime session goes and what its owner allows it: the endpoint (the key never in
its `repr`), the limits, and the cached opener a set starts with."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from comedy import prompts
from comedy.config import Settings
from comedy.money.budget import Allowance
from comedy.prompts.stored import StoredPrompt
from comedy.realtime import models


@dataclass
class Endpoint:
    """Where a set's Realtime session goes; `repr` never shows the key."""

    url: str
    key: str = field(repr=False)
    rehearsal: bool
    model: str = models.DEFAULT_MODEL
    stored_prompt: StoredPrompt | None = None  # shared by the process's sets: refused once, gone for all
    reasoning_effort: str = models.DEFAULT_REASONING_EFFORT
    max_output_tokens: int = prompts.DEFAULT_MAX_OUTPUT_TOKENS
    listening: prompts.Listening = field(default_factory=prompts.Listening)
    response_timeout: float = 20.0  # an answer silent this long is cancelled and asked again
    reconnect_window: float = 60.0  # how long a dropped connection is tried again

    @property
    def tuning(self) -> prompts.Tuning:
        """The owner's settings for the comedian on this endpoint."""
        return prompts.Tuning(self.model, self.reasoning_effort, self.max_output_tokens, self.listening)

    @property
    def label(self) -> str:
        """Rehearsal or OpenAI, in words."""
        return "Rehearsal mode" if self.rehearsal else "OpenAI Realtime"


@dataclass
class Limits:
    """What a Space owner allows a set: idle time, and the visitor's allowance of the owner's money
    (None: not the owner's money, as in rehearsal or with a visitor's own key)."""

    idle_seconds: float = 300.0
    max_seconds: float = 900.0  # the longest set
    allowance: Allowance | None = None
    hold_first: bool = True  # a sound over the comedian holds it before the set decides (False: cut first)


@dataclass(frozen=True)
class Opener:
    """A set's first line, made once per voice and style and kept: played the moment Start is pressed."""

    line: str
    pcm: np.ndarray


REHEARSAL_KEY = "rehearsal"  # the rehearsal server wants a Bearer token, any will do


def choose(
    settings: Settings,
    model: str,
    rehearsal_url: str | None,
    own_key: str | None = None,
    stored_prompt: StoredPrompt | None = None,
) -> Endpoint:
    """The one place a session's endpoint is chosen (the app and the CLI alike): OpenAI with a
    visitor's own key (with the repo's prompt: the owner's stored prompt is not in their account)
    or the owner's key, else the rehearsal server at `rehearsal_url` (ValueError without one)."""
    tuning = {
        "reasoning_effort": settings.reasoning_effort,
        "max_output_tokens": settings.max_output_tokens,
        "listening": settings.listening,
    }
    if own_key:
        return Endpoint(settings.realtime_url, own_key, False, model, None, **tuning)
    if settings.api_key is not None:
        key = settings.api_key.get_secret_value()
        return Endpoint(settings.realtime_url, key, False, model, stored_prompt, **tuning)
    if rehearsal_url is None:
        raise ValueError("No API key is set and rehearsal mode is off.")
    return Endpoint(rehearsal_url, REHEARSAL_KEY, True, model, stored_prompt, **tuning)
