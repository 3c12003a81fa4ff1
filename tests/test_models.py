"""The models the club offers under a fixed clock, and what each costs."""

from __future__ import annotations

import datetime as dt

import pytest
from openai.types.realtime.realtime_session_create_request import RealtimeSessionCreateRequest

from comedy.money import pricing
from comedy.realtime import models

BEFORE = dt.date(2026, 11, 25)
LAST_DAY = dt.date(2027, 1, 19)
SHUTDOWN = dt.date(2027, 1, 20)


def test_the_dropdown_offers_2_1_first_and_the_retiring_ones_with_their_date() -> None:
    offered = models.choices(BEFORE)
    assert offered[:3] == [
        ("gpt-realtime-2.1", "gpt-realtime-2.1"),
        ("gpt-realtime-2.1-mini", "gpt-realtime-2.1-mini"),
        ("gpt-realtime-2", "gpt-realtime-2"),
    ]
    assert ("gpt-realtime (retires 2027-01-20)", "gpt-realtime") in offered
    assert ("gpt-realtime-mini (retires 2027-01-20)", "gpt-realtime-mini") in offered
    assert models.choices(LAST_DAY) == offered


def test_retiring_models_leave_the_list_on_their_shutdown_day() -> None:
    names = [name for _, name in models.choices(SHUTDOWN)]
    assert names == ["gpt-realtime-2.1", "gpt-realtime-2.1-mini", "gpt-realtime-2"]
    assert models.retired("gpt-realtime", SHUTDOWN) and not models.retired("gpt-realtime", LAST_DAY)
    assert models.usable("gpt-realtime-mini", SHUTDOWN) == models.DEFAULT_MODEL


def test_an_owner_model_is_listed_until_it_retires() -> None:
    assert ("gpt-realtime-2.1-2026-07-09", "gpt-realtime-2.1-2026-07-09") in models.choices(
        BEFORE, also="gpt-realtime-2.1-2026-07-09"
    )
    assert "gpt-realtime-2025-08-28" not in [
        n for _, n in models.choices(SHUTDOWN, "gpt-realtime-2025-08-28")
    ]


@pytest.mark.parametrize(
    ("name", "family", "reasons"),
    [
        ("gpt-realtime-2.1", "gpt-realtime-2.1", True),
        ("gpt-realtime-2.1-mini-2026-07-09", "gpt-realtime-2.1-mini", True),
        ("gpt-realtime-2", "gpt-realtime-2", True),
        ("gpt-realtime-2025-08-28", "gpt-realtime-2025-08-28", False),
        ("gpt-realtime-mini-2025-12-15", "gpt-realtime-mini-2025-12-15", False),
        ("gpt-realtime-2.5", None, False),  # unknown: not mistaken for the retiring gpt-realtime
    ],
)
def test_snapshots_belong_to_their_family(name: str, family: str | None, reasons: bool) -> None:
    found = models.find(name)
    assert (found.name if found else None) == family
    assert models.reasons(name) is reasons


def test_every_catalogued_model_is_one_the_sdk_names() -> None:
    sdk = set(RealtimeSessionCreateRequest.model_fields["model"].annotation.__args__[1].__args__)
    assert {m.name for m in models.CATALOGUE} <= sdk


def test_a_dated_snapshot_is_priced_as_its_own_family() -> None:
    assert pricing.prices_for("gpt-realtime-2025-08-28") == pricing.LIST_PRICES["gpt-realtime"]
    assert pricing.prices_for("gpt-realtime-2-2026-05-07") == pricing.LIST_PRICES["gpt-realtime-2"]
    assert (
        pricing.prices_for("gpt-realtime-2.1-mini-2026-07-09") == pricing.LIST_PRICES["gpt-realtime-2.1-mini"]
    )
    assert pricing.LIST_PRICES[models.DEFAULT_MODEL].text_out == 24


def test_transcription_is_priced_per_minute_apart_from_tokens() -> None:
    assert pricing.transcription_cost({"type": "duration", "seconds": 60}, "gpt-transcribe") == pytest.approx(
        0.0045
    )
    assert pricing.transcription_cost({"type": "tokens", "input_tokens": 10}, "gpt-transcribe") == 0
