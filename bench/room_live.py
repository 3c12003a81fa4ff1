"""Figure 16: hold, then decide, through the page as shipped (`python -m bench.room_live`).

Headless Chromium against the app in rehearsal mode (live pace), the page's microphone the room
(`harness.laptop.room_script`): the real recordings of `../shared/room-clips` (laughs, applause,
speech, speech over noise; at -25 dBFS over a quiet room) cued mid-joke into the microphone while
the comedian talks, through the page's capture worklet, the engine's socket, the set's canceller
and ear. For each laugh: truncated or not, held and resumed, the hold's length beside the laugh's.
For each speech clip: cut and answered or not, its first words -> the comedian silent at the output
device (the page's own report of its hold or cut, on the audio clock), -> the cut reaching the
page. Then a laptop's speakers with the echo's delay moving 10 ms every 2 s at -6 / 0 / +6 dB, four
answers each with nobody in the room: self-cuts, and the share of answer time the comedian's own
echo held it. Both designs in one run: hold first (as shipped) and cut first (`COMEDY_HOLD=0`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time

import numpy as np

from bench.hearing import LEAD, ROOM_CLIPS, first_words, in_a_room, real_clips
from bench.report import percentile, table
from comedy.realtime.protocol import SAMPLE_RATE
from harness import laptop
from harness.chromium import open_browser
from harness.running import launch

LEVEL, QUIET_ROOM = -25.0, -62.0
COUPLINGS = (-6.0, 0.0, 6.0)
LAPTOP_ANSWERS = 4
TOPICS = ("airports", "cats", "my job", "dating apps", "dentists", "the gym", "weddings", "trains")
PROBE = """() => { const e = window.__engine; return {
  heard: Object.values(e.heard).reduce((a, b) => a + b, 0),
  holds: e.holds, cuts: e.cuts, held: e.held, state: e.state || "", now: performance.now(),
  loud: window.__room ? window.__room.loud : [] }; }"""


def _wait(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Tab:
    """One visitor's page, its microphone the room."""

    def __init__(self, browser, url: str, script: str) -> None:
        viewport = {"width": 1280, "height": 900}
        self.context = browser.new_context(permissions=["microphone"], viewport=viewport)
        self.context.add_init_script(script)
        self.page = self.context.new_page()
        self.page.goto(url)
        self.page.get_by_role("button", name="Start the show").wait_for()
        self.topics = 0

    def probe(self) -> dict:
        return self.page.evaluate(PROBE)

    def tell(self) -> None:
        """A new topic, with the microphone on."""
        topic = TOPICS[self.topics % len(TOPICS)]
        self.topics += 1
        field = self.page.get_by_role("textbox", name="Topic", exact=True)
        if not field.is_visible():
            self.page.get_by_role("button", name="Type a topic").click()
        field.fill(topic)
        self.page.get_by_role("button", name="Tell a joke").click()
        self.page.wait_for_function("() => window.__engine && window.__engine.path === 'engine'")
        if self.page.evaluate("() => window.__engine.mic") != "on":
            self.page.locator("#engine .mute").click()
        self.page.wait_for_function("() => window.__engine.mic === 'on' && window.__room")

    def talking(self, seconds: float = 1.5) -> None:
        """A new joke, played `seconds` in."""
        self.tell()
        start = self.probe()["heard"]
        _wait(lambda: self.probe()["heard"] - start >= seconds * SAMPLE_RATE, 40, "the comedian to talk")

    def quiet(self, seconds: float = 0.8, timeout: float = 60) -> None:
        """Until nothing has played for `seconds` and the stage says it is the visitor's turn."""
        last, since = -1, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = self.probe()
            if probe["heard"] != last:
                last, since = probe["heard"], time.monotonic()
            elif time.monotonic() - since >= seconds and probe["state"] == "your-turn":
                return
            time.sleep(0.1)

    def close(self) -> None:
        self.context.close()


