"""The set recording: both sides on one timeline as a WAV, and the transcript as Markdown."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound import audio
from comedy.stage.stage import Stage
from comedy.stage.transcript import score_words

BEST_BIT_SECONDS = 20.0
LEAD_SECONDS = 0.3  # the beat before the joke
LAUGH_TAIL_SECONDS = 1.0  # the laugh's fade, after its loud part
ROOM_TAIL_MAX_SECONDS = 8.0


@dataclass(frozen=True)
class JokeLine:
    """One joke on the scorecard."""

    at: float
    text: str
    laugh: float
    room: str  # what the room did, in words
    latency: float | None
    cost: float
    voice: str


@dataclass
class SetRecorder:
    """Collects the visitor's microphone and the comedian's speech at the times they were heard.

    Times are seconds from the start of the set; the mix is rendered only when downloaded.
    """

    max_seconds: float = 3600.0
    _pieces: list[tuple[float, np.ndarray]] = field(default_factory=list)
    _held: int = 0

    def add(self, at: float, pcm: np.ndarray) -> None:
        """Place int16 audio at `at` seconds into the set. Pieces past the cap are dropped, and so
        is anything beyond twice the set's length in samples (both sides talking all along): a
        client that sends faster than real time cannot fill memory with it."""
        if 0 <= at < self.max_seconds and len(pcm) and self._held + len(pcm) <= self.max_samples:
            self._pieces.append((at, np.asarray(pcm, dtype=np.int16)))
            self._held += len(pcm)

    @property
    def max_samples(self) -> int:
        """The most audio the recorder holds, in samples."""
        return int(2 * self.max_seconds * SAMPLE_RATE)

    @property
    def nbytes(self) -> int:
        """The audio held so far, in bytes."""
        return self._held * 2

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
    scores: list[JokeLine] = (),
    best: str = "",
) -> str:
    """The transcript with timings (`[m:ss] who: text`), each joke's line on the scorecard, the
    best joke, and the meters' figures at the end."""
    out = [f"# {title}", ""]
    for at, who, text in lines:
        out.append(f"- `[{_clock(at)}]` **{who}**: {text}")
    if scores:
        out += [
            "",
            "## The scorecard, joke by joke",
            "",
            "| # | at | laugh | the room | latency | cost | voice | joke |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for n, j in enumerate(scores, 1):
            cell = j.text.replace("|", "/").replace("\n", " ")[:80]
            latency = f"{j.latency * 1000:.0f} ms" if j.latency is not None else "-"
            bar = "█" * round(j.laugh * 10)
            out.append(
                f"| {n} | {_clock(j.at)} | {j.laugh:.2f} {bar} | {j.room} | {latency} | ${j.cost:.4f} "
                f"| {j.voice} | {cell} |"
            )
    if best:
        out += ["", f"**Best joke:** {best}"]
    out += ["", "## Figures", "", figures, ""]
    return "\n".join(out)


def _clock(at: float) -> str:
    return f"{int(at // 60)}:{at % 60:04.1f}"


def set_archive(wav_pcm: np.ndarray, markdown: str, best_bit: np.ndarray | None = None) -> bytes:
    """One download: `set.wav`, `set.md` and, when the room laughed, `best-bit.wav` in a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("set.wav", audio.wav_bytes(wav_pcm))
        archive.writestr("set.md", markdown)
        if best_bit is not None and len(best_bit):
            archive.writestr("best-bit.wav", audio.wav_bytes(best_bit))
    return buffer.getvalue()


def best_bit(set_pcm: np.ndarray, start: float, joke_seconds: float, laugh_seconds: float) -> np.ndarray:
    """The best joke and the laugh after it, from the whole set's audio: at most `BEST_BIT_SECONDS`
    (a long joke keeps its end, where the punchline is)."""
    end = start + joke_seconds + min(laugh_seconds + LAUGH_TAIL_SECONDS, ROOM_TAIL_MAX_SECONDS)
    start = max(start - LEAD_SECONDS, end - BEST_BIT_SECONDS, 0.0)
    return set_pcm[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]


class RecordedSet(Protocol):
    """What a download needs of a set (a `ComedySet`; named here so data flows one way)."""

    length: float
    stage: Stage
    recorder: SetRecorder


def archive(comedy_set: RecordedSet) -> bytes:
    """A set so far as one download: `set.wav` (both sides) and `set.md` (transcript, figures)."""
    length = comedy_set.length
    who = {"user": "Visitor", "assistant": "Comedian"}
    stage = comedy_set.stage
    lines = [(t.at, who[t.role], t.shown()) for t in stage.transcript]
    title = f"A set with {stage.set_up.voice} ({stage.set_up.style}), {length:.1f} s"
    scores = [
        JokeLine(t.at, t.text, t.score.laugh, score_words(t.score), t.latency, t.cost, t.voice)
        for t in comedy_set.stage.lines.jokes()
        if t.score
    ]
    best = stage.best_joke()
    named = f"\u201c{best.text.strip()}\u201d ({score_words(best.score)})" if best else ""
    markdown = transcript_markdown(title, lines, stage.meters.summary(), scores, named)
    whole = comedy_set.recorder.render(length)
    return set_archive(whole, markdown, best_bit_of(comedy_set, whole))


def best_bit_of(comedy_set: RecordedSet, whole: np.ndarray | None = None) -> np.ndarray | None:
    """The set's best joke and the laugh after it (None when no joke got a laugh)."""
    stage = comedy_set.stage
    best = stage.best_joke()
    if best is None:
        return None
    whole = comedy_set.recorder.render(comedy_set.length) if whole is None else whole
    joke_seconds = stage.speaker.received.get(best.item_id or "", 0) / SAMPLE_RATE
    return best_bit(whole, best.at, joke_seconds, best.score.seconds)
