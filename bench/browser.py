"""Figure 7: what a visitor hears. From the server's first audio delta to audio at the output device.

Headless Debian Chromium against the app in rehearsal mode (live pace), three paths in one run,
interleaved answer by answer: the page's Web Audio engine (one WebSocket into a player worklet;
its time is the output-device time the page reports, `AudioContext.getOutputTimestamp`), Gradio's
own streamed speaker (ffmpeg AAC over HLS; the time its `<audio>` clock starts moving, which is
before the device plays it), and the floor: a buffer played straight through Web Audio on the same
page. Barge-in: a new topic cuts the engine's answer; from the cut reaching the page to silence at
the output device.
"""

from __future__ import annotations

import shutil
import time

from bench.report import percentile, table
from harness.chromium import open_browser
from harness.running import launch

ANSWERS = 20
TOPICS = ["cats", "work", "food", "weather", "music"]
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


# A page whose engine never starts (its start already "done"): Gradio's speaker is all it hears.
ENGINE_OFF = """window.__engine = { starting: Promise.resolve(), path: "off", heard: {}, cuts: [],
  levels: { you: 0, comedian: 0 }, peaks: { you: 0, comedian: 0 }, mic: "off", echo: "", referenced: 0,
  captions: { words: {}, count: {}, shown: [], item: "" } };"""


def _tell(page, topic: str) -> None:
    page.get_by_role("textbox", name="Topic", exact=True).fill(topic)
    page.get_by_role("button", name="Tell a joke").click()


def _wait(check, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.005)


def _until_quiet(page, timeout: float = 40.0) -> None:
    """Wait until Gradio's speaker clock has stood still for half a second: the answer is over."""
    last, still_since, deadline = -2.0, time.monotonic(), time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = page.evaluate(POSITION)
        if abs(now - last) > 0.001:
            last, still_since = now, time.monotonic()
        elif time.monotonic() - still_since > 0.5:
            return
        time.sleep(0.05)


def _measure(answers: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {"engine": [], "hls": [], "floor": [], "cut": []}
    launched = launch(pace=1.0)
    running = next(launched)
    server = running.rehearsal.server
    try:
        with sync_playwright() as playwright:
            browser = open_browser(playwright)
            engine_page = browser.new_page()
            hls_context = browser.new_context()
            hls_context.add_init_script(ENGINE_OFF)  # this page hears only Gradio's own speaker
            hls_page = hls_context.new_page()
            for page in (engine_page, hls_page):
                page.goto(running.url)
                page.get_by_role("button", name="Start the show").wait_for()
                page.get_by_role("button", name="Type a topic").click()
            hls_page.get_by_role("button", name="Settings").click()
            hls_page.get_by_role("button", name="Sound without the engine").click()
            hls_page.get_by_role("button", name="Play through Gradio's streamed audio player").click()
            hls_page.get_by_role("button", name="Settings").click()
            engine_page.locator("#engine .stage").click()  # a tap starts the sound, before the first answer
            engine_page.wait_for_function("() => window.__engine && window.__engine.path === 'engine'")
            for n in range(answers):
                topic = TOPICS[n % len(TOPICS)]
                # The engine: a click starts it; the page reports when the first sample left the device.
                already = len(server.journal.first_audio_sent)
                _tell(engine_page, topic)
                _wait(lambda a=already: len(server.journal.first_audio_sent) > a, what="the engine's answer")
                item, sent = server.journal.first_audio_sent[-1]
                visitor = next(iter(running.app.engine.sockets))
                comedy_set = running.app.club.get(visitor)
                _wait(
                    lambda s=comedy_set, i=item: i in s.stage.speaker.first_heard, what="the engine to play"
                )
                found["engine"].append((comedy_set.stage.speaker.first_heard[item] - sent) * 1000)
                time.sleep(0.5)
                cuts = engine_page.evaluate("() => window.__engine.cuts.length")
                cut_answer = len(server.journal.first_audio_sent)
                _tell(engine_page, "a cut")  # barge in
                engine_page.wait_for_function(f"() => window.__engine.cuts.length > {cuts}")
                cut = engine_page.evaluate("() => window.__engine.cuts[window.__engine.cuts.length - 1]")
                found["cut"].append(cut["silentAt"] - cut["received"])
                _wait(
                    lambda c=cut_answer: len(server.journal.first_audio_sent) > c,
                    what="the answer after the cut",
                )
                # Gradio's HLS speaker: Enter in the topic field (the engine is off on this page).
                already = len(server.journal.first_audio_sent)
                position = hls_page.evaluate(POSITION)
                field = hls_page.get_by_role("textbox", name="Topic", exact=True)
                field.fill(topic)
                field.press("Enter")
                _wait(
                    lambda a=already, p=position: (
                        len(server.journal.first_audio_sent) > a
                        and hls_page.evaluate(POSITION) > max(p, 0) + 0.02
                    ),
                    what="Gradio's speaker to play",
                )
                heard = time.monotonic()
                found["hls"].append((heard - server.journal.first_audio_sent[-1][1]) * 1000)
                found["floor"].append(engine_page.evaluate(WEB_AUDIO_FLOOR))
                _until_quiet(hls_page)
            browser.close()

    finally:
        launched.close()
    return found


def run(answers: int = ANSWERS) -> dict:
    """Measure and print figure 7 (skipped without Chromium)."""
    if not shutil.which("chromium"):
        print("\n## 7. Browser playback: skipped (install Debian's chromium)")
        return {}
    found = _measure(answers)
    floor = percentile(found["floor"], 50)
    rows = []
    for name, key in (
        ("the Web Audio engine (WebSocket -> player worklet), at the output device", "engine"),
        ("Gradio's streamed speaker (AAC over HLS), its clock starting", "hls"),
        ("floor: a buffer played through Web Audio on the same page", "floor"),
        ("barge-in: the cut at the page -> silence at the output device", "cut"),
    ):
        values = found[key]
        p50, p95 = percentile(values, 50), percentile(values, 95)
        ratio = "" if key == "cut" else f"{p50 / max(floor, 1e-3):.1f}x"
        rows.append(
            (
                name,
                f"{p50:.0f} ms",
                f"{p95:.0f} ms",
                f"{min(values):.0f}-{max(values):.0f} ms",
                len(values),
                ratio,
            )
        )
    table(
        "7. What a visitor hears: the server's first audio delta -> audio at the output device "
        "(headless Chromium)",
        ["path", "p50", "p95", "range", "answers", "p50 / floor"],
        rows,
    )
    return {key: (percentile(v, 50), percentile(v, 95)) for key, v in found.items()}


if __name__ == "__main__":
    run()
