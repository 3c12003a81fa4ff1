"""What a set costs: list prices per model (USD per 1M tokens) applied to `response.done` usage.

Prices checked on the OpenAI model pages on 2026-11-25. Override them with `COMEDY_PRICES`, a JSON
object such as `{"gpt-realtime-2.1": {"audio_out": 60}}`, without a code change.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from comedy.realtime.reading import Usage


@dataclass(frozen=True)
class Prices:
    """USD per 1M tokens."""

    audio_in: float
    audio_cached: float
    audio_out: float
    text_in: float
    text_cached: float
    text_out: float


_FULL = Prices(audio_in=32, audio_cached=0.40, audio_out=64, text_in=4, text_cached=0.40, text_out=24)
_MINI = Prices(audio_in=10, audio_cached=0.30, audio_out=20, text_in=0.60, text_cached=0.06, text_out=2.40)
LIST_PRICES: dict[str, Prices] = {
    "gpt-realtime-2.1": _FULL,
    "gpt-realtime-2.1-mini": _MINI,
    "gpt-realtime-2": _FULL,
    "gpt-realtime-1.5": replace(_FULL, text_out=16),
    "gpt-realtime": replace(_FULL, text_out=16),  # shuts down 2027-01-20
    "gpt-realtime-mini": _MINI,  # shuts down 2027-01-20
}
# Input transcription is billed apart from the session, per minute of audio (model pages, 2026-11-25).
TRANSCRIPTION_USD_PER_MINUTE: dict[str, float] = {"gpt-transcribe": 0.0045, "gpt-live-transcribe": 0.017}
REHEARSAL_PRICES = Prices(0, 0, 0, 0, 0, 0)


def price_table(environ: Mapping[str, str] | None = None) -> dict[str, Prices]:
    """The list prices with any `COMEDY_PRICES` overrides laid over them."""
    table = dict(LIST_PRICES)
    raw = (os.environ if environ is None else environ).get("COMEDY_PRICES", "").strip()
    if not raw:
        return table
    try:
        overrides = json.loads(raw)
        names = {f.name for f in fields(Prices)}
        for model, values in overrides.items():
            unknown = set(values) - names
            if unknown:
                raise ValueError(f"unknown price field(s) {sorted(unknown)} for {model}")
            base = table.get(model, _FULL)
            table[model] = replace(base, **{k: float(v) for k, v in values.items()})
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"COMEDY_PRICES is not valid: {exc}") from None
    return table


def prices_for(model: str, table: Mapping[str, Prices] | None = None) -> Prices:
    """A model's prices; a dated snapshot (`gpt-realtime-2025-08-28`) is priced as its family."""
    table = LIST_PRICES if table is None else table
    if model in table:
        return table[model]
    family = max((name for name in table if model.startswith(name + "-")), key=len, default=None)
    return table[family] if family else _FULL


def transcription_cost(usage: Mapping, model: str) -> float:
    """USD for one input transcription's usage: its seconds at the model's per-minute price.

    Models billed by tokens (`usage.type == "tokens"`, the retiring gpt-4o ones) are not priced.
    """
    per_minute = TRANSCRIPTION_USD_PER_MINUTE.get(model, 0.0)
    if usage.get("type") != "duration":
        return 0.0
    return max(0.0, float(usage.get("seconds") or 0.0)) / 60 * per_minute


def usage_cost(usage: Usage | Mapping, prices: Prices) -> float:
    """USD for one `response.done` usage (read with `reading.Usage`)."""
    u = usage if isinstance(usage, Usage) else Usage.read(usage)
    dollars = (
        (u.audio_in - u.audio_cached) * prices.audio_in
        + u.audio_cached * prices.audio_cached
        + (u.text_in - u.text_cached) * prices.text_in
        + u.text_cached * prices.text_cached
        + u.audio_out * prices.audio_out
        + u.text_out * prices.text_out
    )
    return dollars / 1_000_000


# A minute of set, for the estimate before the show: three bits of 15 s each, the visitor's 15 s
# of speech, and each answer reading again a conversation of ~1,500 text and ~1,500 audio tokens,
# half of them from the prompt cache (a five-minute set's average).
BITS_PER_MINUTE = 3
BIT_SECONDS = 15.0
VISITOR_SECONDS_PER_MINUTE = 15.0
CONTEXT_TOKENS = 1500
CACHED_SHARE = 0.5
TEXT_OUT_PER_BIT = 150  # the words said and a little reasoning


def per_minute(prices: Prices, transcription_model: str = "gpt-transcribe") -> float:
    """What a minute of set costs on these prices, about (USD): the figure shown before the show."""
    cached = int(CONTEXT_TOKENS * CACHED_SHARE)
    bit = Usage(
        audio_in=CONTEXT_TOKENS,
        audio_cached=cached,
        text_in=CONTEXT_TOKENS,
        text_cached=cached,
        audio_out=int(BIT_SECONDS * 20),  # a token per 50 ms
        text_out=TEXT_OUT_PER_BIT,
    )
    heard = transcription_cost(
        {"type": "duration", "seconds": VISITOR_SECONDS_PER_MINUTE}, transcription_model
    )
    return BITS_PER_MINUTE * usage_cost(bit, prices) + heard
