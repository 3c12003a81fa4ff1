"""Figure 15: a crowd on laptop speakers. Twenty visitors whose comedians talk at once, each page
sending what it plays beside every microphone frame (the reference) and each microphone hearing the
comedian back through a laptop's room (`harness.laptop`, 0 dB coupling, 80 ms), against the same
crowd on headphones (the reference sent, no echo heard): the first audio of each answer, from the
topic typed to its first frame on the page (p50 / p95), the event loop's lag, the app's CPU, and
the hearing's CPU per second of a visitor's microphone (the echo canceller in its threads and the
ear on the loop), against its bar of 25 ms.

The app runs in this process (rehearsal mode, live pacing); the visitors in a child process, each a
page's player and microphone as `harness.laptop_page` plays them.

`python -m bench.crowd [VISITORS] [SECONDS]` (default 20 for 60 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.report import percentile, table
from bench.visitors import _cpu_seconds
from harness.engine_client import EngineClient
from harness.laptop import Laptop
from harness.laptop_page import LaptopPage
from harness.running import launch
from harness.visitor import CHOICES, Visitor

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["airports", "cats", "computers", "weddings", "the gym", "dentists", "trains", "coffee"]
RATIO_BAR = 1.5  # laptop first-audio p95 within this of headphones'
HEARING_BAR_MS = 25.0  # the hearing's CPU per second of a talking visitor's audio
LAG_EVERY = 0.05  # the loop probe's period


# --- the visitors (child process) ---------------------------------------------------------


async def _visitor(url: str, n: int, deadline: float, laptop: Laptop | None, tally: dict) -> None:
    await asyncio.sleep(n * 0.2)  # arriving over a few seconds
    try:
        async with Visitor(url) as visitor:
            await visitor.open_page()
            await visitor.call("start", CHOICES, timeout=60)
            engine = await EngineClient(visitor).open()
            page = LaptopPage(engine, laptop).start()
            try:
                k = n
                while time.monotonic() < deadline:
                    heard, asked = len(engine.order), time.monotonic()
                    await visitor.call("tell", [TOPICS[k % len(TOPICS)], *CHOICES], timeout=60)
                    await engine.until(lambda h=heard: len(engine.order) > h, 60)
                    tally["first_audio_s"].append(engine.first_frame_at[engine.order[heard]] - asked)
                    cuts = sum(t.get("type") == "cut" for t in engine.texts)
                    await engine.until(lambda c=cuts: _told(engine, c), 90)  # to its last sample, or cut
                    k += 1
            finally:
                await page.stop()
                await engine.close()
            await visitor.call("end", [], timeout=60)
    except Exception as exc:
        tally["errors"].append(f"{type(exc).__name__}: {exc}"[:200])


def _told(engine: EngineClient, cuts: int) -> bool:
    """Whether the latest answer has ended (or was cut: more than `cuts` so far) and what arrived
    has played on the page."""
    ended = {t.get("item") for t in engine.texts if t.get("type") == "end"}
    cut = sum(t.get("type") == "cut" for t in engine.texts) > cuts
    last = engine.order[-1]
    return (last in ended or cut) and all(engine.played[i] >= engine.arrived[i] for i in engine.order)


async def _crowd(url: str, visitors: int, seconds: float, on_laptop: bool) -> dict:
    tally: dict = {"first_audio_s": [], "errors": []}
    laptop = Laptop(0.0, 80.0) if on_laptop else None
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_visitor(url, n, deadline, laptop, tally) for n in range(visitors)))
    return tally


# --- the app side (this process) ----------------------------------------------------------


async def _probe(lags: list[float], stop: asyncio.Event) -> None:
    """How late the club's event loop wakes a task that sleeps `LAG_EVERY`."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(LAG_EVERY)
        lags.append(loop.time() - asked - LAG_EVERY)


def _sets_now(running, seen: dict[int, tuple]) -> None:
    """What each open set has heard so far (kept by set: a visitor who leaves takes theirs)."""
    for comedy_set in list(running.app.club.sets.values()):
        microphone = comedy_set.microphone
        seen[id(comedy_set)] = (
            microphone.cpu_seconds + comedy_set.ear_cpu_seconds,
            comedy_set.ear_cpu_seconds,
            microphone.seconds,
            microphone.echo.heard_playing,
            comedy_set.stage.barges,
        )


def measure(visitors: int, seconds: float, on_laptop: bool) -> dict:
    """One crowd against a fresh app."""
    with contextlib.contextmanager(launch)(pace=1.0, COMEDY_MAX_SETS=str(visitors + 5)) as running:
        loop = running.app.loop
        lags: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.run_coroutine_threadsafe(_probe(lags, stop), loop)
        started, cpu_before = time.monotonic(), _cpu_seconds(os.getpid())
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.crowd", "--crowd", running.url, str(visitors), str(seconds)]
            + (["laptop"] if on_laptop else []),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            text=True,
        )
        seen: dict[int, tuple] = {}
        while child.poll() is None:
            _sets_now(running, seen)
            time.sleep(0.5)
        wall = time.monotonic() - started
        app_cpu = _cpu_seconds(os.getpid()) - cpu_before
        loop.call_soon_threadsafe(stop.set)
        probe.result(10)
        tally = json.loads(child.stdout.read())
    cpu, ear, heard, playing, cuts = (sum(v) for v in zip(*seen.values(), strict=True)) if seen else (0,) * 5
    return {
        **tally,
        "lag_p95_ms": percentile(lags, 95) * 1000,
        "lag_max_ms": max(lags, default=0.0) * 1000,
        "app_cpu_percent": 100 * app_cpu / wall,
        "hearing_ms_per_s": 1000 * cpu / heard if heard else float("nan"),
        "ear_ms_per_s": 1000 * ear / heard if heard else float("nan"),
        "playing_share": playing / heard if heard else 0.0,
        "cuts": cuts,
    }


