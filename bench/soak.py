"""Figure 9: hostile visitors do not hurt the others. A soak of normal visitors, alone and then
with hostile ones mixed in, on one app process; normal visitors' first audio compared.

A normal visitor (the page's engine, as `engine.js` speaks it) opens a tab, starts a set and types
topics one after another, timing each from the button to the answer's first audio. A hostile one
(Gradio's HTTP protocol, as anyone can call it, private functions included) loops over what round
two of hardening closed: sets with a refused key and no heartbeat, 60,000-character audition lines,
a megabyte of topic, a WAV that claims 1 Hz, a 20 MB upload, and ten saves at once.

`python -m bench.soak [NORMAL] [HOSTILE] [SECONDS]` (default 20 + 10 for 60 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np

from bench.report import percentile, table
from bench.visitors import CHOICES, _rss_mb
from harness.engine_client import seat_with_engine
from harness.running import launch
from harness.visitor import Visitor

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["airports", "cats", "computers", "weddings", "the gym", "dentists"]
REFUSED_KEY = "sk-refused-0123456789abcdef"  # the rehearsal server answers it 401, as OpenAI would
TARGET_RATIO = 2.0


async def _normal(url: str, n: int, deadline: float, tally: dict) -> None:

    while time.monotonic() < deadline:
        try:
            async with Visitor(url) as visitor:
                engine = await seat_with_engine(visitor, CHOICES)
                try:
                    for k in range(3):
                        heard = len(engine.order)
                        asked = time.monotonic()
                        await visitor.call("tell", [TOPICS[(n + k) % len(TOPICS)], *CHOICES], timeout=60)
                        await engine.until(lambda h=heard, e=engine: len(e.order) > h, 60)
                        tally["first_audio_s"].append(engine.first_frame_at[engine.order[heard]] - asked)
                        await engine.until(lambda h=heard, e=engine: e.answered(h, 1.0), 60)
                finally:
                    await engine.close()
                await visitor.call("end", [], timeout=60)
        except Exception as exc:
            tally["errors"].append(f"normal: {type(exc).__name__}: {exc}"[:200])
        await asyncio.sleep(0.2)


async def _hostile(url: str, n: int, deadline: float, tally: dict) -> None:
    import httpx

    odd = (np.sin(np.arange(500)) * 8000).astype(np.int16)  # 1 KB that claims 1 Hz
    k = n
    while time.monotonic() < deadline:
        k += 1
        kind = k % 6
        try:
            async with Visitor(url, heartbeat=kind != 0) as visitor:
                if kind == 0:  # a refused key, no heartbeat: a seat grab
                    await visitor.call("use_key", [REFUSED_KEY])
                    await visitor.call("start", CHOICES)
                elif kind == 1:  # a 60,000-character audition line, new each time
                    line = f"{uuid.uuid4().hex} " + "ha " * 20_000
                    await visitor.call("audition_one", ["cedar", "witty", line, CHOICES[3]], timeout=90)
                elif kind == 2:  # a megabyte of topic
                    await visitor.call("tell", ["x" * 1_000_000, *CHOICES], timeout=60)
                    await visitor.call("end", [])
                elif kind == 3:  # a WAV that claims 1 Hz
                    await visitor.call("start", CHOICES)
                    await visitor.speak(odd, rate=1, chunk_s=500, realtime=False)
                    await visitor.call("end", [])
                elif kind == 4:  # a 20 MB upload
                    files = {"files": ("big.wav", b"\0" * (20 * 1024 * 1024), "audio/wav")}
                    async with httpx.AsyncClient(timeout=60) as http:
                        await http.post(f"{url.rstrip('/')}/gradio_api/upload", files=files)
                else:  # ten saves at once
                    await visitor.call("tell", ["cats", *CHOICES], timeout=60)
                    await asyncio.gather(*(visitor.call("save", [], timeout=90) for _ in range(10)))
                tally["attacks"] += 1
        except Exception as exc:
            tally["errors"].append(f"hostile {kind}: {type(exc).__name__}: {exc}"[:200])
        await asyncio.sleep(0.2)


async def _crowd(url: str, normal: int, hostile: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    tally = {"first_audio_s": [], "errors": [], "attacks": 0}

    async def arrive(n: int, who) -> None:
        await asyncio.sleep(n * 0.1)
        await who(url, n, deadline, tally)

    await asyncio.gather(
        *(arrive(n, _normal) for n in range(normal)),
        *(arrive(n, _hostile) for n in range(hostile)),
    )
    return tally


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 95) * 1000:.0f} ms"


def measure(running, normal: int, hostile: int, seconds: float) -> dict:
    """One soak against `running`, its visitors in a child process; the tally and the peak memory."""
    peak = _rss_mb()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.soak", "--crowd", running.url, str(normal), str(hostile), str(seconds)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    while child.poll() is None:
        peak = max(peak, _rss_mb())
        time.sleep(0.5)
    tally = json.loads(child.stdout.read())
    tally["rss_peak_mb"] = peak
    return tally


def run(normal: int = 20, hostile: int = 10, seconds: float = 60) -> dict:
    """Measure and print figure 9."""
    import contextlib

    results = {}
    for label, bad in (("normal only", 0), ("with hostile", hostile)):
        with contextlib.contextmanager(launch)(
            pace=1.0, COMEDY_MAX_SETS=str(2 * (normal + hostile))
        ) as running:
            running.rehearsal.server.refused_keys.add(REFUSED_KEY)
            results[label] = measure(running, normal, bad, seconds)
    alone, mixed = results["normal only"], results["with hostile"]
    p95 = [percentile(r["first_audio_s"], 95) for r in (alone, mixed)]
    ratio = p95[1] / p95[0] if p95[0] else float("inf")
    table(
        f"9. {normal} normal visitors for {seconds:g} s, alone and with {hostile} hostile ones "
        f"(target: normal first-audio p95 within {TARGET_RATIO:g}x)",
        ["run", "answers", "first audio p50 / p95", "attacks", "errors", "peak memory"],
        [
            (
                label,
                len(r["first_audio_s"]),
                _ms(r["first_audio_s"]),
                r["attacks"],
                len(r["errors"]),
                f"{r['rss_peak_mb']:.0f} MB",
            )
            for label, r in results.items()
        ]
        + [("ratio (floor)", "", f"p95 {ratio:.2f}x ({TARGET_RATIO:g}x)", "", "", "")],
    )
    for label, r in results.items():
        for error in sorted(set(r["errors"]))[:5]:
            print(f"  {label}: {error}")
    return {"results": results, "p95_ratio": ratio}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--crowd":
        url, normal, hostile, seconds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(asyncio.run(_crowd(url, normal, hostile, seconds))))
    else:
        args = [float(a) for a in sys.argv[1:4]]
        run(*(int(a) for a in args[:2]), *args[2:3])
