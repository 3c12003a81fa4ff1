"""When a set ends by the clock: at its length limit, or after a while with nobody doing anything
(never while an answer is in progress). Pure: times in, the reason to close out."""

from __future__ import annotations


def why_close(
    length: float, max_seconds: float, quiet: float, idle_seconds: float, answering: bool
) -> str | None:
    """The reason to close a set that has run `length` seconds, the last `quiet` of them with
    nothing done by the visitor, or None to go on."""
    if length >= max_seconds:
        return f"The set reached its limit of {max_seconds / 60:g} minutes. Thanks for coming!"
    if idle_seconds and quiet >= idle_seconds and not answering:
        return f"Closed after {idle_seconds / 60:g} minutes of quiet. Start a new set any time."
    return None


def check_every(idle_seconds: float) -> float:
    """How often the clock is looked at: often enough to close within a tenth of the idle time."""
    return min(1.0, max(0.05, idle_seconds / 10 if idle_seconds else 1.0))
