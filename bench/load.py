"""Figure 8: a crowd for minutes on one app process, and what it leaves behind.

Each simulated visitor (tests/visitor.py: Gradio's HTTP protocol as the browser speaks it, with the
page's heartbeat; its microphone and speaker through the page's audio engine, one WebSocket as
`engine.js` uses it, or through Gradio's own audio) comes back again and again until time is up: it
opens a tab, starts a set, asks a question into the microphone and waits for the spoken answer,
types a topic (which cuts the joke being told) and waits for that answer, then either ends the
set or just closes the tab mid-set. The app process counts its sockets, asyncio tasks, threads,
ffmpeg encoders, rehearsal connections and sets still in memory before and after.

`python -m bench.load [VISITORS] [SECONDS]` (default 50 visitors for 300 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench.report import percentile, table
from bench.visitors import CHOICES, _children, _rss_mb, spoken_question
from harness.engine_client import seat_with_engine
from harness.running import launch
from harness.visitor import Visitor

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["airports", "cats", "computers", "weddings", "the gym", "dentists"]
POOLS = (
    "AnyIO worker thread",
    "asyncio_",
    "ThreadPoolExecutor",
    "hearing",
)  # idle workers pools keep (bounded)


# --- what the app process holds ------------------------------------------------------------


def sockets() -> int:
    """Open sockets of this process, from /proc."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def threads() -> int:
    """Threads that are not idle pool workers."""
    return sum(1 for t in threading.enumerate() if not t.name.startswith(POOLS))


def live_objects(kind: type) -> int:
    """Instances of `kind` still in memory after a collection."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if issubclass(type(o), kind))  # type(): no dead proxies


def tasks() -> int:
    """Unfinished asyncio tasks on every event loop of this process (Gradio's, the rehearsal's)."""
    return sum(1 for o in gc.get_objects() if issubclass(type(o), asyncio.Task) and not o.done())


def cached_files(running) -> tuple[int, int]:
    """Files Gradio keeps for the app (every microphone chunk is an upload), and their bytes."""
    sizes = []
    for files in running.demo.temp_file_sets:
        for name in list(files):
            with contextlib.suppress(FileNotFoundError):  # the sweep may take it meanwhile
                sizes.append(os.stat(name).st_size)
    return len(sizes), sum(sizes)


def holdings(running) -> dict[str, int]:
    """Everything a visitor could leave behind, counted."""
    from comedy.realtime.session import RealtimeSession
    from comedy.show.comedy_set import ComedySet

    club = running.app.club
    return {
        "sockets": sockets(),
        "tasks": tasks(),
        "threads": threads(),
        "encoders": len(_children(os.getpid())),
        "rehearsal connections": running.rehearsal.server.open_connections,
        "sets in memory": live_objects(ComedySet),
        "sessions in memory": live_objects(RealtimeSession),
        "club records": len(club.sets) + len(club.ended) + club.leaving + len(running.app.visitor_keys),
        "visitors remembered": len(running.app.last_seen),
        "engine sockets": len(running.app.engine.sockets),
        "engine tokens": len(running.app.engine.tokens),
        "downloads": len(list(running.app.downloads.iterdir())),
        "cached files": cached_files(running)[0],
    }


KEEP_FILES_S = 20  # shorter than the app's default of 10 minutes, so the run sees them go
SOCKET_SLACK = 2  # uvicorn may keep a keep-alive connection or two for a few seconds


def leaks(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What grew, and by how much."""
    grown = {k: after[k] - before[k] for k in before if after[k] > before[k]}
    if grown.get("sockets", 0) <= SOCKET_SLACK:
        grown.pop("sockets", None)
    return grown


# --- the visitors (child process) ----------------------------------------------------------


async def _answer(visitor, heard: int, timeout: float = 60) -> int:
    """Wait until the speaker stream has served 0.5 s more than `heard` segments; return the count."""
    async with asyncio.timeout(timeout):
        while (count := await visitor.segments_served()) < heard + 5:
            await asyncio.sleep(0.3)
        return count