def _onset(pcm: np.ndarray) -> float:
    """The first loud 20 ms of a clip, in seconds (-45 dBFS, as the page's room marks them)."""
    frames = pcm[: len(pcm) // 480 * 480].reshape(-1, 480).astype(np.float64) / 32768.0
    loud = np.flatnonzero(np.mean(frames**2, axis=1) > 10 ** (-45 / 10))
    return float(loud[0]) * 0.02 if len(loud) else LEAD / SAMPLE_RATE


def _holds(probe: dict, since: float) -> list[tuple[float, float | None]]:
    """(held at, resumed at or None) for each hold that began after `since` (page time)."""
    out: list[tuple[float, float | None]] = []
    for h in probe["holds"]:
        if h["held"] and h["at"] >= since:
            out.append((h["at"], None))
        elif not h["held"] and out and out[-1][1] is None:
            out[-1] = (out[-1][0], h["at"])
    return out


def _clip_trial(tab: Tab, server, clip) -> dict:
    """One clip cued mid-joke: what the page and the server did with it."""
    pcm = in_a_room(clip.pcm, LEVEL, QUIET_ROOM, seed=7)
    tab.talking()
    truncations = len(server.journal.truncations)
    cue_page = tab.probe()["now"]
    server.conduct.audience.cue("laughter" if clip.label != "speech" else "heckle", pcm=pcm, said="")
    time.sleep(len(pcm) / SAMPLE_RATE + 2.5)
    probe = tab.probe()
    loud = [t for t in probe["loud"] if t >= cue_page - 50]
    onset_page = loud[0] if loud else cue_page
    holds = _holds(probe, onset_page - 100)
    cuts = [c for c in probe["cuts"] if c["received"] >= onset_page - 100]
    trial = {
        "clip": clip.name,
        "label": clip.label,
        "truncated": len(server.journal.truncations) > truncations,
        "holds": holds,
        "sound_s": (len(pcm) / SAMPLE_RATE) - _onset(pcm),
    }
    if clip.label == "speech" and (words := first_words(pcm)) is not None:
        words_page = onset_page + 1000 * (LEAD / SAMPLE_RATE + words - _onset(pcm))
        silent = [h[0] for h in holds] + [c["silentAt"] for c in cuts]
        trial["to_silence_ms"] = min(silent) - words_page if silent else None
        trial["to_cut_ms"] = cuts[0]["received"] - words_page if cuts else None
    return trial


def _heckled(running) -> int:
    """Lines of the comedian the set cut for a heckle, in every set open."""
    sets = [s for s in running.app.club.sets.values() if not s.closed]
    return sum(1 for s in sets for t in s.stage.transcript if t.role == "assistant" and "heckled" in t.note)


def _laptop_trials(tab: Tab, running, answers: int) -> dict:
    """Answers told one after another with nobody in the room: self-cuts and echo holds."""
    tab.talking(0.5)
    tab.quiet()  # the first answer taught the canceller the room
    cuts, start = _heckled(running), tab.probe()
    for _ in range(answers):
        tab.talking(0.5)
        tab.quiet()
    end = tab.probe()
    held = sum((r or end["now"]) - h for h, r in _holds(end, start["now"]))
    answer_s = (end["heard"] - start["heard"]) / SAMPLE_RATE
    return {
        "self_cuts": _heckled(running) - cuts,
        "holds": len(_holds(end, start["now"])),
        "held_share": held / 1000 / max(answer_s, 1e-9),
        "answer_s": answer_s,
    }


def _design(hold: bool, clips: list) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {"clips": [], "laptop": {}}
    with contextlib.contextmanager(launch)(pace=1.0, COMEDY_HOLD="1" if hold else "0") as running:
        server = running.rehearsal.server
        with sync_playwright() as playwright:
            browser = open_browser(playwright)
            tab = Tab(browser, running.url, laptop.room_script(server.audience_url, None))
            for clip in clips:
                out["clips"].append(_clip_trial(tab, server, clip))
                print(f"  {'hold' if hold else 'cut'} {out['clips'][-1]}", flush=True)
            tab.close()
            for coupling in COUPLINGS:
                script = laptop.room_script(server.audience_url, coupling, 80.0, moving_ms=10.0)
                tab = Tab(browser, running.url, script)
                out["laptop"][coupling] = _laptop_trials(tab, running, LAPTOP_ANSWERS)
                print(f"  {'hold' if hold else 'cut'} laptop {coupling:+.0f} dB {out['laptop'][coupling]}")
                tab.close()
            browser.close()
    return out


def _summary(name: str, result: dict) -> list[object]:
    clips = result["clips"]
    room_ = [c for c in clips if c["label"] != "speech"]
    speech_ = [c for c in clips if c["label"] == "speech"]
    resumed = sum(1 for c in room_ if not c["truncated"] and c["holds"] and all(r for _, r in c["holds"]))
    ratio = [
        ((c["holds"][0][1] - c["holds"][0][0]) / 1000) / c["sound_s"]
        for c in room_
        if c["holds"] and c["holds"][0][1] and c["sound_s"] > 0
    ]
    silence = [c["to_silence_ms"] for c in speech_ if c.get("to_silence_ms") is not None]
    cut = [c["to_cut_ms"] for c in speech_ if c.get("to_cut_ms") is not None]
    laptop_ = result["laptop"]
    return [
        name,
        f"{sum(c['truncated'] for c in room_)}/{len(room_)}",
        f"{resumed}/{len(room_)}",
        f"{np.median(ratio):.2f}" if ratio else "-",
        f"{sum(c['truncated'] for c in speech_)}/{len(speech_)}",
        f"{percentile(silence, 50):.0f} / {percentile(silence, 95):.0f}" if silence else "-",
        f"{percentile(cut, 50):.0f} / {percentile(cut, 95):.0f}" if cut else "-",
        " ".join(f"{v['self_cuts']}" for v in laptop_.values()),
        " ".join(f"{100 * v['held_share']:.1f}%" for v in laptop_.values()),
    ]


def run() -> dict | None:
    if not ROOM_CLIPS.is_dir():
        print(f"(no {ROOM_CLIPS}: figure 16 plays the real room clips, and is skipped)")
        return None
    if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
        print("(no Chromium: figure 16 runs the page, and is skipped)")
        return None
    clips = real_clips()
    results = {"hold first": _design(True, clips), "cut first": _design(False, clips)}
    table(
        "Figure 16: hold, then decide, through Chromium (real clips at -25 dBFS, mid-joke)",
        [
            "design",
            "laughs truncated",
            "laughs held+resumed",
            "hold / laugh length",
            "speech cut",
            "words -> silent p50/p95 ms",
            "words -> cut p50/p95 ms",
            f"laptop self-cuts {'/'.join(f'{c:+.0f}' for c in COUPLINGS)} dB",
            "echo holds (share of answer time)",
        ],
        [_summary(name, r) for name, r in results.items()],
    )
    return results


if __name__ == "__main__":
    run()
