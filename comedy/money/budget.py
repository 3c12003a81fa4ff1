"""The owner's money: what one visitor and the whole club may spend in a day (UTC).

Only the owner's key is counted: rehearsal is free and a visitor's own key is their own money.
The limit is kept before an answer is asked for, not after: each answer may spend at most what
its worst case leaves room for (`answer_cap`), and that worst case is held against the limits until
the answer is billed (`Budget.hold`), so sets asking at once cannot together carry the spend past
a limit. The microphone's transcription is counted as the audio is sent, before it is billed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from comedy.money.pricing import Prices
from comedy.realtime.reading import Usage

MIN_ANSWER_TOKENS = 40  # 2 s of speech: an answer capped below this is not worth asking for
AUDIO_TOKENS_PER_SECOND = 10  # the Realtime models' input audio
NEW_INPUT_SECONDS = 20.0  # new speech before an answer, at least this much is allowed for
NEW_INPUT_TOKENS = int(NEW_INPUT_SECONDS * AUDIO_TOKENS_PER_SECOND)


def usd(amount: float) -> str:
    """Dollars in words that never round a limit to "$0.00": $2.50, $0.05, $0.0001."""
    if amount >= 0.1 or amount == 0:
        return f"${amount:,.2f}"
    return "$" + np.format_float_positional(amount, precision=2, fractional=False, trim="-")


def utc_day() -> str:
    """Today's date in UTC, as the budget's day."""
    return time.strftime("%Y-%m-%d", time.gmtime())


@dataclass(frozen=True)
class Context:
    """How big the conversation is, in tokens: all of it is read again as input by the next answer."""

    text: int = 0
    audio: int = 0

    @classmethod
    def after(cls, usage: Usage) -> Context:
        """The conversation after an answer: its input and its output, by kind."""
        return cls(text=usage.text_in + usage.text_out, audio=usage.audio_in + usage.audio_out)


def worst_answer_usd(
    prices: Prices, context: Context, output_tokens: int, new_seconds: float = NEW_INPUT_SECONDS
) -> float:
    """The most an answer can cost: the whole conversation read again with none of it cached, the
    visitor's new speech (`new_seconds` of it, 20 s at least), and `output_tokens` at the dearer
    output price."""
    new_tokens = max(NEW_INPUT_SECONDS, new_seconds) * AUDIO_TOKENS_PER_SECOND
    tokens_in = context.text * prices.text_in + (context.audio + new_tokens) * prices.audio_in
    return (tokens_in + output_tokens * max(prices.audio_out, prices.text_out)) / 1_000_000


def answer_cap(
    left_usd: float, prices: Prices, context: Context, max_tokens: int, new_seconds: float = NEW_INPUT_SECONDS
) -> int:
    """The output tokens the next answer may spend so that its worst case stays within `left_usd`
    (at most `max_tokens`; 0 when not even a short answer fits)."""
    if math.isinf(left_usd):
        return max_tokens
    per_out = max(prices.audio_out, prices.text_out) / 1_000_000
    room = left_usd - worst_answer_usd(prices, context, 0, new_seconds)
    tokens = int(room / per_out) if per_out > 0 else max_tokens
    tokens = min(max_tokens, tokens)
    return tokens if tokens >= MIN_ANSWER_TOKENS else 0


@dataclass
class Budget:
    """The owner's daily spend, in total and per visitor (0: no limit), starting over each UTC day."""

    max_visitor_usd: float = 0.0
    max_day_usd: float = 0.0
    day: Callable[[], str] = utc_day
    total: float = 0.0
    by_visitor: dict[str, float] = field(default_factory=dict)
    held: dict[str, float] = field(default_factory=dict)  # worst cases of answers asked for, not yet billed
    _date: str = ""

    def _today(self) -> None:
        today = self.day()
        if today != self._date:
            self._date, self.total = today, 0.0
            self.by_visitor.clear()

    def spend(self, visitor: str, amount: float) -> None:
        """Count what the owner's key spent for a visitor."""
        self._today()
        self.total += amount
        self.by_visitor[visitor] = self.by_visitor.get(visitor, 0.0) + amount

    def hold(self, visitor: str, amount: float) -> None:
        """Hold an answer's worst case against the limits until it is billed (`release`)."""
        self.held[visitor] = self.held.get(visitor, 0.0) + amount

    def release(self, visitor: str, amount: float) -> None:
        """The answer was billed (or lost): its worst case is no longer held."""
        left = self.held.get(visitor, 0.0) - amount
        if left > 1e-12:
            self.held[visitor] = left
        else:
            self.held.pop(visitor, None)

    def left(self, visitor: str) -> float:
        """What the visitor may still spend today (infinite without limits), what is held included."""
        self._today()
        left = math.inf
        if self.max_day_usd:
            left = min(left, self.max_day_usd - self.total - sum(self.held.values()))
        if self.max_visitor_usd:
            left = min(left, self.max_visitor_usd - self._spent(visitor))
        return max(0.0, left)

    def _spent(self, visitor: str) -> float:
        return self.by_visitor.get(visitor, 0.0) + self.held.get(visitor, 0.0)

    def why_not(self, visitor: str, worst_usd: float = 0.0) -> str | None:
        """Why the visitor may not spend `worst_usd` more, in words; None when they may."""
        self._today()
        if self.max_day_usd and self.total + sum(self.held.values()) + worst_usd > self.max_day_usd:
            return f"The club reached today's spend limit ({usd(self.max_day_usd)}). Come back tomorrow!"
        spent = self._spent(visitor)
        if self.max_visitor_usd and spent + worst_usd > self.max_visitor_usd:
            return (
                f"This set reached its spend limit of {usd(self.max_visitor_usd)} "
                f"(spent {usd(self.by_visitor.get(visitor, 0.0))} today). Thanks for coming!"
            )
        return None

    def allowance(self, visitor: str) -> Allowance:
        """One visitor's view of the budget."""
        return Allowance(self, visitor)


@dataclass(frozen=True)
class Allowance:
    """What one visitor may spend of the owner's money; a set or an audition holds one."""

    budget: Budget
    visitor: str

    def spend(self, amount: float) -> None:
        """Count spend for this visitor."""
        self.budget.spend(self.visitor, amount)

    def hold(self, amount: float) -> None:
        """Hold an answer's worst case until it is billed."""
        self.budget.hold(self.visitor, amount)

    def release(self, amount: float) -> None:
        """An answer held for was billed or lost."""
        self.budget.release(self.visitor, amount)

    def left(self) -> float:
        """USD this visitor may still spend today."""
        return self.budget.left(self.visitor)

    def why_not(self, worst_usd: float = 0.0) -> str | None:
        """Why `worst_usd` more may not be spent, or None."""
        return self.budget.why_not(self.visitor, worst_usd)
