"""The model's think time: from `response.create` to the answer's first audio delta, for a short
spoken answer, by reasoning effort. With `OPENAI_API_KEY` set it measures the live API (a few
cents: `ANSWERS` short answers per effort); it always measures the rehearsal server, whose model
thinks as `comedy.rehearsal.thinking` says, so the two stand side by side. The live figures are
what `THINK_SECONDS` should hold.

`OPENAI_API_KEY=... python -m bench.think [ANSWERS]`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from bench.report import percentile, table
from comedy.config import DEFAULT_REALTIME_URL
from comedy.realtime import models, protocol
from comedy.realtime.reading import Kind
from comedy.realtime.session import RealtimeSession
from comedy.rehearsal import RehearsalServer
from comedy.rehearsal.thinking import THINK_SECONDS
from harness.sets import KEY

ANSWERS = 5
EFFORTS = ("minimal", "low", "medium")
ASK = "Say one short line to greet the room, then stop."


async def _think_times(url: str, key: str, effort: str, answers: int) -> list[float]:
    """Seconds from each `response.create` to its first audio delta."""
    times = []
    async with RealtimeSession(url, key, models.DEFAULT_MODEL) as session:
        await session.send(
            protocol.session_update(
                voice="marin", instructions="You are a stand-up comedian.", reasoning_effort=effort
            )
        )
        for _ in range(answers):
            asked = time.monotonic()
            await session.send(protocol.response_create(ASK))
            first = None
            async for event in session:
                kind = event.get("type")
                if kind == Kind.AUDIO_DELTA and first is None:
                    first = time.monotonic() - asked
                if kind == Kind.RESPONSE_DONE:
                    break
            if first is not None:
                times.append(first)
    return times


async def _measure(answers: int) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    async with RehearsalServer(pace=1.0) as server:
        for effort in EFFORTS:
            found[f"rehearsal, effort {effort}"] = await _think_times(server.url, KEY, effort, answers)
    key = os.environ.get("OPENAI_API_KEY")
    if key:
        url = os.environ.get("OPENAI_REALTIME_URL", DEFAULT_REALTIME_URL)
        for effort in EFFORTS:
            found[f"live {models.DEFAULT_MODEL}, effort {effort}"] = await _think_times(
                url, key, effort, answers
            )
    return found


def run(answers: int = ANSWERS) -> dict:
    """Measure and print the think times."""
    found = asyncio.run(_measure(answers))
    rows = []
    for label, values in found.items():
        effort = label.rsplit(" ", 1)[-1]
        rows.append(
            (
                label,
                len(values),
                f"{percentile(values, 50) * 1000:.0f} ms",
                f"{percentile(values, 95) * 1000:.0f} ms",
                f"{THINK_SECONDS[effort] * 1000:.0f} ms",
            )
        )
    if not os.environ.get("OPENAI_API_KEY"):
        rows.append(("live: skipped (no OPENAI_API_KEY)", "", "", "", ""))
    table(
        "The model's think time: response.create -> first audio delta",
        ["model", "answers", "p50", "p95", "modelled median"],
        rows,
    )
    return found


if __name__ == "__main__":
    run(*(int(a) for a in sys.argv[1:2]))
