"""The cost and latency meters (`comedy.money.meters`) against what the rehearsal server reported."""

from __future__ import annotations

import pytest

from comedy import prompts
from comedy.money import pricing
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from harness.sets import Listener, endpoint, until

SR = protocol.SAMPLE_RATE


async def test_meters_equal_the_usage_the_server_sent(server: RehearsalServer) -> None:
    comedy_set = ComedySet(endpoint(server), prompts.SetUp(), prices=pricing.prices_for("gpt-realtime"))
    await comedy_set.start()
    listener = Listener(comedy_set)
    for answers, topic in enumerate(("cats", "work"), start=1):
        await comedy_set.tell(topic)
        await until(lambda n=answers: comedy_set.stage.meters.answers == n == len(server.journal.usages))
        await until(lambda n=answers: len(comedy_set.stage.meters.latencies_s) == n, what="its latency")
        item = comedy_set.stage.speaker.last_item
        await until(
            lambda i=item: comedy_set.stage.speaker.played.get(i) == comedy_set.stage.speaker.received.get(i),
            what="the answer to play out",
        )
    listener.task.cancel()
    await comedy_set.close()
    usages = list(server.journal.usages)
    assert comedy_set.stage.meters.answers == len(usages) == 2
    expected = sum(pricing.usage_cost(u, pricing.LIST_PRICES["gpt-realtime"]) for u in usages)
    assert comedy_set.stage.meters.cost_usd == pytest.approx(expected) and expected > 0
    out_audio = sum(u["output_token_details"]["audio_tokens"] for u in usages)
    assert comedy_set.stage.meters.tokens["audio_out"] == out_audio
    assert all(0 <= x < 5 for x in comedy_set.stage.meters.latencies_s)
    assert "median" in comedy_set.stage.meters.summary()
