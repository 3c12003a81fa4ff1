"""The set recording: both sides on one timeline as a WAV, and the transcript as Markdown."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

import numpy as np

from comedy import audio
from comedy.protocol import SAMPLE_RATE


@dataclass
class SetRecorder:
    """Collects the visitor's microphone and the comedian's speech at the times they were heard.

    Times are seconds from the start of the set; the mix is rendered only when downloaded.
    """

    max_seconds: float = 3600.0
    _pieces: list[tuple[float, np.ndarray]] = field(default_factory=list)

    def add(self, at: float, pcm: np.ndarray) -> None:
        """Place int16 audio at `at` seconds into the set (pieces past the cap are dropped)."""
        if 0 <= at < self.max_seconds and len(pcm):
            self._pieces.append((at, np.asarray(pcm, dtype=np.int16)))

    @property
    def nbytes(self) -> int:
        """The audio held so far, in bytes."""
        return sum(pcm.nbytes for _, pcm in self._pieces)

    def render(self, length_s: float) -> np.ndarray:
        """The whole set, `length_s` long, both sides mixed, as int16 at 24 kHz."""
        total = round(min(length_s, self.max_seconds) * SAMPLE_RATE)
        mix = np.zeros(total, np.int32)
        for at, pcm in self._pieces:
            start = round(at * SAMPLE_RATE)
            piece = pcm[: max(0, total - start)]
            mix[start : start + len(piece)] += piece
        return np.clip(mix, -32768, 32767).astype(np.int16)


def transcript_markdown(
    title: str,
    lines: list[tuple[float, str, str]],
    figures: str,
    scores: list[tuple[float, str, float, str]] = (),
    best: str = "",
) -> str:
    """The transcript with timings (`[m:ss] who: text`), each joke's score (`scores`: at, joke,
    laugh 0..1, the room in words), the best joke, and the meters' figures at the end."""
    out = [f"# {title}", ""]
    for at, who, text in lines:
        out.append(f"- `[{_clock(at)}]` **{who}**: {text}")
    if scores:
        out += [
            "",
            "## The room, joke by joke",
            "",
            "| # | at | laugh | the room | joke |",
            "|---|---|---|---|---|",
        ]
        for n, (at, joke, laugh, words) in enumerate(scores, 1):
            cell = joke.replace("|", "/").replace("\n", " ")[:80]
            out.append(f"| {n} | {_clock(at)} | {laugh:.2f} {'█' * round(laugh * 10)} | {words} | {cell} |")
    if best:
        out += ["", f"**Best joke:** {best}"]
    out += ["", "## Figures", "", figures, ""]
    return "\n".join(out)


def _clock(at: float) -> str:
    return f"{int(at // 60)}:{at % 60:04.1f}"


def set_archive(wav_pcm: np.ndarray, markdown: str) -> bytes:
    """One download: `set.wav` and `set.md` in a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("set.wav", audio.wav_bytes(wav_pcm))
        archive.writestr("set.md", markdown)
    return buffer.getvalue()
