"""The real recordings of `../shared/room-clips` (crowd and single laughs, applause, speech, speech
over noise; mono 24 kHz; their sources and licences in the folder's README), for tests and
benchmarks alike. They are never copied into the project: whoever needs them skips, saying so,
when the folder is not there."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE as SR

ROOM_CLIPS = Path(__file__).resolve().parents[2] / "shared" / "room-clips"
KINDS = {"crowd laughter": "laughter", "single laugh": "laughter", "applause": "applause"}


@dataclass(frozen=True)
class RealClip:
    """One real recording: what it is, where it came from, its audio (int16, 24 kHz)."""

    name: str
    kind: str  # what the README says it is
    label: str  # speech, laughter or applause
    sources: frozenset[str]
    pcm: np.ndarray

    @property
    def source(self) -> str:
        return " + ".join(sorted(self.sources))


def real_clips(folder: Path = ROOM_CLIPS) -> list[RealClip]:
    """The clips the folder's README lists, each with its kind and source(s)."""
    import soundfile

    out = []
    for line in (folder / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not cells[0].endswith(".wav") or not (folder / cells[0]).exists():
            continue
        kind, where = cells[1], cells[4]
        sources = set(re.findall(r"GitHub ([\w.-]+/[\w.-]+)", where))
        sources |= set(re.findall(r"PyPI ([\w.-]+)", where))
        for mixed in re.findall(r"([\w-]+\.wav) \(above\)", where):  # a mix: also its part's source
            sources |= next((c.sources for c in out if c.name == mixed[:-4]), set())
        pcm, rate = soundfile.read(folder / cells[0], dtype="int16")
        if rate != SR or pcm.ndim != 1:
            continue
        label = KINDS.get(kind, "speech" if kind.startswith("speech") else kind)
        out.append(RealClip(cells[0][:-4], kind, label, frozenset(sources or {cells[0]}), pcm))
    return out


def active_dbfs(pcm: np.ndarray) -> float:
    """The level of a clip's sounding 20 ms frames (those within 30 dB of its loudest)."""
    frames = pcm[: len(pcm) // 480 * 480].reshape(-1, 480).astype(np.float64) / 32768.0
    power = np.mean(frames**2, axis=1)
    return float(10 * np.log10(np.mean(power[power > power.max() / 1000]) + 1e-12))