async def _tab(url: str, question: np.ndarray, n: int, tab: int, tally: dict) -> None:

    rng = np.random.default_rng(n * 1000 + tab)
    stage = "open"
    try:
        async with Visitor(url) as visitor:
            stage = "start"
            await visitor.take_a_seat(CHOICES)
            tally["sets"] += 1
            stage = "speak"
            asked = time.monotonic()
            heard_it = asyncio.Event()  # the visitor stops recording once the answer comes
            room = np.concatenate([question, np.zeros(48_000 * 20, np.int16)])
            room += rng.integers(-2, 3, len(room), dtype=np.int16)  # a real room: no two chunks alike
            mic = asyncio.create_task(visitor.speak(room, until=heard_it))
            try:
                heard = await _answer(visitor, 0)
            finally:
                heard_it.set()
            await mic
            tally["answer_s"].append(time.monotonic() - asked)
            tally["answers"] += 1
            stage = "tell"  # mid-joke: the comedian drops it and takes the topic
            topic = TOPICS[(n + tab) % len(TOPICS)]
            await visitor.call("tell", [topic, *CHOICES], timeout=60)
            await _answer(visitor, heard)
            tally["answers"] += 1
            if tab % 2 == 0:
                stage = "end"
                await visitor.call("end", [], timeout=60)
                stage = "save"
                await visitor.call("save", [], timeout=60)
            # else the tab just closes mid-set, as most visitors leave
    except Exception as exc:
        tally["errors"].append(f"{stage}: {type(exc).__name__}: {exc}"[:200])


async def _tab_engine(url: str, question: np.ndarray, n: int, tab: int, tally: dict) -> None:
    """The same tab as `_tab`, its microphone and speaker through the page's engine."""

    rng = np.random.default_rng(n * 1000 + tab)
    stage = "open"
    try:
        async with Visitor(url) as visitor:
            stage = "start"
            engine = await seat_with_engine(visitor, CHOICES)
            tally["sets"] += 1
            try:
                stage = "speak"
                asked = time.monotonic()
                room = np.concatenate([question, np.zeros(24_000 * 20, np.int16)])
                room += rng.integers(-2, 3, len(room), dtype=np.int16)
                mic = asyncio.create_task(engine.speak(room))
                try:
                    await engine.until(lambda: engine.answered(0), 60)
                finally:
                    mic.cancel()
                tally["answer_s"].append(time.monotonic() - asked)
                tally["answers"] += 1
                stage = "tell"  # mid-joke: the comedian drops it and takes the topic
                heard = len(engine.order)
                await visitor.call("tell", [TOPICS[(n + tab) % len(TOPICS)], *CHOICES], timeout=60)
                await engine.until(lambda: engine.answered(heard), 60)
                tally["answers"] += 1
                if tab % 2 == 0:
                    stage = "end"
                    await visitor.call("end", [], timeout=60)
                    stage = "save"
                    await visitor.call("save", [], timeout=60)
            finally:
                await engine.close()
            # else the tab just closes mid-set, as most visitors leave
    except Exception as exc:
        tally["errors"].append(f"{stage}: {type(exc).__name__}: {exc}"[:200])


async def _crowd(url: str, count: int, seconds: float, path: str = "engine") -> list[dict]:
    question = spoken_question(24_000 if path == "engine" else 48_000)  # the engine's worklet sends 24 kHz
    deadline = time.monotonic() + seconds

    async def visitor(n: int) -> dict:
        tally = {"tabs": 0, "sets": 0, "answers": 0, "errors": [], "answer_s": []}
        await asyncio.sleep(n * 0.1)  # they arrive over a few seconds, not in one instant
        while time.monotonic() < deadline:
            tally["tabs"] += 1
            tab = _tab_engine if path == "engine" else _tab
            await tab(url, question, n, tally["tabs"], tally)
            await asyncio.sleep(0.5)
        return tally

    return await asyncio.gather(*(visitor(n) for n in range(count)))


# --- the app side (this process) -----------------------------------------------------------


