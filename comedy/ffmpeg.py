"""Gradio 6 encodes streamed audio with an `ffmpeg` subprocess: make sure there is one on PATH."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path


def ensure_ffmpeg() -> str:
    """Return the ffmpeg Gradio will run: the system's, else the `imageio-ffmpeg` wheel's static build.

    Gradio looks it up as plain `ffmpeg` on PATH, so the wheel's binary is linked under that name
    in a private folder put first on PATH.
    """
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # only needed on machines without a system ffmpeg

    binary = Path(imageio_ffmpeg.get_ffmpeg_exe())
    folder = Path(tempfile.gettempdir()) / f"comedy-ffmpeg-{os.getuid()}"
    folder.mkdir(exist_ok=True)
    link = folder / "ffmpeg"
    if not link.exists():
        with contextlib.suppress(FileExistsError):  # another process made it first
            link.symlink_to(binary)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    return str(link)
