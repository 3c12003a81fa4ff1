"""Figure 2: latency the app adds between the server's first audio delta and the speaker.

In-process: the rehearsal server stamps when it sends an answer's first delta; the set stamps when
it hands that answer's first audio to Gradio (the speaker generator's yield). Same clock, same
process. Then the whole web path: the same first delta to the first AAC bytes a visitor fetches
from Gradio's HLS stream.
"""

from __future__ import annotations

import asyncio
import time

from bench.report import percentile, table
from comedy import prompts
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from comedy.web import gradio_speech
from harness.running import launch
from harness.visitor import Visitor, choices

ANSWERS = 100
PARALLEL_SETS = 10


async def _one_set(server: RehearsalServer, answers: int, added: list[float]) -> None:
    comedy_set = ComedySet(Endpoint(server.url, "bench", True), prompts.SetUp(voice="alloy"))
    await comedy_set.start()

    async def play() -> None:
        async for _ in gradio_speech.chunks(comedy_set):
            pass

    player = asyncio.create_task(play())
    topics = ["cats", "work", "airports", "food", "weather", "dating", "music", "science", "dogs", "ai"]
    for n in range(answers):
        await comedy_set.tell(topics[n % len(topics)])
        async with asyncio.timeout(60):
            while not (
                comedy_set.stage.status.endswith("your turn")
                and comedy_set.stage.speaker.last_item
                and comedy_set.stage.speaker.played.get(comedy_set.stage.speaker.last_item)
                == comedy_set.stage.speaker.received.get(comedy_set.stage.speaker.last_item)
            ):
                await asyncio.sleep(0.02)
        sent = dict(server.journal.first_audio_sent)
        item = comedy_set.stage.speaker.last_item
        added.append(comedy_set.stage.speaker.first_heard[item] - sent[item])
    player.cancel()
    await comedy_set.close()


async def in_process(answers: int = ANSWERS, parallel: int = PARALLEL_SETS) -> list[float]:
    """Added latency (s) for `answers` answers over `parallel` live sets."""
    added: list[float] = []
    async with RehearsalServer(pace=1.0) as server:
        await asyncio.gather(*(_one_set(server, answers // parallel, added) for _ in range(parallel)))
    return added


async def web_path(answers: int = 8) -> list[tuple[float, float]]:
    """(first delta -> first yield, first delta -> first AAC bytes at a visitor) per answer."""

    results = []
    for running in launch(pace=1.0):
        server = running.rehearsal.server
        async with Visitor(running.url) as visitor:
            await visitor.join("speaker", [])
            for n in range(answers):
                seen_segments = await visitor.segments_served()
                await visitor.call(
                    "tell",
                    [f"topic {n}", *choices(voice="alloy")],
                )
                got = None
                async with asyncio.timeout(30):
                    while got is None:
                        if await visitor.segments_served() > seen_segments:
                            got = time.monotonic()
                        else:
                            await asyncio.sleep(0.01)
                comedy_set = running.app.club.sets[visitor.session_hash]
                async with asyncio.timeout(30):
                    while not comedy_set.stage.status.endswith("your turn"):
                        await asyncio.sleep(0.05)
                item = comedy_set.stage.speaker.last_item
                sent = dict(server.journal.first_audio_sent)[item]
                results.append((comedy_set.stage.speaker.first_heard[item] - sent, got - sent))
                await asyncio.sleep(7)  # let the answer play out before the next
    return results


def run(answers: int = ANSWERS, web_answers: int = 8) -> dict:
    """Measure and print figure 2."""
    added = asyncio.run(in_process(answers))
    web = asyncio.run(web_path(web_answers))
    ms = [x * 1000 for x in added]
    yield_ms = [a * 1000 for a, _ in web]
    web_ms = [b * 1000 for _, b in web]
    table(
        f"2. Added latency: server's first delta -> audio handed on (target p95 < 5 ms; {len(ms)} answers, "
        f"{PARALLEL_SETS} live sets at once)",
        ["path", "p50 ms", "p95 ms", "max ms", "answers"],
        [
            (
                "first delta -> first yield to Gradio (in process)",
                percentile(ms, 50),
                percentile(ms, 95),
                max(ms),
                len(ms),
            ),
            (
                "first delta -> first yield, web run",
                percentile(yield_ms, 50),
                percentile(yield_ms, 95),
                max(yield_ms),
                len(yield_ms),
            ),
            (
                "first delta -> first AAC bytes at a visitor (HLS)",
                percentile(web_ms, 50),
                percentile(web_ms, 95),
                max(web_ms),
                len(web_ms),
            ),
        ],
    )
    return {
        "added_p50_ms": percentile(ms, 50),
        "added_p95_ms": percentile(ms, 95),
        "web_p50_ms": percentile(web_ms, 50),
    }


if __name__ == "__main__":
    run()
