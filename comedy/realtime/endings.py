"""Every way an answer can end, read from `response.done` and put in plain words. Pure.

`status` is `completed`, `cancelled` (reason `turn_detected` or `client_cancelled`), `incomplete`
(reason `max_output_tokens` or `content_filter`) or `failed` (with an error), as the SDK's
`RealtimeResponseStatus` defines them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_CUT = {
    ("cancelled", "turn_detected"): (
        "cut off: the visitor talked",
        "The comedian stopped: it heard you talk.",
    ),
    ("cancelled", "client_cancelled"): ("cut off", "The answer was stopped."),
    ("incomplete", "max_output_tokens"): (
        "cut: length limit",
        "The answer reached its length limit (max_output_tokens) and was cut short.",
    ),
    ("incomplete", "content_filter"): (
        "cut by the content filter",
        "OpenAI's content filter cut that joke short.",
    ),
}


@dataclass(frozen=True)
class Ending:
    """How one answer ended: a note for its transcript lines and words for the status line."""

    status: str
    reason: str | None = None
    note: str = ""  # "" when it completed
    words: str = ""  # "" when it completed

    @property
    def completed(self) -> bool:
        """It ended as asked."""
        return self.status == "completed"

    @property
    def censored(self) -> bool:
        """OpenAI's content filter cut it."""
        return self.status == "incomplete" and self.reason == "content_filter"

    @property
    def failed(self) -> bool:
        """The server gave up on it: worth asking again."""
        return self.status == "failed"


def read(response: Mapping) -> Ending:
    """The ending of a `response.done`'s `response`, tolerating missing fields."""
    status = str(response.get("status") or "completed")
    details = response.get("status_details") or {}
    reason = details.get("reason")
    if status == "completed":
        return Ending(status)
    if (status, reason) in _CUT:
        note, words = _CUT[(status, reason)]
        return Ending(status, reason, note, words)
    if status == "failed":
        error = details.get("error") or {}
        said = error.get("message") or error.get("code") or error.get("type") or "no reason given"
        return Ending(status, reason, "failed", f"The answer failed: {said}")
    if status == "cancelled":
        return Ending(status, reason, "cut off", "The answer was stopped.")
    why = f" ({reason})" if reason else ""
    return Ending(status, reason, f"cut: {status}", f"The answer ended early as {status}{why}.")
