"""Figure 3: how fast the session module reads events, against the official `openai` SDK client.

Both read the same answer of about 10,000 audio deltas. The answer is recorded once from the real
rehearsal server, then replayed by a server in its own process that writes the pre-framed answer
in one go, so the server never holds a client back and the figures are the client's own cost.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time

from bench.report import table
from comedy import prompts
from comedy.house.jokes import load_joke_book
from comedy.money import pricing
from comedy.money.meters import Meters
from comedy.realtime import protocol
from comedy.realtime.session import RealtimeSession
from comedy.stage.stage import Stage

DELTAS = 10_000


def long_line() -> str:
    """A line long enough for DELTAS deltas of 100 ms (about 1,000 s of speech)."""
    jokes = [j.text for j in load_joke_book().jokes]
    text, n = "", 0
    while len(text.split()) < 3000:
        text += " " + jokes[n % len(jokes)]
        n += 1
    return text.strip()


def _request(line: str) -> dict:
    return protocol.response_create(prompts.audition_instructions(line, "dry"))


async def ours(url: str, line: str, read=lambda event, at: None) -> tuple[int, float, float]:
    """The session; each event also goes to `read` (nothing, or the set's stage)."""
    async with RealtimeSession(url, "bench", response_timeout=120) as session:
        await session.send(protocol.session_update(voice="alloy", transcription_model=None))
        wall, cpu, events = time.perf_counter(), time.process_time(), 0
        await session.send(_request(line))
        async for event in session:
            events += 1
            read(event, time.monotonic())
            if event["type"] == "response.done":
                break
        return events, time.perf_counter() - wall, time.process_time() - cpu


async def ours_on_the_stage(url: str, line: str) -> tuple[int, float, float]:
    """The session, each event read by the set's own stage (typed readers, audio decoded to int16)."""
    stage = Stage(
        prompts.SetUp(),
        prompts.Tuning("gpt-realtime-2.1"),
        Meters(pricing.prices_for("gpt-realtime-2.1")),
        0.0,
    )
    return await ours(url, line, stage.on_event)


async def sdk(url: str, line: str) -> tuple[int, float, float]:
    from openai import AsyncOpenAI

    client = AsyncOpenAI(api_key="bench", websocket_base_url=url.removesuffix("/realtime"))
    async with client.realtime.connect(model="gpt-realtime-2.1") as connection:
        await connection.session.update(session={"type": "realtime", "audio": {"output": {"voice": "alloy"}}})
        wall, cpu, events = time.perf_counter(), time.process_time(), 0
        await connection.send(_request(line))
        async for event in connection:
            events += 1
            if event.type == "response.done":
                break
        return events, time.perf_counter() - wall, time.process_time() - cpu


async def _record(line: str) -> list[str]:
    """One session's frames from the real rehearsal server: created, updated, the whole answer."""
    from websockets.asyncio.client import connect

    from comedy.rehearsal import RehearsalServer

    async with (
        RehearsalServer(pace=0) as server,
        connect(server.url, additional_headers={"Authorization": "Bearer bench"}, max_size=None) as ws,
    ):
        frames = [await ws.recv()]
        await ws.send(protocol.encode(protocol.session_update(voice="alloy", transcription_model=None)))
        frames.append(await ws.recv())
        await ws.send(protocol.encode(_request(line)))
        while True:
            frames.append(await ws.recv())
            if '"response.done"' in frames[-1][:60]:
                return frames


async def _replay(port: int = 0) -> None:
    """Serve the recorded frames: the answer is written as one pre-framed blob."""
    from websockets.asyncio.server import serve
    from websockets.frames import Frame, Opcode

    frames = await _record(long_line())
    blob = b"".join(Frame(Opcode.TEXT, f.encode()).serialize(mask=False) for f in frames[2:])

    async def handler(ws) -> None:
        await ws.send(frames[0])
        async for message in ws:
            if '"session.update"' in message[:40]:
                await ws.send(frames[1])
            elif '"response.create"' in message[:40]:
                ws.transport.write(blob)

    async with serve(handler, "127.0.0.1", port, max_size=None, compression=None) as server:
        print(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1/realtime?", flush=True)
        await asyncio.Future()


def run(repeats: int = 3) -> dict:
    """Measure and print figure 3 (best of `repeats` for each client)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.throughput", "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = re.search(r"(ws://\S+?)\?", server.stdout.readline()).group(1)
        line = "replayed"
        results = {}
        clients = (
            ("comedy.realtime.session", ours),
            ("comedy.realtime.session + the stage", ours_on_the_stage),
            ("openai SDK", sdk),
        )
        for name, client in clients:
            runs = [asyncio.run(client(url, line)) for _ in range(repeats)]
            results[name] = min(runs, key=lambda r: r[2])
    finally:
        server.terminate()
        server.wait(10)
    rows = []
    base = results["openai SDK"]
    for name, (events, wall, cpu) in results.items():
        rows.append(
            (
                name,
                events,
                f"{events / wall:,.0f}",
                f"{(events / wall) / (base[0] / base[1]):.2f}x",
                f"{events / cpu:,.0f}",
                f"{(events / cpu) / (base[0] / base[2]):.2f}x",
            )
        )
    table(
        f"3. Event throughput: one answer of about {DELTAS:,} audio deltas, unpaced (target >= 2x the SDK)",
        ["client", "events", "events/s (wall)", "ratio to SDK", "events per CPU second", "ratio to SDK"],
        rows,
    )
    ratio = (results["comedy.realtime.session"][0] / results["comedy.realtime.session"][2]) / (
        base[0] / base[2]
    )
    return {"throughput_ratio": ratio}


if __name__ == "__main__":
    if "--serve" in sys.argv:
        asyncio.run(_replay())
    else:
        run()
