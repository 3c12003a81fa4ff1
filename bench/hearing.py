"""Figure 13: hearing a real room. The set's ear on real recordings of laughs, applause and speech
(`../shared/room-clips`), scored leave-one-source-out, beside the synthetic clips and beside the
plain speech detector alone.

Each real clip is one sound in a room: half a second of the rehearsal audience's room noise
(quiet, -62 dBFS, or busy, -48 dBFS) and then the clip at -35, -25, -15 or -10 dBFS, fed 20 ms at
a time through the rehearsal server's turn detection and the set's ear while the comedian talks,
exactly as `harness.clips.decide` does for the synthetic clips. A verdict of speech cuts the
comedian; anything else lets it ride.

Leave-one-source-out: the ear's speech model (`comedy.sound.room.SpeechModel`, logistic weights over the
sound's figures) is fitted on every source but one (the synthetic clips always in), then scored on
that source's clips; a source is the repository or package the README names for a clip, and a clip
mixed from two sources is kept out of both folds' training. "Any moment" also scores every sound
start through each clip (a new onset every 0.4 s), not only its first.

`python -m bench.hearing` prints the figure; `python -m bench.hearing --fit` prints the weights
fitted on every clip, for `comedy/sound/room.py`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from bench.report import percentile, table
from comedy.realtime.protocol import SAMPLE_RATE
from comedy.rehearsal import audience
from comedy.sound import room, speech
from harness.clips import LEAD, Clip, clips, decide
from harness.room_clips import ROOM_CLIPS, RealClip, active_dbfs, real_clips

SR = SAMPLE_RATE
LEVELS = (-35.0, -25.0, -15.0, -10.0)  # the clip's active level, dBFS
ROOMS = {"quiet room": -62.0, "busy room": -48.0}  # the room noise under it, dBFS
STEP_SECONDS = 0.4  # "any moment": the next sound start is looked for this long after the last
TARGET = 0.95


def in_a_room(pcm: np.ndarray, level: float, noise: float, seed: int) -> np.ndarray:
    """The clip at `level` dBFS after half a second of room noise at `noise` dBFS, which goes on under it."""
    sound = pcm.astype(np.float64) * 10 ** ((level - active_dbfs(pcm)) / 20)
    bed = audience.room_noise((len(sound) + LEAD) / SR + 0.1, noise, True, seed).astype(np.float64)
    mixed = bed[: LEAD + len(sound)].copy()
    mixed[LEAD:] += sound
    return np.clip(np.round(mixed), -32768, 32767).astype(np.int16)


def trials(clip: RealClip) -> Iterator[tuple[str, float, np.ndarray]]:
    """The clip at every level in every room."""
    for n, (room_name, noise) in enumerate(ROOMS.items()):
        for level in LEVELS:
            yield room_name, level, in_a_room(clip.pcm, level, noise, seed=n * 100 + int(-level))


def onsets(pcm: np.ndarray, start: int = LEAD) -> Iterator[int]:
    """Sound starts through a clip: the first loud 10 ms, then the first after each step."""
    window = int(room.WINDOW * SR)
    while True:
        frames = pcm[start : len(pcm) // 240 * 240].reshape(-1, 240).astype(np.float64) / 32768.0
        loud = np.flatnonzero(10 * np.log10(np.mean(frames**2, axis=1) + 1e-12) > room.LOUD_DBFS)
        if not len(loud) or start + loud[0] * 240 + window > len(pcm):
            return
        onset = start + int(loud[0]) * 240
        yield onset
        start = onset + int(STEP_SECONDS * SR)


def figures_at(pcm: np.ndarray, onset: int) -> np.ndarray | None:
    """The model's inputs for the sound starting at `onset`."""
    lead = int(room.LEAD_SECONDS * SR)
    found = room.evidence(pcm[onset : onset + int(room.WINDOW * SR)], pcm[max(0, onset - lead) : onset])
    return None if found is None else found[0].vector()


