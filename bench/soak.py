"""Figure 9: hostile visitors do not hurt the others. A soak of normal visitors, alone and then
with hostile ones mixed in, on one app process; normal visitors' first audio compared.

A normal visitor (the page's engine, as `engine.js` speaks it) opens a tab, starts a set and types
topics one after another, timing each from the button to the answer's first audio. A hostile one
of round two (Gradio's HTTP protocol, as anyone can call it, private functions included) loops
over what round two of hardening closed: sets with a refused key and no heartbeat, voice previews,
a megabyte of topic, a WAV that claims 1 Hz, a 20 MB upload, and ten saves at once. One of round
three attacks the engine's socket: a microphone flood (speech sent as fast as the socket goes), a
frame that inflates to 16 MiB, oversized frames and unreadable reports (100,000 deep, 1e400,
-Infinity), a storm of token requests, twenty idle sockets held open, and a socket from another
site's page. One of round four goes for the queue and the takes: one session joining the show's
stream sixty times with no page, pageless sessions asking for every voice's preview and flipping
the dropdowns, a page asking for ten previews at once, a hundred battles voted on at once, 1-sample
microphone frames flat out, and a page sending the reference of speech it was never sent. The
moment the attackers stop, a new visitor presses Start: how long it waits is in the figure.

The app runs live on an owner key (pointed at the rehearsal server, which bills at list prices)
with a spend cap per visitor: the figure says what the most any one visitor spent was, beside it.

`python -m bench.soak [NORMAL] [HOSTILE] [SECONDS]` (default 30 + 10 for 60 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.report import percentile, table
from bench.visitors import CHOICES, _rss_mb
from harness.engine_client import seat_with_engine
from harness.running import launch
from harness.visitor import Visitor, choice, choices

ROOT = Path(__file__).resolve().parents[1]
TOPICS = ["airports", "cats", "computers", "weddings", "the gym", "dentists"]
REFUSED_KEY = "sk-refused-0123456789abcdef"  # the rehearsal server answers it 401, as OpenAI would
TARGET_RATIO = 2.0
OWNER_KEY = "owner-soak-0123456789abcdef"  # the rehearsal server takes any key and bills at list prices
VISITOR_CAP_USD = 0.50  # the public default, per visitor per day


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
                elif kind == 1:  # a voice's preview (the line is the club's own now)
                    await visitor.call("audition_one", ["cedar", "witty", choice("model")], timeout=90)
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


async def _engine_attack(url: str, kind: int, flood: np.ndarray) -> None:
    """One of round three's attacks on the engine's socket."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from comedy.web.engine import PATH
    from comedy.web.engine_frames import microphone_frame
    from harness.engine_client import FRAME, deflate_bomb, engine_token, mint_token

    ws_url = f"{url.replace('http', 'ws', 1).rstrip('/')}{PATH}?token="
    async with Visitor(url) as visitor:
        if kind == 3:  # a storm of token requests: from a page that never opened, then from one that did
            for ask in [mint_token] * 30 + [engine_token] * 30:
                with contextlib.suppress(Exception):
                    await ask(visitor)
            return
        await visitor.call("start", CHOICES, timeout=60)
        token = await engine_token(visitor)
        if not isinstance(token, str):
            return
        if kind == 5:  # another site's page
            with contextlib.suppress(Exception):
                await connect(ws_url + token, origin="https://evil.example")
            return
        async with connect(ws_url + token, max_size=None, compression=None) as ws:
            if kind == 0:  # the microphone, flat out (until hung up on: round four)
                with contextlib.suppress(ConnectionClosed):
                    for start in range(0, len(flood), FRAME):
                        await ws.send(microphone_frame(flood[start : start + FRAME]))
                return
            elif kind == 1:  # a frame that inflates to 16 MiB, sent as it is (RSV1 with no extension)
                if isinstance(token := await engine_token(visitor), str):
                    with contextlib.suppress(Exception):  # the server hangs up on it: that is the point
                        await deflate_bomb(url, token)
            elif kind == 2:  # oversized frames and unreadable reports
                for attack in ("[" * 100_000, '{"type": "played", "items": {"x": 1e400}}', bytes(1 << 20)):
                    with contextlib.suppress(Exception):
                        await ws.send(attack)
            else:  # idle: held open a while, doing nothing
                await asyncio.sleep(5)
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await ws.recv()
        await visitor.call("end", [], timeout=60)


