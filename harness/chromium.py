"""Headless Debian Chromium as the benchmarks and the screenshots open it: sound plays without a
gesture, and a fake microphone (silent, or a WAV file's) is granted without asking."""

from __future__ import annotations

import shutil
from pathlib import Path


def open_browser(playwright, microphone: Path | None = None):
    """Chromium with autoplay allowed and a fake microphone (`microphone`: the WAV it hears)."""
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ]
    if microphone is not None:
        args.append(f"--use-file-for-fake-audio-capture={microphone}")
    return playwright.chromium.launch(
        executable_path=shutil.which("chromium") or "/usr/bin/chromium", headless=True, args=args
    )