def dataset(real: list[RealClip]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every sound start of every clip: inputs, is-speech, and which clip (-1: synthetic)."""
    xs, ys, owner = [], [], []
    for index, clip in enumerate(real):
        for _, _, pcm in trials(clip):
            for onset in onsets(pcm):
                x = figures_at(pcm, onset)
                if x is not None:
                    xs.append(x), ys.append(clip.label == "speech"), owner.append(index)
    for clip in clips():
        for onset in onsets(clip.pcm):
            x = figures_at(clip.pcm, onset)
            if x is not None:
                xs.append(x), ys.append(clip.label == "speech"), owner.append(-1)
    return np.array(xs), np.array(ys, dtype=np.float64), np.array(owner)


ROOM_TALK_SHARE = 0.05  # the threshold: at most this share of the fit's room sounds read as talk


def fit(x: np.ndarray, y: np.ndarray, ridge: float = 0.1) -> room.SpeechModel:
    """Logistic regression by Newton's method, the classes weighted equally, a little ridge; the
    threshold where at most `ROOM_TALK_SHARE` of the room's sounds it was fitted on are talk (a
    laugh cut is worse than a heckle heard a window later)."""
    a = np.c_[x, np.ones(len(x))]
    weight = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w = np.zeros(a.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-a @ w))
        gradient = a.T @ (weight * (p - y)) + ridge * w
        hessian = (a * (weight * p * (1 - p))[:, None]).T @ a + ridge * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    model = room.SpeechModel(tuple(round(float(v), 2) for v in w[:-1]), round(float(w[-1]), 2))
    scores = np.array([model.score(v) for v in x[y == 0]])
    threshold = max(0.5, float(np.quantile(scores, 1 - ROOM_TALK_SHARE))) if len(scores) else 0.5
    return room.SpeechModel(model.weights, model.bias, round(threshold, 3))


SPEECH_DETECTOR_ALONE = room.SpeechModel((20.0, 0.0), -10.0)  # talk: silero's mean >= 0.5


@dataclass(frozen=True)
class Trial:
    clip: str
    source: str
    label: str
    room_name: str
    level: float
    heard: str | None
    after_onset: float
    after_start: float
    first: bool  # decided on the sound's first window (not a later one)
    words_at: float | None = None  # seconds from the clip's start to its first words (speech only)


def score(real: list[RealClip], models: dict[str, room.SpeechModel]) -> list[Trial]:
    """Every clip at every level in every room through the turn detection and the ear, each
    clip heard with the model its source was left out of."""
    out = []
    for clip in real:
        model = models[clip.name]
        for room_name, level, pcm in trials(clip):
            d = decide(Clip(clip.label, clip.name, pcm), model=model)
            out.append(
                Trial(
                    clip.name,
                    clip.source,
                    clip.label,
                    room_name,
                    level,
                    d.heard,
                    d.after_onset,
                    d.after_start,
                    d.first,
                    first_words(pcm) if clip.label == "speech" else None,
                )
            )
    return out


WORDS_RUN = 3  # chunks (96 ms) in a row the speech detector is sure of


def first_words(pcm: np.ndarray) -> float | None:
    """When the words start in a clip (seconds after its room), by the speech detector run over the
    whole of it with its memory (not what the ear hears live): the first ~100 ms it is sure of.
    A recording may open on breath, a click or its own background noise; the cut is timed from here."""
    sure = np.array(speech.SpeechDetector().feed(pcm)) >= 0.5
    runs = np.convolve(sure, np.ones(WORDS_RUN), "valid") >= WORDS_RUN
    hits = np.flatnonzero(runs)
    return None if not len(hits) else max(0.0, hits[0] * speech.CHUNK_SECONDS - LEAD / SR)


def leave_one_source_out(real: list[RealClip], x: np.ndarray, y: np.ndarray, owner: np.ndarray) -> dict:
    """A model per clip, fitted on every clip that shares no source with it (and the synthetic ones)."""
    models, cache = {}, {}
    for clip in real:
        key = clip.sources
        if key not in cache:
            keep = np.array([o < 0 or not (real[o].sources & key) for o in owner])
            cache[key] = fit(x[keep], y[keep])
        models[clip.name] = cache[key]
    return models


def any_moment(real: list[RealClip], models: dict[str, room.SpeechModel]) -> dict[str, list[bool]]:
    """Every sound start through every clip (one level per room): heard as talk or not."""
    out: dict[str, list[bool]] = {}
    for clip in real:
        for noise in ROOMS.values():
            pcm = in_a_room(clip.pcm, -25.0, noise, seed=7)
            for onset in onsets(pcm):
                x = figures_at(pcm, onset)
                talk = x is not None and models[clip.name].score(x) >= models[clip.name].threshold
                out.setdefault(clip.name, []).append(talk)
    return out


def _share(trials_: list[Trial], label: str, cut: bool) -> tuple[int, int]:
    mine = [t for t in trials_ if (t.label == label if label != "room" else t.label != "speech")]
    return sum((t.heard == "speech") == cut for t in mine), len(mine)


def _matrix(title: str, trials_: list[Trial]) -> None:
    kinds = ["speech", "laughter", "applause", "noise", "silence", "-"]
    rows = []
    for label in ("speech", "laughter", "applause"):
        mine = [t for t in trials_ if t.label == label]
        rows.append((label, len(mine), *(sum((t.heard or "-") == k for t in mine) for k in kinds)))
    table(title, ["clip", "n", *kinds], rows)


def run() -> dict | None:
    """Measure and print figure 13 (None when the real clips are not here)."""
    room.warm_up()
    synthetic = [decide(c) for c in clips()]
    rows = []
    for label in ("speech", "laughter", "applause", "cough", "noise"):
        mine = [d for d in synthetic if d.label == label]
        rows.append((label, len(mine), sum(d.heard == "speech" for d in mine)))
    table("13a. The synthetic clips (harness.clips), the shipped ear", ["clip", "n", "heard as talk"], rows)
    if not ROOM_CLIPS.is_dir():
        print(f"(no {ROOM_CLIPS}: the real room clips are skipped; figure 13 needs them)")
        return None
    real = real_clips()
    started = time.monotonic()
    x, y, owner = dataset(real)
    models = leave_one_source_out(real, x, y, owner)
    cpu = time.process_time()
    ours = score(real, models)
    cpu = time.process_time() - cpu
    audio_seconds = sum(len(p) for c in real for _, _, p in trials(c)) / SR
    alone = score(real, {c.name: SPEECH_DETECTOR_ALONE for c in real})
    _matrix("13b. Real clips, leave-one-source-out: the ear (rows: what the clip is; columns: heard)", ours)
    _matrix("13c. Real clips: the speech detector alone (silero's mean >= 0.5 is talk)", alone)
    per_source = []
    for source in sorted({c.source for c in real}):
        mine = [t for t in ours if t.source == source]
        wrong = sorted({t.clip for t in mine if (t.heard == "speech") != (t.label == "speech")})
        right = sum((t.heard == "speech") == (t.label == "speech") for t in mine)
        per_source.append(
            (source, ", ".join(sorted({t.label for t in mine})), f"{right}/{len(mine)}", " ".join(wrong))
        )
    table(
        "13d. Per source (left out of the fit it is scored with)",
        ["source", "kinds", "right", "clips wrong"],
        per_source,
    )
    moments = any_moment(real, models)
    never = _share(ours, "room", cut=False)
    cut = _share(ours, "speech", cut=True)
    never_alone = _share(alone, "room", cut=False)
    cut_alone = _share(alone, "speech", cut=True)
    room_moments = [t for c in real if c.label != "speech" for t in moments.get(c.name, [])]
    speech_moments = [t for c in real if c.label == "speech" for t in moments.get(c.name, [])]
    after = [t.after_onset for t in ours if t.heard]
    firsts = sum(t.first for t in ours if t.label == "speech" and t.heard == "speech")
    cut_at = [t.after_start for t in ours if t.label == "speech" and t.heard == "speech"]
    words = [t.after_start - t.words_at for t in ours if t.heard == "speech" and t.words_at is not None]
    table(
        "13e. The ear against the issue's targets (real clips, leave-one-source-out)",
        ["figure", "measured", "target", "ratio", "speech detector alone"],
        [
            (
                "laughs and applause never cut",
                f"{never[0]}/{never[1]}",
                ">= 95 %",
                f"{never[0] / never[1] / TARGET:.2f}x",
                f"{never_alone[0]}/{never_alone[1]}",
            ),
            (
                "speech cuts",
                f"{cut[0]}/{cut[1]}",
                ">= 95 %",
                f"{cut[0] / cut[1] / TARGET:.2f}x",
                f"{cut_alone[0]}/{cut_alone[1]}",
            ),
            (
                "... any moment: room not talk",
                f"{room_moments.count(False)}/{len(room_moments)}",
                "-",
                "-",
                "-",
            ),
            (
                "... any moment: speech is talk",
                f"{speech_moments.count(True)}/{len(speech_moments)}",
                "-",
                "-",
                "-",
            ),
            (
                "audio heard before the verdict p50/p95",
                f"{percentile(after, 50) * 1000:.0f} / {percentile(after, 95) * 1000:.0f} ms",
                "<= 300 ms",
                f"{percentile(after, 95) / 0.3:.2f}x",
                "-",
            ),
            ("speech cut on its sound's first window", f"{firsts}/{cut[1]}", "-", "-", "-"),
            (
                "speech: the clip's start to the cut p50/p95",
                f"{percentile(cut_at, 50) * 1000:.0f} / {percentile(cut_at, 95) * 1000:.0f} ms",
                "-",
                "-",
                "-",
            ),
            (
                "speech: its first words to the cut p50/p95",
                f"{percentile(words, 50) * 1000:.0f} / {percentile(words, 95) * 1000:.0f} ms",
                "-",
                "-",
                "-",
            ),
            (
                "CPU a second of microphone audio (the ear)",
                f"{cpu / audio_seconds * 1000:.1f} ms",
                "<= 10 ms",
                f"{cpu / audio_seconds / 0.01:.2f}x",
                "-",
            ),
        ],
    )
    print(f"(figure 13 took {time.monotonic() - started:.0f} s; {len(real)} real clips, {len(ours)} trials)")
    return {"ours": ours, "alone": alone, "never_cut": never, "cut": cut, "models": models}


def fitted() -> room.SpeechModel:
    """The weights fitted on every real clip (when here) and every synthetic one."""
    real = real_clips() if ROOM_CLIPS.is_dir() else []
    x, y, _ = dataset(real)
    return fit(x, y)


if __name__ == "__main__":
    if "--fit" in sys.argv[1:]:
        print(fitted())
    else:
        run()
