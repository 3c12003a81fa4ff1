"""Figure 4: many visitors at once on one app process.

The app (rehearsal mode, live pacing) runs in this process. The visitors run in a child process:
each streams a spoken question into the microphone in real time and waits for the spoken answer,
either through the page's audio engine (one WebSocket: 20 ms PCM16 frames up, speech frames down,
as `engine.js` does) or through Gradio's own channels (an upload and a POST per 100 ms microphone
chunk, the answer read from the HLS stream), as the browser does.
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
import soxr

from bench.report import percentile, table
from harness.engine_client import seat_with_engine
from harness.running import launch
from harness.speech import spoken
from harness.visitor import CHOICES, BrowserLikeTransport, Visitor

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process (user + system), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- the visitors (child process) ---------------------------------------------------------


async def _visit_engine(url: str, question: np.ndarray) -> dict:

    result = {"ok": False, "error": "", "chunks": 0, "answer_s": None}
    stage = "connect"
    try:
        async with Visitor(url) as visitor:
            stage = "start"
            engine = await seat_with_engine(visitor, CHOICES)
            start = time.monotonic()
            stage = "speak"
            mic = asyncio.create_task(
                engine.speak(np.concatenate([question, np.zeros(24_000 * 20, np.int16)]))
            )
            stage = "answer"
            try:
                await engine.until(lambda: engine.answered(0), 60)
            finally:
                mic.cancel()
            result["answer_s"] = time.monotonic() - start
            result["ok"] = True
            stage = "end"
            await visitor.call("end", [], timeout=60)
            await engine.close()
    except Exception as exc:
        result["error"] = f"{stage}: {type(exc).__name__}: {exc}"[:200]
    return result


async def _visit(url: str, question: np.ndarray, n: int) -> dict:

    result = {"ok": False, "error": "", "chunks": 0, "answer_s": None}
    stage = "connect"
    try:
        async with Visitor(url) as visitor:
            stage = "start"
            await visitor.take_a_seat(CHOICES)
            start = time.monotonic()
            stage = "speak"
            # An open microphone, as in a browser: the question, then the room until the answer comes.
            mic = asyncio.create_task(
                visitor.speak(np.concatenate([question, np.zeros(48_000 * 20, np.int16)]))
            )
            stage = "answer"
            try:
                async with asyncio.timeout(60):
                    while await visitor.segments_served() < 5:
                        if mic.done() and mic.exception():
                            raise mic.exception()
                        await asyncio.sleep(0.2)
            finally:
                mic.cancel()
            result["answer_s"] = time.monotonic() - start
            result["ok"] = True
            stage = "end"
            await visitor.call("end", [], timeout=60)
    except Exception as exc:
        result["error"] = f"{stage}: {type(exc).__name__}: {exc}"[:200]
    return result


def spoken_question(rate: int = 48_000) -> np.ndarray:
    """A visitor asking for a joke, as an int16 microphone hears it at `rate` (the engine's: 24 kHz)."""

    voice = spoken("tell me a joke about airports", silence_after=1.5)
    if rate == 24_000:
        return voice
    return (soxr.resample(voice.astype(np.float32) / 32768, 24_000, rate) * 32767).astype(np.int16)


async def _crowd(url: str, count: int, path: str) -> list[dict]:

    question = spoken_question(24_000 if path == "engine" else 48_000)

    async def staggered(n: int) -> dict:
        await asyncio.sleep(n * 0.05)  # visitors arrive over a few seconds, not in one instant
        if path == "engine":
            return await _visit_engine(url, question)
        return await _visit(url, question, n)

    start = time.monotonic()
    results = await asyncio.gather(*(staggered(n) for n in range(count)))
    wall = time.monotonic() - start
    for result in results:
        result["visitor_cpu_s"] = time.process_time()
        result["http_per_s"] = BrowserLikeTransport.requests / wall
    return results


# --- the app side (this process) ----------------------------------------------------------


IDLE_SECONDS = 3.0


def _round(running, count: int, path: str) -> dict:
    app_pid = os.getpid()
    server = running.rehearsal.server
    idle_from = _cpu_seconds(app_pid)
    time.sleep(IDLE_SECONDS)  # what the app spends with nobody in: Gradio's own background work
    idle_cpu_percent = 100 * (_cpu_seconds(app_pid) - idle_from) / IDLE_SECONDS
    before_rss, before_cpu = _rss_mb(), _cpu_seconds(app_pid)
    frames_before = len(running.app.engine.first_frames)
    start = time.monotonic()
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.visitors", "--crowd", running.url, str(count), path],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    peak_rss, encoders, encoder_cpu = before_rss, 0, {}
    handed: dict[str, float] = {}  # answer -> when its first audio went out; gathered while sets live
    club = running.app.club
    while child.poll() is None:
        for comedy_set in [*club.sets.values(), *club.ended.values()]:  # a closed tab takes its set
            handed.update(comedy_set.stage.speaker.first_heard)
        peak_rss = max(peak_rss, _rss_mb())
        kids = [p for p in _children(app_pid) if p != child.pid]  # ffmpeg AAC encoders, one per speaker
        encoders = max(encoders, len(kids))
        for pid in kids:
            with contextlib.suppress(OSError):
                encoder_cpu[pid] = _cpu_seconds(pid)
        time.sleep(0.5)
    wall = time.monotonic() - start
    results = json.loads(child.stdout.read())
    app_cpu = _cpu_seconds(app_pid) - before_cpu
    sent = dict(server.journal.first_audio_sent)
    if path == "engine":  # what the app adds: the server's first delta -> the first frame on the socket
        handed = dict(list(running.app.engine.first_frames)[frames_before:])
    added = [(when - sent[item]) * 1000 for item, when in handed.items() if item in sent]
    club.ended.clear()
    errors = [r["error"] for r in results if not r["ok"]]
    answer = [r["answer_s"] for r in results if r["answer_s"] is not None]
    cpu_percent = 100 * app_cpu / wall
    return {
        "path": path,
        "idle_cpu_percent": idle_cpu_percent,
        "cpu_per_visitor_percent": max(0.0, cpu_percent - idle_cpu_percent) / count,
        "http_per_s_per_visitor": max(r.get("http_per_s", 0) for r in results) / count,
        "visitors": count,
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "added_p95_ms": percentile(added, 95),
        "added_n": len(added),
        "answer_p50_s": percentile(answer, 50),
        "cpu_percent": cpu_percent,
        "rss_per_visitor_mb": (peak_rss - before_rss) / count,
        "wall_s": wall,
        "chunks": sum(r["chunks"] for r in results),
        "encoders": encoders,
        "encoder_cpu_percent": 100 * sum(encoder_cpu.values()) / wall,
        "visitor_cpu_percent": 100 * max(r.get("visitor_cpu_s", 0) for r in results) / wall,
    }


def run(counts: tuple[int, ...] = (10, 50), paths: tuple[str, ...] = ("engine", "gradio")) -> dict:
    """Measure and print figure 4: each crowd size on each path."""

    rounds = []
    for running in launch(pace=1.0, COMEDY_MAX_SETS="60"):
        for count in counts:
            for path in paths:
                rounds.append(_round(running, count, path))
    rows = [
        (
            "engine (WebSocket)" if r["path"] == "engine" else "Gradio's audio (HTTP + HLS)",
            r["visitors"],
            r["errors"],
            f"{r['added_p95_ms']:.1f} ms ({r['added_n']} answers)",
            f"{r['answer_p50_s']:.1f} s",
            f"{r['cpu_percent']:.0f} % (idle {r['idle_cpu_percent']:.0f} %; "
            f"{r['cpu_per_visitor_percent']:.2f} % per visitor above idle)",
            f"{r['http_per_s_per_visitor']:.1f}",
            f"{r['encoder_cpu_percent']:.0f} %",
            f"{r['visitor_cpu_percent']:.0f} %",
            f"{r['rss_per_visitor_mb']:.1f} MB",
            r["first_error"][:60],
        )
        for r in rounds
    ]
    table(
        "4. Visitors at once on one app process (target: 50 with no errors, p95 added latency < 50 ms); "
        "CPU as % of one core of the 2-core machine",
        [
            "path",
            "visitors",
            "errors",
            "p95 added first-audio latency",
            "question -> 0.5 s of answer, p50",
            "app CPU (with rehearsal server)",
            "HTTP requests/s per visitor",
            "ffmpeg encoders CPU",
            "simulated visitors CPU",
            "app memory per visitor",
            "first error",
        ],
        rows,
    )
    return {f"{r['path']}_{r['visitors']}": r for r in rounds}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--crowd":
        print(json.dumps(asyncio.run(_crowd(sys.argv[2], int(sys.argv[3]), sys.argv[4]))))
    else:
        run()
