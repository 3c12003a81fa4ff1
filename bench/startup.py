"""Figure 5: cold start. `python app.py` to the page answering, and to the first joke's audio."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.report import table
from harness.visitor import CHOICES, Visitor

ROOT = Path(__file__).resolve().parents[1]
FIRST_CHUNK = (
    "import time, numpy as np; t = time.perf_counter(); from comedy.sound.audio import MicrophonePath; "
    "MicrophonePath().feed(48000, np.zeros(4800, np.int16)); print(time.perf_counter() - t)"
)


ROOM_READER = (
    "import time; t = time.perf_counter(); import comedy.sound.room as room; i = time.perf_counter() - t; "
    "f = room.warm_up(); w = room.warm_up(); print(i, f, w)"
)


def _in_a_fresh_process(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _first_joke(url: str) -> tuple[float, float]:
    """(request -> status back, request -> first AAC bytes in the visitor's HLS stream)."""

    async with Visitor(url) as visitor:
        await visitor.join("speaker", [])
        start = time.monotonic()
        await visitor.call("tell", ["cats", *CHOICES])
        answered = time.monotonic() - start
        async with asyncio.timeout(30):
            while not await visitor.segments_served():
                await asyncio.sleep(0.01)
            return answered, time.monotonic() - start


def run() -> dict:
    """Start the app cold, twice; print figure 5."""
    first_chunk = float(_in_a_fresh_process(FIRST_CHUNK))
    room_import, room_first, room_warm = (float(v) for v in _in_a_fresh_process(ROOM_READER).split())
    rows, worst_page, worst_audio = [], 0.0, 0.0
    for attempt in (1, 2):
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
        env.update(GRADIO_SERVER_PORT=str(port), PYTHONPATH=str(ROOT))
        start = time.monotonic()
        app = subprocess.Popen(
            [sys.executable, "app.py"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            while True:
                try:
                    if httpx.get(url, timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - start > 60:
                    raise RuntimeError("the app did not answer within 60 s")
                time.sleep(0.05)
            page = time.monotonic() - start
            answered, audio = asyncio.run(_first_joke(url))
        finally:
            app.terminate()
            app.wait(10)
        worst_page, worst_audio = max(worst_page, page), max(worst_audio, audio)
        rows.append(
            (f"start {attempt}", f"{page:.2f} s", f"{answered * 1000:.0f} ms", f"{audio * 1000:.0f} ms")
        )
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import gradio"], check=True)
    floor = time.monotonic() - start
    rows.append(("floor: python -c 'import gradio'", f"{floor:.2f} s", "", ""))
    rows.append(
        ("first mic chunk in a fresh process (import + resample)", "", "", f"{first_chunk * 1000:.0f} ms")
    )
    rows.append(
        (
            "the room reader (librosa) in a fresh process: import, first reading, the next "
            "(the app pays the first in the background at start-up)",
            f"{room_import:.2f} s",
            f"{room_first:.2f} s",
            f"{room_warm * 1000:.0f} ms",
        )
    )
    table(
        "5. Cold start (targets: page < 5 s; first audio < 1 s after the first request)",
        ["run", "python app.py -> page answers", "tell -> reply", "tell -> first AAC bytes"],
        rows,
    )
    return {"page_s": worst_page, "first_audio_s": worst_audio, "import_gradio_s": floor}


if __name__ == "__main__":
    run()
