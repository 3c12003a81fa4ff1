"""Figure 7: what a visitor hears. From the server's first audio delta to the page's audio playing.

Headless Debian Chromium (the browser tests' harness) against the app in rehearsal mode. Gradio
streams the speech through an ffmpeg AAC encoder as HLS to hls.js; the floor is the same kind of
PCM played straight through the Web Audio API on the same page, measured in the same run.
"""

from __future__ import annotations

import shutil
import statistics
import time

from bench.report import table
from comedy import club

ANSWERS = 5
WEB_AUDIO_FLOOR = """async () => {
  const ctx = new AudioContext();
  await ctx.resume();
  const buffer = ctx.createBuffer(1, 2400, 24000);
  const data = buffer.getChannelData(0);
  for (let i = 0; i < data.length; i++) data[i] = 0.3 * Math.sin(i / 5);
  const t0 = performance.now();
  const source = ctx.createBufferSource();
  source.buffer = buffer; source.connect(ctx.destination);
  const startAt = ctx.currentTime;
  source.start();
  while (ctx.currentTime <= startAt) await new Promise(r => setTimeout(r, 1));
  const ms = performance.now() - t0 + 1000 * (ctx.baseLatency + (ctx.outputLatency || 0));
  await ctx.close();
  return ms;
}"""
POSITION = """() => { const a = document.querySelector('#speaker audio');
  return a && !a.paused ? a.currentTime : -1; }"""


def _until_quiet(page, timeout: float = 40.0) -> None:
    """Wait until the speaker's clock has stood still for half a second: the answer is over."""
    last, still_since, deadline = -2.0, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = page.evaluate(POSITION)
        if abs(now - last) > 0.001:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since > 0.5:
            return
        time.sleep(0.05)


def _measure(chunk_ms: int) -> tuple[list[float], list[float]]:
    from playwright.sync_api import sync_playwright

    from tests.club import launch

    club.CHUNK_SAMPLES = 24 * chunk_ms
    hls, floor = [], []
    try:
        for running in launch(pace=1.0):
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                    headless=True,
                    args=[
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--autoplay-policy=no-user-gesture-required",
                    ],
                )
                page = browser.new_page()
                page.goto(running.url)
                page.get_by_role("button", name="Tell a joke").wait_for()
                for n in range(ANSWERS):
                    floor.append(page.evaluate(WEB_AUDIO_FLOOR))
                    already = len(running.rehearsal.server.first_audio_sent)
                    position = page.evaluate(POSITION)
                    page.get_by_label("Topic").fill(["cats", "work", "food", "weather", "music"][n % 5])
                    page.get_by_role("button", name="Tell a joke").click()
                    deadline = time.monotonic() + 30
                    # Playing means the clock moved on past where it stood before the request.
                    while not (
                        len(running.rehearsal.server.first_audio_sent) > already
                        and page.evaluate(POSITION) > max(position, 0) + 0.02
                    ):
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"no audio played for answer {n + 1}")
                        time.sleep(0.005)
                    heard = time.monotonic()
                    sent = running.rehearsal.server.first_audio_sent[-1][1]
                    hls.append((heard - sent) * 1000)
                    _until_quiet(page)  # let the answer play out before the next request
                browser.close()
    finally:
        club.CHUNK_SAMPLES = 2400
    return hls, floor


def run() -> dict:
    """Measure and print figure 7 (skipped without Chromium)."""
    if not shutil.which("chromium"):
        print("\n## 7. Browser playback: skipped (install Debian's chromium)")
        return {}
    rows, figures = [], {}
    floor_all = []
    for chunk_ms in (100, 200):
        hls, floor = _measure(chunk_ms)
        floor_all += floor
        median = statistics.median(hls)
        figures[chunk_ms] = median
        rows.append(
            (
                f"Gradio HLS, {chunk_ms} ms chunks",
                f"{median:.0f} ms",
                f"{min(hls):.0f}-{max(hls):.0f} ms",
                len(hls),
            )
        )
    floor_median = statistics.median(floor_all)
    rows.append(
        (
            "floor: Web Audio on the same page",
            f"{floor_median:.0f} ms",
            f"{min(floor_all):.0f}-{max(floor_all):.0f} ms",
            len(floor_all),
        )
    )
    for row in rows[:-1]:
        row_median = float(row[1].split()[0])
        rows[rows.index(row)] = (*row, f"{row_median / max(floor_median, 1e-3):.0f}x")
    rows[-1] = (*rows[-1], "1x")
    table(
        "7. What a visitor hears: server's first audio delta -> the page's audio playing (headless Chromium)",
        ["path", "median", "range", "answers", "ratio to floor"],
        rows,
    )
    return {"hls_ms": figures, "floor_ms": floor_median}


if __name__ == "__main__":
    run()
