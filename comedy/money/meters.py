"""The show's meters: what the set costs so far, and how long the comedian takes to answer."""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from comedy.money.pricing import Prices, transcription_cost, usage_cost
from comedy.realtime.reading import Usage

TOKEN_FIELDS = ("audio_in", "audio_cached", "text_in", "text_cached", "audio_out", "text_out")


@dataclass
class Meters:
    """Cost from each `response.done` usage; latency from the end of a turn to the first audio played."""

    prices: Prices
    cost_usd: float = 0.0  # everything: the session's tokens and the input transcription
    transcription_usd: float = 0.0
    transcribed_s: float = 0.0
    answers: int = 0
    tokens: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOKEN_FIELDS, 0))
    latencies_s: list[float] = field(default_factory=list)
    _turn_ended_at: float | None = None

    def add_usage(self, usage: Usage) -> float:
        """Count one answer's usage; what it cost."""
        self.answers += 1
        usd = usage_cost(usage, self.prices)
        self.cost_usd += usd
        for name in TOKEN_FIELDS:
            self.tokens[name] += getattr(usage, name)
        return usd

    def add_transcription(self, usage: Mapping, model: str) -> float:
        """Count one input transcription (billed apart from the session, per minute); its cost."""
        usd = transcription_cost(usage, model)
        self.transcription_usd += usd
        self.cost_usd += usd
        if usage.get("type") == "duration":
            self.transcribed_s += float(usage.get("seconds") or 0.0)
        return usd

    def turn_ended(self, at: float) -> None:
        """The visitor finished (speech stopped, or the button): the latency clock starts."""
        self._turn_ended_at = at

    def audio_played(self, at: float) -> float | None:
        """Audio went to the speaker; the first after a turn closes the latency clock."""
        if self._turn_ended_at is None:
            return None
        latency = max(0.0, at - self._turn_ended_at)
        self._turn_ended_at = None
        self.latencies_s.append(latency)
        return latency

    @property
    def median_latency_s(self) -> float | None:
        """The set's median latency."""
        return statistics.median(self.latencies_s) if self.latencies_s else None

    def summary(self) -> str:
        """One line of figures for the page and the recording."""
        t = self.tokens
        line = (
            f"Cost so far ${self.cost_usd:.4f} over {self.answers} answer(s) · "
            f"transcription ${self.transcription_usd:.4f} for {self.transcribed_s:.1f} s · tokens in: "
            f"{t['audio_in']} audio ({t['audio_cached']} cached), {t['text_in']} text "
            f"({t['text_cached']} cached) · out: {t['audio_out']} audio, {t['text_out']} text"
        )
        if self.latencies_s:
            line += (
                f" · latency: last {self.latencies_s[-1] * 1000:.0f} ms, "
                f"median {self.median_latency_s * 1000:.0f} ms over {len(self.latencies_s)}"
            )
        return line
