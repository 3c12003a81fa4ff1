"""The price table (`comedy.money.pricing`)."""

from __future__ import annotations

import json

import pytest

from comedy.money import pricing
from comedy.realtime import protocol

SR = protocol.SAMPLE_RATE


def test_usage_cost_by_hand() -> None:
    usage = {
        "input_token_details": {
            "audio_tokens": 1000,
            "text_tokens": 2000,
            "cached_tokens_details": {"audio_tokens": 500, "text_tokens": 1000},
        },
        "output_token_details": {"audio_tokens": 3000, "text_tokens": 100},
    }
    prices = pricing.LIST_PRICES["gpt-realtime"]
    by_hand = (500 * 32 + 500 * 0.40 + 1000 * 4 + 1000 * 0.40 + 3000 * 64 + 100 * 16) / 1e6
    assert pricing.usage_cost(usage, prices) == pytest.approx(by_hand)
    mini = pricing.LIST_PRICES["gpt-realtime-mini"]
    assert (mini.audio_in, mini.audio_cached, mini.audio_out) == (10, 0.30, 20)
    assert (mini.text_in, mini.text_cached, mini.text_out) == (0.60, 0.06, 2.40)
    assert pricing.LIST_PRICES["gpt-realtime-2.1"].text_out == 24
    assert pricing.prices_for("gpt-realtime-mini-2025-12-15") == mini


def test_prices_are_overridable_from_the_environment() -> None:
    table = pricing.price_table({"COMEDY_PRICES": json.dumps({"gpt-realtime": {"audio_out": 60}})})
    assert table["gpt-realtime"].audio_out == 60 and table["gpt-realtime"].text_out == 16
    with pytest.raises(ValueError, match="COMEDY_PRICES"):
        pricing.price_table({"COMEDY_PRICES": '{"gpt-realtime": {"audio_price": 1}}'})


def test_the_estimate_before_the_show_follows_the_model_and_its_prices() -> None:
    full = pricing.per_minute(pricing.prices_for("gpt-realtime-2.1"))
    mini = pricing.per_minute(pricing.prices_for("gpt-realtime-2.1-mini"))
    assert 0.05 < full < 0.5 and mini < full / 2
    doubled = pricing.Prices(**{k: 2 * v for k, v in vars(pricing.prices_for("gpt-realtime-2.1")).items()})
    heard = pricing.transcription_cost({"type": "duration", "seconds": 15}, "gpt-transcribe")
    assert abs(pricing.per_minute(doubled) - heard - 2 * (full - heard)) < 1e-9
