"""The README's screenshots (`assets/stage-desktop.png`, `assets/stage-phone.png`, and the end
card's, `assets/end-card-desktop.png`, `assets/end-card-phone.png`), taken from the page as
shipped: rehearsal mode, a silent microphone with the rehearsal audience laughing after the first
joke, at 1280x800 and 390x844, mid-way through the second joke, then after End.

`python -m harness.screenshots`.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import numpy as np

from comedy.sound import audio
from harness import laptop
from harness.chromium import open_browser
from harness.running import launch

ASSETS = Path(__file__).resolve().parents[1] / "assets"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def main() -> None:
    """Take both screenshots."""
    from playwright.sync_api import sync_playwright

    silence = Path(tempfile.mkdtemp()) / "silence.wav"
    audio.write_wav(str(silence), np.zeros(24_000 * 60, dtype=np.int16))
    with contextlib.contextmanager(launch)(pace=1.0, COMEDY_OPENERS="1") as running, sync_playwright() as pw:
        server = running.rehearsal.server
        browser = open_browser(pw, microphone=silence)
        for name, (width, height) in SIZES.items():
            phone = width < 640
            context = browser.new_context(
                permissions=["microphone"],
                viewport={"width": width, "height": height},
                is_mobile=phone,
                has_touch=phone,
            )
            context.add_init_script(laptop.room_script(server.audience_url, None, 80.0))
            page = context.new_page()
            page.goto(running.url)
            page.get_by_role("button", name="Start the show").click()
            page.wait_for_function("() => window.__engine.firstSound", timeout=30_000)
            page.wait_for_timeout(3000)
            page.get_by_role("button", name="Airports").click()
            server.conduct.audience.cue("laughter", after="punchline", seed=2)
            page.wait_for_function(
                "() => document.querySelectorAll('#engine .lamps .lamp.on').length > 0", timeout=60_000
            )
            page.get_by_role("button", name="Cats").click()
            page.wait_for_function(
                "() => document.querySelector('#engine .captions').textContent.split(' ').length > 6",
                timeout=60_000,
            )
            page.evaluate("() => window.scrollTo(0, 0)")
            page.wait_for_timeout(300)
            page.screenshot(path=str(ASSETS / f"stage-{name}.png"))
            page.get_by_role("button", name="End the show").click()
            page.locator("#engine .scorecard").wait_for(state="visible", timeout=30_000)
            page.evaluate("() => window.scrollTo(0, 0)")
            page.wait_for_timeout(500)
            page.screenshot(path=str(ASSETS / f"end-card-{name}.png"))
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
