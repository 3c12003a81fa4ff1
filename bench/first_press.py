"""Figure 14: the first press. From a visitor's first tap on Start the show to the first sample at
their output device, in headless Chromium, each press a new visitor in a fresh tab, on an app
started with an empty cache. The page's own clocks: the tap's time and the player's report of when
its first sample left the device (`AudioContext.getOutputTimestamp`).

Four cases: rehearsal in the default voice and style and in another (the house voice says the
opener at once), and live-shaped, an app with a key talking to the rehearsal server, whose model
thinks as long as the live one (`comedy.rehearsal.thinking`): the default voice and style (its
opener made at start-up) and a voice and style picked just before the press (its opener made when
picked; when it is not ready yet, the session greets the room, after the model's think time).

`python -m bench.first_press [PRESSES]`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import time

from bench.report import percentile, table
from comedy.choices import VOICE_LABELS
from comedy.realtime import models
from comedy.rehearsal.thinking import THINK_SECONDS
from harness.chromium import open_browser
from harness.running import launch
from harness.sets import KEY

TARGET_MS = 500.0
PRESSES = 12
PICKS = [("sage", "dry"), ("ballad", "absurd"), ("verse", "sarcastic"), ("coral", "dad jokes")]
PRESSED = "document.addEventListener('pointerdown', () => { window.__pressed ??= performance.now(); }, true);"
_club = contextlib.contextmanager(launch)


def _pick(page, voice: str, style: str) -> None:
    """Choose a voice and a style in the settings, then close them."""
    page.get_by_role("button", name="Settings").click()
    for label, option in (("Voice", VOICE_LABELS[voice]), ("Comedy style", style)):
        page.get_by_label(label, exact=True).click()
        page.get_by_role("option", name=option, exact=True).click()
    page.get_by_role("button", name="Settings").click()


def _press(browser, url: str, pick: tuple[str, str] | None) -> float:
    """One new visitor's first press: ms from the tap to the first sample at the output device."""
    context = browser.new_context(permissions=["microphone"], viewport={"width": 1280, "height": 800})
    context.add_init_script(PRESSED)
    page = context.new_page()
    try:
        page.goto(url)
        page.get_by_role("button", name="Start the show").wait_for()
        if pick:
            _pick(page, *pick)
        page.evaluate("() => { window.__pressed = undefined; }")
        page.get_by_role("button", name="Start the show").click()
        page.wait_for_function("() => window.__engine.firstSound", timeout=30_000)
        return page.evaluate("() => window.__engine.firstSound - window.__pressed")
    finally:
        with contextlib.suppress(Exception):
            page.get_by_role("button", name="End the show").click()
            page.wait_for_timeout(300)
        context.close()


def _measure(presses: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    found: dict[str, list[float]] = {}
    os.environ["COMEDY_CACHE_DIR"] = tempfile.mkdtemp(prefix="comedy-bench-empty-cache-")
    with sync_playwright() as playwright:
        browser = open_browser(playwright)
        with _club(pace=1.0, COMEDY_OPENERS="1") as running:
            found["rehearsal, default voice and style"] = [
                _press(browser, running.url, None) for _ in range(presses)
            ]
            found["rehearsal, another voice and style"] = [
                _press(browser, running.url, PICKS[n % len(PICKS)]) for n in range(presses)
            ]
        os.environ["COMEDY_CACHE_DIR"] = tempfile.mkdtemp(prefix="comedy-bench-empty-cache-")
        with _club(pace=1.0, key=KEY, COMEDY_OPENERS="1") as running:
            time.sleep(8)  # start-up makes the default opener (a take at the model's pace)
            found["live-shaped, default voice and style (opener made at start-up)"] = [
                _press(browser, running.url, None) for _ in range(presses)
            ]
            fresh = [(v, s) for v in ("alloy", "ash", "echo", "shimmer") for s in ("observational", "dark")]
            found["live-shaped, a voice and style just picked (no opener yet: greets)"] = [
                _press(browser, running.url, fresh[n % len(fresh)]) for n in range(min(presses, len(fresh)))
            ]
        browser.close()
    return found


def run(presses: int = PRESSES) -> dict:
    """Measure and print figure 14 (skipped without Chromium)."""
    if not shutil.which("chromium"):
        print("\n## 14. First press -> first sound: skipped (install Debian's chromium)")
        return {}
    found = _measure(presses)
    rows = []
    for label, values in found.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        ratio = f"{p95 / TARGET_MS:.2f}x" if "greets" not in label else "(no target: the model thinks)"
        rows.append((label, len(values), f"{p50:.0f} ms", f"{p95:.0f} ms", ratio))
    think = THINK_SECONDS[models.DEFAULT_REASONING_EFFORT] * 1000
    rows.append(
        (
            f"the live model's think time ({models.DEFAULT_MODEL}, effort low, modelled)",
            "",
            f"{think:.0f} ms",
            "",
            "",
        )
    )
    table(
        f"14. First press -> first sound at the output device, empty cache, a new visitor each "
        f"(target p95 <= {TARGET_MS:.0f} ms)",
        ["case", "presses", "p50", "p95", "p95 / target"],
        rows,
    )
    return {label: (percentile(v, 50), percentile(v, 95)) for label, v in found.items()}


if __name__ == "__main__":
    run(*(int(a) for a in sys.argv[1:2]))
