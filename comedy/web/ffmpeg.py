"""Gradio 6 encodes streamed audio with an `ffmpeg` subprocess: make sure there is one on PATH."""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import cache
from pathlib import Path


@cache
def ensure_ffmpeg() -> str:
    """Return the ffmpeg Gradio will run: the system's, else the `imageio-ffmpeg` wheel's static build.

    Gradio looks it up as plain `ffmpeg` on PATH, so the wheel's binary is linked under that name
    in a folder this process makes for itself (private, unpredictable: nothing another user put in
    a shared temp folder is ever run), put first on PATH.
    """
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # only needed on machines without a system ffmpeg

    binary = Path(imageio_ffmpeg.get_ffmpeg_exe()).resolve()
    folder = Path(tempfile.mkdtemp(prefix="comedy-ffmpeg-"))  # mode 0700, a fresh random name
    link = folder / "ffmpeg"
    link.symlink_to(binary)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    return str(link)
