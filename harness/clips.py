"""A labelled set of short clips for the sound classifier, made here from numbers and the house voice.

Speech is every rehearsal voice saying lines of several kinds (a heckle, a question, a line that
opens on a hiss or a breath, an aside) at several levels; laughter, applause, coughs and room noise
come from the rehearsal audience with their parameters spread by seed. Every clip sits in a room:
a bed of pink noise and hum at a random level under it, half a second of which comes first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from comedy.house.voice import speak
from comedy.realtime.protocol import SAMPLE_RATE, VOICES
from comedy.rehearsal import audience, vad
from comedy.sound import room
from comedy.sound.ear import Ear

SR = SAMPLE_RATE
LINES = (
    "Boo! That is not funny at all.",  # a heckle
    "Wait, can I ask you something?",  # a question
    "So what about the cats then?",  # opens on a hiss
    "Hey, do the one about airports.",  # opens on a breath
    "She told me that one last week.",  # opens on "sh"
    "You call that a joke?",  # short and sharp
    "Get off the stage!",  # short syllables, stops between them
    "Is this thing on?",  # an aside
)
LABELS = ("speech", "laughter", "applause", "cough", "noise")
LEAD = SR // 2  # the room before the sound


@dataclass(frozen=True)
class Clip:
    """One labelled sound in its room, int16 mono at 24 kHz; the sound starts after `LEAD` samples."""

    label: str
    name: str
    pcm: np.ndarray


def _in_a_room(sound: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    seconds = (len(sound) + LEAD) / SR + 0.1
    bed = audience.room_noise(
        seconds, rng.uniform(-62, -48), bool(rng.integers(2)), int(rng.integers(1 << 30))
    )
    mixed = bed[: LEAD + len(sound)].astype(np.int32)
    mixed[LEAD:] += sound
    return np.clip(mixed, -32768, 32767).astype(np.int16)


def clips(per_kind: int = 30, seed: int = 7) -> Iterator[Clip]:
    """Speech in all ten voices and every line, then `per_kind` of each room sound."""
    rng = np.random.default_rng(seed)
    for voice in VOICES:
        for line in LINES:
            gain = 10 ** (rng.uniform(-12, 0) / 20)  # near and far from the microphone
            sound = (np.asarray(speak(line, voice), dtype=np.float64) * gain).astype(np.int16)
            yield Clip("speech", f"{voice}: {line}", _in_a_room(sound, rng))
    for label in LABELS[1:]:
        kind = "noise" if label == "noise" else label
        for k in range(per_kind):
            sound = audience.sound(kind, seed * 1000 + k)
            yield Clip(label, f"{label} {k}", _in_a_room(sound, rng))


@dataclass(frozen=True)
class Decision:
    """What the set's ear made of a clip: `heard` is None when the server never reported it."""

    label: str
    heard: str | None
    after_report: float = 0.0  # seconds of audio from the server's report to the verdict
    after_onset: float = 0.0  # seconds of the sound heard before the verdict
    after_start: float = 0.0  # seconds from the clip's sound (after its room) to the verdict
    first: bool = True  # the verdict was the first the ear reached on the clip


def decide(
    clip: Clip, detection: dict | None = None, model: room.SpeechModel = room.SPEECH_MODEL
) -> Decision:
    """Play a clip through the rehearsal server's turn detection and the set's ear, 20 ms at a
    time, as the app does (a laugh or applause is ridden), to the clip's end or the first cut: the
    verdict (speech if any sound in it cut the comedian), and how much audio it waited for."""
    detector = vad.for_session(detection or {"type": "server_vad"}, None, 0)
    ear, step, first, sounds = Ear(model), SR // 50, None, 0
    for i in range(0, len(clip.pcm), step):
        chunk = clip.pcm[i : i + step]
        now = (i + len(chunk)) / SR  # the audio clock: the set hears in real time
        verdicts = [ear.heard(chunk, now, talking=True)[0]]
        for transition, at_ms in detector.feed(chunk):
            if transition == "started":
                sounds += 1
                verdicts.append(ear.started(f"item{sounds}", at_ms, True, now))
            else:
                verdicts.append(ear.stopped(f"item{sounds}", now))
        for verdict in filter(None, verdicts):
            hearing, at = verdict.hearing, now - LEAD / SR
            decision = Decision(
                clip.label, hearing.kind, verdict.waited, verdict.after_onset, at, first is None
            )
            if hearing.kind == "speech":
                return decision
            first = first or decision
            if hearing.reacts:
                ear.ride(hearing.kind, now)
    return first or Decision(clip.label, None)


def confusion(decisions: list[Decision]) -> dict[str, dict[str, int]]:
    """Rows: the clips' labels; columns: what the ear heard ("-": never reported)."""
    matrix: dict[str, dict[str, int]] = {label: {} for label in LABELS}
    for d in decisions:
        column = d.heard or "-"
        matrix[d.label][column] = matrix[d.label].get(column, 0) + 1
    return matrix