def measure(running, visitors: int, seconds: float, settle: float = 60, path: str = "engine") -> dict:
    """Run the crowd against `running`; return its tally and the holdings before and after."""
    time.sleep(1)
    before = holdings(running)
    rss_before, peak = _rss_mb(), _rss_mb()
    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "--crowd", running.url, str(visitors), str(seconds), path],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    most_sets, most_files, most_bytes, looked = 0, 0, 0, 0.0
    while child.poll() is None:
        peak = max(peak, _rss_mb())
        open_sets = list(running.app.club.sets.values())  # one step: the app's thread changes the dict
        most_sets = max(most_sets, sum(not s.closed for s in open_sets))
        if time.monotonic() - looked > 5:
            files, size = cached_files(running)
            most_files, most_bytes, looked = max(most_files, files), max(most_bytes, size), time.monotonic()
        time.sleep(0.5)
    wall = time.monotonic() - start
    tallies = json.loads(child.stdout.read())
    # Closed tabs are noticed at once; uploads go once they are older than the app keeps files.
    deadline = time.monotonic() + settle
    while True:
        after = holdings(running)
        if not leaks(before, after) or time.monotonic() > deadline:
            break
        time.sleep(1)
    errors = [e for t in tallies for e in t["errors"]]
    answers = [s for t in tallies for s in t["answer_s"]]
    return {
        "path": path,
        "visitors": visitors,
        "wall_s": wall,
        "most_sets_at_once": most_sets,
        "most_cached_files": most_files,
        "most_cached_mb": most_bytes / 1e6,
        "tabs": sum(t["tabs"] for t in tallies),
        "sets": sum(t["sets"] for t in tallies),
        "answers": sum(t["answers"] for t in tallies),
        "errors": errors,
        "answer_p50_s": percentile(answers, 50),
        "answer_p95_s": percentile(answers, 95),
        "rss_before_mb": rss_before,
        "rss_peak_mb": peak,
        "rss_after_mb": _rss_mb(),
        "before": before,
        "after": after,
        "leaks": leaks(before, after),
    }


def run(visitors: int = 50, seconds: float = 300) -> dict:
    """Measure and print figure 8."""

    for running in launch(pace=1.0, COMEDY_MAX_SETS="60", COMEDY_KEEP_FILES_SECONDS=str(KEEP_FILES_S)):
        result = measure(running, visitors, seconds)
    r = result
    table(
        f"8. {visitors} visitors coming and going for {seconds / 60:g} minutes on one app process, "
        f"through {'the engine' if r['path'] == 'engine' else 'Gradio audio'} "
        "(target: no errors, nothing left behind)",
        ["visitors", "wall", "tabs", "sets", "answers heard", "errors", "answer p50 / p95", "memory"],
        [
            (
                visitors,
                f"{r['wall_s']:.0f} s",
                r["tabs"],
                r["sets"],
                r["answers"],
                len(r["errors"]),
                f"{r['answer_p50_s']:.1f} / {r['answer_p95_s']:.1f} s",
                f"{r['rss_before_mb']:.0f} -> peak {r['rss_peak_mb']:.0f} -> {r['rss_after_mb']:.0f} MB",
            )
        ],
    )
    table(
        "8b. What the process holds before and after the crowd",
        ["", *r["before"]],
        [("before", *r["before"].values()), ("after", *r["after"].values())],
    )
    print(
        f"Most sets at once: {r['most_sets_at_once']}; most files cached: {r['most_cached_files']} "
        f"({r['most_cached_mb']:.0f} MB, kept {KEEP_FILES_S} s); leaks: {r['leaks'] or 'none'}"
    )
    for error in r["errors"][:5]:
        print("error:", error)
    return {"load": r}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--crowd":
        url, count, seconds, path = sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
        print(json.dumps(asyncio.run(_crowd(url, count, seconds, path))))
    else:
        args = [float(a) for a in sys.argv[1:3]]
        run(int(args[0]) if args else 50, args[1] if len(args) > 1 else 300)