async def _hostile_engine(url: str, n: int, deadline: float, tally: dict) -> None:
    from harness.speech import spoken

    flood = np.tile(spoken("tell me a joke about the moon and then another one", "ash", 0.5), 4)
    k = n
    while time.monotonic() < deadline:
        k += 1
        try:
            await _engine_attack(url, k % 6, flood)
            tally["attacks"] += 1
        except Exception as exc:
            tally["errors"].append(f"hostile engine {k % 6}: {type(exc).__name__}: {exc}"[:200])
        await asyncio.sleep(0.2)


async def _round_four_attack(url: str, kind: int, k: int) -> None:
    """One of round four's attacks: on the queue, the frames, the takes and the votes."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    from comedy.realtime import protocol
    from comedy.web.engine import PATH
    from comedy.web.engine_frames import microphone_frame
    from harness.engine_client import FRAME, engine_token

    if kind == 0:  # one session joins the show's stream again and again, with no page
        async with Visitor(url, heartbeat=False) as visitor:
            for _ in range(60):
                await visitor.updates()
            await asyncio.sleep(3)
        return
    if kind == 1:  # pageless sessions ask for every voice's preview and flip the dropdowns
        async with Visitor(url, heartbeat=False) as visitor:
            for voice in protocol.VOICES:
                with contextlib.suppress(Exception):
                    await visitor.call("audition_one", [voice, "dark", choice("model")], timeout=30)
                    await visitor.call("change", ["", *choices(voice=voice, style="absurd")], timeout=30)
        return
    async with Visitor(url) as visitor:
        await visitor.open_page()
        if kind == 2:  # a page asks for every voice's preview in a style, all at once
            style = ("witty", "dry", "dark", "absurd")[k % 4]
            await asyncio.gather(
                *(
                    visitor.call("audition_one", [v, style, choice("model")], timeout=90)
                    for v in protocol.VOICES
                ),
                return_exceptions=True,
            )
            return
        if kind == 3:  # the same battle and a vote, a hundred times
            for _ in range(100):
                await visitor.call("battle", ["marin", "cedar", "dry", choice("model")], timeout=90)
                await visitor.call("battle_played", [])
                await visitor.call("vote_first", [])
            return
        await visitor.call("start", CHOICES, timeout=60)
        ws_url = f"{url.replace('http', 'ws', 1).rstrip('/')}{PATH}?token={await engine_token(visitor)}"
        async with connect(ws_url, max_size=None, compression=None) as ws:
            if kind == 4:  # 1-sample frames, flat out, for five seconds (or until hung up on)
                tiny, until = microphone_frame(np.zeros(1, np.int16)), time.monotonic() + 5
                with contextlib.suppress(ConnectionClosed):
                    while time.monotonic() < until:
                        await ws.send(tiny)
                return
            else:  # a page that says it plays all the time: reference frames, nothing sent to it
                played = (np.sin(np.arange(FRAME) / 3.0) * 8000).astype(np.int16)
                frame = microphone_frame(played // 4, played)
                for _ in range(500):
                    await ws.send(frame)
                    await asyncio.sleep(0.02)
        await visitor.call("end", [], timeout=60)


async def _hostile_four(
    url: str, n: int, deadline: float, tally: dict, kinds: tuple[int, ...] = tuple(range(6))
) -> None:
    k = n
    while time.monotonic() < deadline:
        k += 1
        kind = kinds[k % len(kinds)]
        try:
            await _round_four_attack(url, kind, k)
            tally["attacks"] += 1
        except Exception as exc:
            tally["errors"].append(f"hostile four {kind}: {type(exc).__name__}: {exc}"[:200])
        await asyncio.sleep(0.2)


async def _start_once_they_stop(url: str, deadline: float, tally: dict) -> None:
    """The moment the attackers stop, a new visitor presses Start: how long until it answers."""
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    async with Visitor(url) as visitor:
        await visitor.open_page()
        pressed = time.monotonic()
        await visitor.call("start", CHOICES, timeout=60)
        tally["start_after_s"] = time.monotonic() - pressed
        await visitor.call("end", [], timeout=60)


ATTACKS = {"round two": _hostile, "round three": _hostile_engine, "round four": _hostile_four}
for _kind in range(
    6
):  # one of round four's attacks alone (`python -m bench.soak --crowd ... "round four/3"`)
    ATTACKS[f"round four/{_kind}"] = functools.partial(_hostile_four, kinds=(_kind,))


async def _crowd(url: str, normal: int, hostile: int, seconds: float, attack: str = "round two") -> dict:
    deadline = time.monotonic() + seconds
    tally = {"first_audio_s": [], "errors": [], "attacks": 0, "start_after_s": None}
    bad = ATTACKS[attack]

    async def arrive(n: int, who) -> None:
        await asyncio.sleep(n * 0.1)
        await who(url, n, deadline, tally)

    await asyncio.gather(
        *(arrive(n, _normal) for n in range(normal)),
        *(arrive(n, bad) for n in range(hostile)),
        _start_once_they_stop(url, deadline, tally),
    )
    return tally


def _ms(values: list[float]) -> str:
    return f"{percentile(values, 50) * 1000:.0f} / {percentile(values, 95) * 1000:.0f} ms"


def measure(running, normal: int, hostile: int, seconds: float, attack: str = "round two") -> dict:
    """One soak against `running`, its visitors in a child process; the tally, the memory and the spend."""
    peak = start = _rss_mb()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.soak",
            "--crowd",
            running.url,
            str(normal),
            str(hostile),
            str(seconds),
            attack,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    while child.poll() is None:
        peak = max(peak, _rss_mb())
        time.sleep(0.5)
    tally = json.loads(child.stdout.read())
    tally["rss_peak_mb"], tally["rss_start_mb"], tally["rss_end_mb"] = peak, start, _rss_mb()
    spent = running.app.budget.by_visitor
    tally["most_spent_usd"] = max(spent.values(), default=0.0)
    tally["day_usd"] = running.app.budget.total
    tally["forwarded_s"] = running.rehearsal.server.journal.appended_samples / 24_000
    tally["sessions"] = running.rehearsal.server.journal.connections
    return tally


def run(normal: int = 30, hostile: int = 10, seconds: float = 60) -> dict:
    """Measure and print figure 9."""
    results = {}
    for label, bad, attack in (
        ("normal only", 0, "round two"),
        ("round two attacks", hostile, "round two"),
        ("round three attacks", hostile, "round three"),
        ("round four attacks", hostile, "round four"),
    ):
        with contextlib.contextmanager(launch)(
            pace=1.0,
            key=OWNER_KEY,
            COMEDY_MAX_SETS=str(2 * (normal + hostile)),
            COMEDY_MAX_SET_USD=str(VISITOR_CAP_USD),
        ) as running:
            running.rehearsal.server.conduct.refused_keys.add(REFUSED_KEY)
            results[label] = measure(running, normal, bad, seconds, attack)
    alone = results["normal only"]
    p95_alone = percentile(alone["first_audio_s"], 95)
    rows = []
    for label, r in results.items():
        ratio = percentile(r["first_audio_s"], 95) / p95_alone if p95_alone else float("inf")
        rows.append(
            (
                label,
                len(r["first_audio_s"]),
                _ms(r["first_audio_s"]),
                f"{ratio:.2f}x ({TARGET_RATIO:g}x)",
                r["attacks"],
                len(r["errors"]),
                f"{r['rss_start_mb']:.0f} / {r['rss_peak_mb']:.0f} / {r['rss_end_mb']:.0f} MB",
                f"${r['most_spent_usd']:.3f} (${VISITOR_CAP_USD:.2f})",
                f"{r['forwarded_s']:.0f} s",
                f"{r['start_after_s'] * 1000:.0f} ms" if r.get("start_after_s") is not None else "-",
                f"{r['sessions']}",
            )
        )
    table(
        f"9. {normal} normal visitors for {seconds:g} s, alone and with {hostile} hostile ones "
        f"(target: normal first-audio p95 within {TARGET_RATIO:g}x of alone; nobody past the cap)",
        [
            "run",
            "answers",
            "first audio p50 / p95",
            "p95 ratio (floor)",
            "attacks",
            "errors",
            "memory start / peak / end",
            "most one visitor spent (cap)",
            "audio to the API",
            "Start as the attackers stop",
            "upstream sessions",
        ],
        rows,
    )
    for label, r in results.items():
        for error in sorted(set(r["errors"]))[:5]:
            print(f"  {label}: {error}")
    ratios = {k: percentile(r["first_audio_s"], 95) / p95_alone for k, r in results.items() if p95_alone}
    return {"results": results, "p95_ratios": ratios}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--crowd":
        url, normal, hostile, seconds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(asyncio.run(_crowd(url, normal, hostile, seconds, sys.argv[6]))))
    else:
        args = [float(a) for a in sys.argv[1:4]]
        run(*(int(a) for a in args[:2]), *args[2:3])
