"""Figure 11: the show starts at once. From pressing Start to the first sound reaching the page,
with the cached opener and with a fresh session (whose first sound is its first answer), over 20
starts each, through the engine's socket as the page opens it (then ~40 ms more to the speaker,
figure 7).

`python -m bench.opener [STARTS]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

from bench.report import percentile, table
from harness.engine_client import EngineClient
from harness.running import launch
from harness.visitor import CHOICES, Visitor

TARGET_S = 0.3
_club = contextlib.contextmanager(launch)


async def _first_sound(url: str, with_opener: bool) -> float:
    async with Visitor(url) as visitor:
        engine = await EngineClient(visitor).open()  # the click opens the socket and presses Start
        engine.play()
        pressed = time.monotonic()
        if with_opener:
            await visitor.call("start", CHOICES)
        else:  # a fresh session says nothing until asked: its first sound is the first answer
            await visitor.call("tell", ["airports", *CHOICES])
        await engine.until(lambda: engine.order, timeout=30)
        heard = engine.first_frame_at[engine.order[0]] - pressed
        await visitor.call("end", [])
        await engine.close()
        return heard


async def _measure(starts: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    with _club(pace=1.0, COMEDY_OPENERS="1") as running:
        async with Visitor(running.url) as warm:  # the opener for marin, witty: made once
            await warm.call("start", CHOICES)
            await asyncio.sleep(6)
            await warm.call("end", [])
        results["cached opener"] = [await _first_sound(running.url, True) for _ in range(starts)]
    with _club(pace=1.0) as running:
        results["fresh session (its first answer)"] = [
            await _first_sound(running.url, False) for _ in range(starts)
        ]
    return results


def run(starts: int = 20) -> dict:
    """Measure and print figure 11."""
    results = asyncio.run(_measure(starts))
    opener = results["cached opener"]
    rows = [
        (label, f"{percentile(v, 50) * 1000:.0f} ms", f"{percentile(v, 95) * 1000:.0f} ms")
        for label, v in results.items()
    ]
    ratio = percentile(opener, 95) / TARGET_S
    rows.append(("target (opener p95)", "", f"< {TARGET_S * 1000:.0f} ms ({ratio:.2f}x)"))
    table(f"11. Start -> first sound at the page, {starts} starts each", ["path", "p50", "p95"], rows)
    return results


if __name__ == "__main__":
    run(*(int(a) for a in sys.argv[1:2]))
