"""The engine's frames and reports, as they cross its socket: speech out as `item id + PCM16`,
the microphone in as PCM16 with the played reference beside it, and the player's JSON reports
read into the set (bounded: a report is no command). Pure but for `take_report`."""

from __future__ import annotations

import contextlib
import json
import math
import time

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.show.comedy_set import ComedySet
from comedy.show.speech_port import CutHeard, Played, Started
from comedy.web import page_wire

MIC_ONLY, WITH_REFERENCE = 1, 2  # a microphone frame's channels
MAX_TEXT_BYTES = 4096  # a player's report is a few hundred bytes
MAX_AGO_MS = 60_000.0  # a first sample heard longer ago than this is no report of now
MAX_SAMPLES = SAMPLE_RATE * 3600  # an hour of one item's audio: more is no count of what played


def speech_frame(item_id: str, pcm: np.ndarray) -> bytes:
    """One binary speech frame: item id, PCM16."""
    tag = item_id.encode("ascii", "replace")[:255]
    return bytes([len(tag)]) + tag + pcm.astype("<i2").tobytes()


def read_speech_frame(frame: bytes) -> tuple[str, np.ndarray]:
    """The parts of a speech frame (the page's parser, in Python: for tests and benchmarks)."""
    size = frame[0]
    return frame[1 : 1 + size].decode("ascii"), np.frombuffer(frame[1 + size :], dtype="<i2")


def microphone_frame(mic: np.ndarray, reference: np.ndarray | None = None) -> bytes:
    """One binary microphone frame: the microphone, and what was playing (None: nothing)."""
    channels = MIC_ONLY if reference is None else WITH_REFERENCE
    body = [np.asarray(mic).astype("<i2").tobytes()]
    if reference is not None:
        body.append(np.asarray(reference).astype("<i2").tobytes())
    return bytes([channels, 0]) + b"".join(body)


def read_microphone_frame(frame: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """The microphone and its reference (None: nothing played) from a frame; ValueError if malformed."""
    if len(frame) < 4 or frame[0] not in (MIC_ONLY, WITH_REFERENCE) or frame[1] != 0:
        raise ValueError("not a microphone frame")
    channels = frame[0]
    if (len(frame) - 2) % (2 * channels):
        raise ValueError("a microphone frame's channels differ in length")
    pcm = np.frombuffer(frame, dtype="<i2", offset=2)
    if channels == MIC_ONLY:
        return pcm, None
    half = len(pcm) // 2
    return pcm[:half], pcm[half:]


def read_report(text: str) -> dict:
    """A player's report from a text message (at most `MAX_TEXT_BYTES`, checked by the socket);
    ValueError (in words) if it cannot be one."""
    try:
        report = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("a report nested too deep") from None
    if not isinstance(report, dict):
        raise ValueError("a report is a JSON object")
    return report


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a report may hold")


def _count(value: object, most: float, least: float = 0.0) -> float | None:
    """A finite number between `least` and `most`, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)  # an int too large for a float raises OverflowError
    return number if math.isfinite(number) and least <= number <= most else None


def take_report(comedy_set: ComedySet, report: dict) -> None:
    """A player's report (`played`, `started`) into the set; numbers that are not finite counts
    in range are ignored, as is anything else."""
    kind = report.get("type")
    if kind == page_wire.PLAYED and isinstance(report.get("items"), dict):
        for item_id, samples in report["items"].items():
            with contextlib.suppress(OverflowError):
                if (count := _count(samples, MAX_SAMPLES)) is not None:
                    comedy_set.player(Played(str(item_id)[:64], int(count)))
        if report.get("final") is True:
            comedy_set.player(CutHeard())
    elif kind == page_wire.STARTED:
        with contextlib.suppress(OverflowError):
            # the output device's clock may put the first sample a little in the future: ago < 0
            if (ago := _count(report.get("ago_ms"), MAX_AGO_MS, -MAX_AGO_MS)) is not None:
                comedy_set.player(Started(str(report.get("item"))[:64], time.monotonic() - ago / 1000))
