"""Where a set's Realtime session goes and what its owner allows it: the endpoint (the key never in
its `repr`), the limits, and the cached opener a set starts with."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from comedy import models, prompts
from comedy.budget import Allowance
from comedy.stored_prompt import StoredPrompt


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


@dataclass(frozen=True)
class Opener:
    """A set's first line, made once per voice and style and kept: played the moment Start is pressed."""

    line: str
    pcm: np.ndarray
