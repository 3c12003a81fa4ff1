"""Limits a Space owner sets: set length, idle sets, spend per set and per day, sets at once."""

from __future__ import annotations

import asyncio

import pytest

from comedy import prompts
from comedy.config import Settings
from comedy.money import pricing
from comedy.money.budget import MIN_ANSWER_TOKENS, Budget
from comedy.money.spend import Spend
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint, Limits
from tests.conftest import KEY


async def _until(check, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def test_limits_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "COMEDY_IDLE_SECONDS": "60",
            "COMEDY_MAX_SET_USD": "0.5",
            "COMEDY_MAX_DAY_USD": "20",
            "COMEDY_MAX_SET_SECONDS": "120",
        },
        dotenv_path=None,
    )
    assert (settings.idle_seconds, settings.max_set_usd, settings.max_day_usd) == (60, 0.5, 20)
    assert settings.max_set_seconds == 120


async def test_an_idle_set_is_closed_with_a_message(server: RehearsalServer) -> None:
    comedy_set = ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp(), limits=Limits(idle_seconds=0.5))
    await comedy_set.start()
    await _until(lambda: comedy_set.closed)
    assert "quiet" in comedy_set.stage.status and not comedy_set.connected


async def test_a_set_ends_at_its_length_limit(server: RehearsalServer) -> None:
    comedy_set = ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp(), limits=Limits(max_seconds=0.5))
    await comedy_set.start()
    await _until(lambda: comedy_set.closed)
    assert "limit" in comedy_set.stage.status


async def _joke_until_closed(comedy_set: ComedySet, most: int = 40) -> None:
    await comedy_set.start()
    for n in range(most):
        if comedy_set.closed:
            return
        answers = comedy_set.stage.meters.answers
        await comedy_set.tell(f"topic {n}")
        await _until(
            lambda before=answers: (
                comedy_set.closed
                or (
                    comedy_set.stage.meters.answers > before and comedy_set.stage.status.endswith("your turn")
                )
            )
        )
    raise AssertionError("the set never reached its limit")


async def test_spend_limits_per_visitor_and_per_day_hold_before_each_answer(server: RehearsalServer) -> None:
    budget = Budget(max_visitor_usd=0.05, max_day_usd=0.08)
    owner = Endpoint(server.url, KEY, False)  # the owner's key pays: the rehearsal server stands in
    first = ComedySet(owner, prompts.SetUp(), limits=Limits(allowance=budget.allowance("a")))
    await _joke_until_closed(first)
    assert "spend limit of $0.05" in first.stage.status and first.stage.transcript  # the transcript is kept
    assert budget.by_visitor["a"] == pytest.approx(first.stage.meters.cost_usd)
    assert 0 < budget.by_visitor["a"] <= 0.05  # never past it
    second = ComedySet(owner, prompts.SetUp(), limits=Limits(allowance=budget.allowance("b")))
    await _joke_until_closed(second)
    assert "today's spend limit ($0.08)" in second.stage.status
    assert budget.total <= 0.08
    await first.close()
    await second.close()


async def test_the_60_minute_session_limit_gives_a_fresh_session_and_the_set_goes_on(
    server: RehearsalServer,
) -> None:
    server.conduct.max_session_seconds = 1.0  # the real API's 60 minutes, shortened
    comedy_set = ComedySet(Endpoint(server.url, KEY, True), prompts.SetUp())
    await comedy_set.start()
    await comedy_set.tell("cats")
    await _until(lambda: "your turn" in comedy_set.stage.status)
    await _until(lambda: server.journal.connections == 2)  # the session expired and a new one opened
    await _until(lambda: "Connected again" in comedy_set.stage.status)
    assert "maximum duration" in comedy_set.stage.last_error
    await comedy_set.tell("dogs")
    await _until(
        lambda: (
            "your turn" in comedy_set.stage.status
            and len([t for t in comedy_set.stage.transcript if t.role == "assistant"]) >= 2
        )
    )
    await comedy_set.close()
    assert comedy_set.stage.transcript[0].text == "Tell me a joke about cats."  # the transcript survived


async def test_the_house_comedian_covers_while_openai_is_away(server: RehearsalServer) -> None:
    server.conduct.faults.drop_after_deltas = 3
    live = Endpoint(server.url, KEY, False)  # as if OpenAI: the rehearsal server stands in
    comedy_set = ComedySet(live, prompts.SetUp(voice="verse"))
    await comedy_set.start()
    await comedy_set.tell("work")
    await _until(lambda: any(t.note == "house comedian covers" for t in comedy_set.stage.transcript))
    await _until(
        lambda: (
            "your turn" in comedy_set.stage.status
            and any(t.role == "assistant" and t.text and not t.note for t in comedy_set.stage.transcript)
        ),
        timeout=20,
    )
    await comedy_set.close()
    cover = next(t for t in comedy_set.stage.transcript if t.note == "house comedian covers")
    assert cover.text.startswith("While my writer reconnects")


def test_a_sets_spend_holds_each_answers_worst_case_until_it_is_billed() -> None:
    budget = Budget(max_visitor_usd=0.05, max_day_usd=1.0)
    allowance = budget.allowance("v")
    prices = pricing.prices_for("gpt-realtime-2.1")
    money = Spend(allowance)
    free = money.cap(prices, 4096)
    assert free and free > MIN_ANSWER_TOKENS
    money.asked(prices, free)  # an answer asked for: its worst case is held
    assert money.holding > 0 and allowance.left() == pytest.approx(0.05 - money.holding)
    assert money.cap(prices, 4096) < free  # the next answer fits in what is left
    money.release()  # billed (or lost): nothing held any more
    assert money.holding == 0 and allowance.left() == pytest.approx(0.05)
    assert money.heard(60.0) > 0 and money.new_speech_s == 60.0  # a minute transcribed costs
    money.spent(0.05)
    assert money.cap(prices, 4096) == 0 and "limit" in money.why_not(prices).lower()
    assert Spend(None).cap(prices, 4096) is None  # not the owner's money: nothing to count
