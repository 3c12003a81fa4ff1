"""A set's spending of the owner's money, as pure bookkeeping: each answer capped to what is left
of the visitor's allowance, its worst case held until it is billed, microphone audio counted as
it is sent. Figures in, decisions out; the stage acts on them."""

from __future__ import annotations

from dataclasses import dataclass, field

from comedy.money.budget import MIN_ANSWER_TOKENS, Allowance, Context, answer_cap, worst_answer_usd
from comedy.money.pricing import Prices, transcription_cost
from comedy.realtime import protocol
from comedy.realtime.reading import Usage

SPEND_LIMIT_REACHED = "The spend limit is reached. Thanks for coming!"


@dataclass
class Spend:
    """One set's spend against `allowance` (None: not the owner's money, nothing to count)."""

    allowance: Allowance | None = None
    context: Context = field(default_factory=Context)  # what the next answer reads again
    holding: float = 0.0  # worst cases of answers asked for and not yet billed, held in the allowance
    new_speech_s: float = 0.0  # microphone audio sent since the last answer was asked for
    cap_sent: int | None = None  # the cap the session was last told

    def cap(self, prices: Prices, max_output_tokens: int) -> int | None:
        """The most output tokens the next answer may spend within the allowance (0: none fits);
        None when the owner's money is not being spent."""
        if self.allowance is None:
            return None
        return answer_cap(self.allowance.left(), prices, self.context, max_output_tokens, self.new_speech_s)

    def why_not(self, prices: Prices) -> str:
        """Why not even a short answer fits, in words for the visitor."""
        worst = worst_answer_usd(prices, self.context, MIN_ANSWER_TOKENS, self.new_speech_s)
        why = self.allowance.why_not(worst) if self.allowance else None
        return why or SPEND_LIMIT_REACHED

    def asked(self, prices: Prices, cap: int | None) -> None:
        """An answer was asked for with `cap`: its worst case is held until it is billed."""
        if cap is not None and self.allowance is not None:
            worst = worst_answer_usd(prices, self.context, cap, self.new_speech_s)
            self.allowance.hold(worst)
            self.holding += worst
        self.new_speech_s = 0.0

    def release(self) -> None:
        """The answers asked for were billed, lost or will never be: their worst case is not held."""
        if self.allowance is not None and self.holding:
            self.allowance.release(self.holding)
        self.holding = 0.0

    def heard(self, seconds: float) -> float:
        """`seconds` of microphone audio went to the API: the next answer reads it; what its
        transcription costs (to be spent now, before it is billed)."""
        self.new_speech_s += seconds
        return transcription_cost({"type": "duration", "seconds": seconds}, protocol.TRANSCRIPTION_MODEL)

    def billed(self, usage: Usage) -> None:
        """An answer's usage arrived: the next answer reads this much again."""
        self.context = Context.after(usage)

    def spent(self, usd: float) -> None:
        """`usd` of the owner's money is gone."""
        if self.allowance is not None:
            self.allowance.spend(usd)
