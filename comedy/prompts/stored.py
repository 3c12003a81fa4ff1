"""The opt-in stored prompt (`COMEDY_PROMPT_ID`) and the fall-back to the repo's template.

OpenAI shuts stored prompts (`v1/prompts`) down on 2026-11-30, and the API rejects a whole
`session.update` when one field is refused: a refused prompt would take the voice and the turn
detection with it. So an update that carries a prompt is marked (its `event_id`), and when the
API refuses it, the same update goes again with the repo's template, once for the whole process.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from comedy.prompts import SetUp
from comedy.realtime import protocol
from comedy.realtime.protocol import ApiError, Event

log = logging.getLogger(__name__)

STORED_PROMPTS_END = dt.date(2026, 11, 30)
EVENT_PREFIX = "event_stored_prompt_"  # marks the updates that carry the prompt
HANDSHAKE_SECONDS = 10.0


@dataclass
class StoredPrompt:
    """A stored prompt reference shared by every set of a process; once refused, never sent again."""

    id: str
    version: str | None = None
    refused: bool = False

    def reference(self, set_up: SetUp) -> Event | None:
        """The `session.prompt` for a set-up, or None once the API has refused it."""
        return None if self.refused else protocol.prompt_reference(self.id, set_up.variables(), self.version)

    @staticmethod
    def event_id() -> str:
        """A fresh `event_id` for an update that carries the prompt."""
        return EVENT_PREFIX + protocol.new_id("x")[2:]

    @staticmethod
    def refuses(error: ApiError) -> bool:
        """Whether an `error` refuses the stored prompt: it names `session.prompt`, or the update
        that carried it."""
        return (error.param or "").startswith("session.prompt") or (error.event_id or "").startswith(
            EVENT_PREFIX
        )

    def refuse(self, error: ApiError) -> str:
        """Give the stored prompt up for good; what to tell the visitor (logged once per process)."""
        if not self.refused:
            self.refused = True
            log.warning(
                "The API refused stored prompt %s (%s); every set now uses the prompt in the repo.",
                self.id,
                error,
            )
        return (
            f"The stored prompt {self.id} was refused (OpenAI ended stored prompts on "
            f"{STORED_PROMPTS_END:%Y-%m-%d}); the set goes on with the prompt in the repo."
        )


def configured(prompt_id: str | None, version: str | None, today: dt.date) -> StoredPrompt | None:
    """The owner's stored prompt (`COMEDY_PROMPT_ID`), or None: none is set, or OpenAI has ended
    stored prompts by `today` (then every set uses the prompt in the repo, said once in the log,
    and no session sends a prompt only to have its settings refused)."""
    if not prompt_id:
        return None
    if today > STORED_PROMPTS_END:
        log.warning(
            "COMEDY_PROMPT_ID=%s is not used: OpenAI ended stored prompts on %s; every set uses the "
            "prompt in the repo.",
            prompt_id,
            f"{STORED_PROMPTS_END:%Y-%m-%d}",
        )
        return None
    return StoredPrompt(prompt_id, version)