def alone(seconds: float = 30.0) -> float:
    """The hearing's CPU a second of one talking visitor's audio, alone on the machine: the
    comedian's answers come back through the laptop (0 dB, 80 ms) into the microphone, 20 ms
    frames with their reference, through the set's own microphone path and ear (as `ComedySet`
    runs them, minus the sockets); the least of five runs."""
    from comedy.realtime.protocol import SAMPLE_RATE
    from comedy.show.microphone_in import MicrophoneIn
    from comedy.sound import room, speech
    from comedy.sound.ear import Ear
    from harness.speech import spoken

    room.warm_up()
    speech.warm_up()
    said = [spoken(f"Let me tell you about {t}, because nothing is funnier than {t}.", "ash") for t in TOPICS]
    played = np.resize(np.concatenate(said), int(seconds * SAMPLE_RATE))
    mic = np.clip(np.round(Laptop(0.0, 80.0).echo(played)), -32768, 32767).astype(np.int16)
    frame, best = SAMPLE_RATE // 50, float("inf")
    for _ in range(5):
        microphone, ear, cpu = MicrophoneIn(), Ear(), 0.0
        for at in range(0, len(mic) - 5 * frame + 1, 5 * frame):  # as `MicrophoneIn.next` gathers them
            batch = [
                (SAMPLE_RATE, mic[i : i + frame], played[i : i + frame])
                for i in range(at, at + 5 * frame, frame)
            ]
            started = time.thread_time()
            ready = microphone.ready(batch)
            if len(ready.pcm):
                ear.heard(ready.pcm, at / SAMPLE_RATE, True, ready.settled, ready.linear, ready.near)
            cpu += time.thread_time() - started
        best = min(best, cpu / seconds)
    return best * 1000


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 95) * 1000:.0f} ms"


def run(visitors: int = 20, seconds: float = 60) -> dict:
    """Measure and print figure 15."""
    one = alone()
    results = {
        label: measure(visitors, seconds, laptop)
        for label, laptop in (("headphones", False), ("laptop", True))
    }
    base = percentile(results["headphones"]["first_audio_s"], 95)
    rows = []
    for label, r in results.items():
        ratio = percentile(r["first_audio_s"], 95) / base if base else float("nan")
        rows.append(
            (
                label,
                len(r["first_audio_s"]),
                _ms(r["first_audio_s"]),
                f"{ratio:.2f}x ({RATIO_BAR:g}x)",
                f"{r['lag_p95_ms']:.0f} / {r['lag_max_ms']:.0f} ms",
                f"{r['app_cpu_percent']:.0f} %",
                f"{r['hearing_ms_per_s']:.1f} ms ({r['hearing_ms_per_s'] / HEARING_BAR_MS:.2f}x); "
                f"the ear {r['ear_ms_per_s']:.1f} ms",
                f"{r['playing_share']:.0%}",
                r["cuts"],
                len(r["errors"]),
            )
        )
    table(
        f"15. {visitors} visitors whose comedians talk at once, {seconds:g} s, on headphones and on laptop "
        f"speakers (target: laptop first-audio p95 within {RATIO_BAR:g}x of headphones; the hearing "
        f"<= {HEARING_BAR_MS:g} ms of CPU a second of a talking visitor's audio); 2 cores",
        [
            "visitors on",
            "answers",
            "first audio p50 / p95",
            "p95 ratio (bar)",
            "event loop lag p95 / max",
            "app CPU (1 core = 100 %)",
            "hearing CPU a second of audio (bar)",
            "audio with the comedian playing",
            "cuts",
            "errors",
        ],
        rows,
    )
    table(
        "15b. The hearing's CPU a second of a talking visitor's audio (laptop, 0 dB), alone on the machine",
        ["the echo canceller and the ear, as the set runs them", "bar", "ratio"],
        [(f"{one:.1f} ms", f"{HEARING_BAR_MS:g} ms", f"{one / HEARING_BAR_MS:.2f}x")],
    )
    for label, r in results.items():
        for error in sorted(set(r["errors"]))[:3]:
            print(f"  {label}: {error}")
    return {**results, "alone_ms_per_s": one}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--crowd":
        url, count, seconds = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        print(json.dumps(asyncio.run(_crowd(url, count, seconds, "laptop" in sys.argv[5:]))))
    else:
        run(*(int(a) for a in sys.argv[1:2]), *(float(a) for a in sys.argv[2:3]))
