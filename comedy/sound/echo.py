"""Acoustic echo cancellation for one visitor's microphone: WebRTC's AEC3 (through `pywebrtc-audio`).

On laptop speakers the microphone hears the comedian, and the browser's own canceller ignores audio
a page plays through Web Audio. The page's capture worklet sends, beside each microphone frame, what
its player was rendering at that moment (the reference); AEC3 finds the delay and the room's echo
path and takes the comedian out. Narrow on purpose: microphone and reference in, microphone out.

AEC3 output is what the API and the ear hear. But AEC3's suppressor holds a visitor who talks over
the comedian down (for the first few hundred milliseconds, and in the bands the comedian fills),
which leaves a heckle too broken for a speech detector to recognise. So a second canceller runs
beside it, linear only (SpeexDSP's MDF filter through `pyaec`, no suppressor): more of the comedian
is left in its output, but a heckle comes through whole. It is only listened to, never sent.

AEC3 costs about 1 % of a core per stream while it runs, so it runs only while it is needed: while
a reference arrives, and for `TAIL_SECONDS` after (the room's echo dies away, the device drains its
buffers); otherwise the microphone passes through untouched. The canceller keeps what it learned of
the room across those pauses, so the next answer starts converged. Not thread-safe: one per stream.
"""

from __future__ import annotations

import ctypes
import time
from typing import NamedTuple

import numpy as np
import pyaec
from pywebrtc_audio import AudioProcessor

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound.double_talk import DoubleTalk
from comedy.sound.echo_delay import DelayTracker

BLOCK = SAMPLE_RATE // 100  # AEC3 takes exactly 10 ms at a time
TAIL_SECONDS = 1.0  # after the last sound played: the echo's tail and the output path's latency
SETTLING_SECONDS = 8.0  # AEC3 learns a room from at least this much of the comedian's voice (with
# 3 s, it still let echo through above the ear's threshold 7 s into a first answer at +6 dB)...
SETTLED_DB = 12.0  # ...and the linear filter has taken this much of it out over a second of it
NO_ECHO_DB = 30.0  # or the microphone holds this much less than was played: no echo to learn (headphones)...
NO_ECHO_SECONDS = 3.0  # ...over this much of the comedian's voice
SILENT = 1  # a reference whose samples never exceed this (in PCM16 units) played nothing
LINEAR_SECONDS = 0.25  # the linear filter's reach (300 ms: 15 % more CPU): the room's first 200 ms...
RAILED_SHARE = 0.9  # a 10 ms block this much at full scale is no sound a room makes (a microphone
# clipping hard at +12 dB of coupling puts at most 75 % there): the linear filter skips it
LEAD_SECONDS = 0.05  # ...after the echo's start, which sits this far in whatever the device's delay
STEP = SAMPLE_RATE // 50  # what a page sends at a time: 20 ms
RESTART_SECONDS = 0.3  # silence after which the device's output path may have moved


class Cancelled(NamedTuple):
    """The microphone without the comedian: `audio` (AEC3's, for the API and the ear), `linear`
    (the linear canceller's, a heckle kept whole: for the speech detector only) and `near`, per
    sample, where the linear output holds someone besides the comedian's leftover (None: nobody
    was told apart, as when the canceller did not run)."""

    audio: np.ndarray
    linear: np.ndarray
    near: np.ndarray | None = None


class RoomLearning:
    """Judged a second of play at a time: how much of the comedian the linear filter takes out, or
    that the microphone hardly hears it at all (headphones)."""

    def __init__(self) -> None:
        self.learnt = False
        self.no_echo = False  # learnt that the microphone does not hear the comedian (headphones)
        self.energy = np.zeros(3)  # microphone, linear output and reference energy over a second of play
        self.seconds = 0.0

    def add(
        self, mic: np.ndarray, linear: np.ndarray, reference: np.ndarray, seconds: float, heard_playing: float
    ) -> None:
        """`seconds` more of play: a judgement once a second of it is in."""
        n = len(linear)
        self.energy += [np.sum(x[:n].astype(np.float64) ** 2) for x in (mic, linear, reference)]
        self.seconds += seconds
        if self.seconds < 1.0:
            return
        mic_energy, linear_energy, played = self.energy + 1.0
        removed = 10 * np.log10(mic_energy / linear_energy)
        unheard = 10 * np.log10(played / mic_energy)
        no_echo = unheard >= NO_ECHO_DB and heard_playing >= NO_ECHO_SECONDS
        self.learnt = no_echo or (removed >= SETTLED_DB and heard_playing >= SETTLING_SECONDS)
        self.no_echo = no_echo
        self.energy[:], self.seconds = 0.0, 0.0


class EchoCanceller:
    """One visitor's echo canceller: `process(mic, reference)` returns the microphone without the echo."""

    def __init__(self, rate: int = SAMPLE_RATE, tail_seconds: float = TAIL_SECONDS) -> None:
        if rate % 100:
            raise ValueError(f"the canceller needs 10 ms blocks of whole samples, not {rate} Hz")
        self.rate = rate
        self.block = rate // 100
        self.tail = int(tail_seconds * rate)
        self._aec: AudioProcessor | None = None  # made on the first reference: most visitors never need it
        self._linear: pyaec.Aec | None = None
        self._since_played = self.tail  # samples since the reference last held sound
        self._mic_rest = np.zeros(0, np.int16)
        self._ref_rest = np.zeros(0, np.int16)
        self.seconds = 0.0  # microphone audio the canceller has processed
        self.heard_playing = 0.0  # of which the page was playing something: what AEC3 learns from
        self._room = RoomLearning()  # how much of the comedian the microphone hears, and the filter takes out
        self._double_talk = DoubleTalk(self.block)
        self._delay = DelayTracker(rate)
        self._lead = int(LEAD_SECONDS * rate)
        self._wary = False  # the linear filter lost less than usual lately: the echo may have moved
        self._shift = 0  # samples the linear filter's reference is delayed by
        self._played = np.zeros(self._delay.reach_samples, np.int16)  # the reference before this call's
        self.cpu_seconds = 0.0  # the CPU time that took (this thread's)

    @property
    def learned(self) -> bool:
        """Whether the canceller has learned the room (or found no echo to learn)."""
        return self._aec is None or self._room.no_echo or self._room.learnt

    @property
    def settled(self) -> bool:
        """Whether the canceller has learned the room (or never had an echo to learn) and knows
        where the echo sits now: until then more of the comedian is left in the microphone, and in
        the linear output most of it."""
        return self.learned and (self._room.no_echo or (not self._delay.unsure and self._double_talk.in_step))

    @property
    def echoing(self) -> bool:
        """Whether the microphone may hold the comedian now: the canceller runs, and has not found
        the room free of echo (headphones)."""
        return self.active and not self._room.no_echo

    @property
    def active(self) -> bool:
        """Whether the canceller is running (something played within the tail)."""
        return self._since_played < self.tail or len(self._mic_rest) > 0

    def process(self, mic: np.ndarray, reference: np.ndarray | None = None) -> Cancelled:
        """The next microphone samples (int16) and what was playing as each was captured (None:
        nothing). Returns the cancelled microphone; while running, whole 20 ms steps only, so
        the output may trail the input by less than a step.

        A batch is taken step by step as a page sends it (20 ms) where the canceller starts, stops
        or play restarts inside it; otherwise in one go, the same work done once per call."""
        mic = np.asarray(mic, dtype=np.int16)
        if reference is not None and len(reference) != len(mic):
            raise ValueError("the reference must be as long as the microphone audio")
        if self._room.no_echo:
            return Cancelled(mic, mic)  # headphones: nothing to take out, and nothing to spend
        playing = _playing_steps(reference, len(mic))
        if len(playing) > 1 and not self._in_one_go(playing):
            steps = range(0, len(mic), STEP)
            return _joined([self.process(mic[i : i + STEP], _part(reference, i)) for i in steps])
        if not playing.any() and not self.active:
            return Cancelled(mic, mic)
        for plays, at in zip(playing.tolist(), range(0, len(mic), STEP), strict=True):
            if plays:
                if self._since_played >= RESTART_SECONDS * self.rate:
                    self._delay.forget_moves()
                self._since_played = 0
                self.heard_playing += min(STEP, len(mic) - at) / self.rate
            else:
                self._since_played += min(STEP, len(mic) - at)
        if reference is None:
            reference = np.zeros(len(mic), np.int16)
        reference = np.asarray(reference, dtype=np.int16)
        cancelled = self._cancel(mic, reference)
        if playing.any() and not self._room.learnt:
            played = np.repeat(playing, STEP)[: len(cancelled.linear)]
            n = len(played)
            self._learn(mic[:n][played], cancelled.linear[played], reference[:n][played])
        return cancelled

    def _in_one_go(self, playing: np.ndarray) -> bool:
        """Whether a batch of 20 ms steps (`playing`: where something played) can be taken in one
        go: the canceller runs through all of it, and play does not restart inside it."""
        since = self._since_played
        if not playing[0] and not self.active:
            return not playing.any()  # all of it passes through
        for k, plays in enumerate(playing.tolist()):
            if plays:
                if k and since >= RESTART_SECONDS * self.rate:
                    return False
                since = 0
            else:
                since += STEP
                if since >= self.tail and k < len(playing) - 1:
                    return False
        return True

    def _learn(self, mic: np.ndarray, linear: np.ndarray, reference: np.ndarray) -> None:
        self._room.add(mic, linear, reference, len(linear) / self.rate, self.heard_playing)

    def _cancel(self, mic: np.ndarray, reference: np.ndarray) -> Cancelled:
        started = time.thread_time()
        if self._aec is None or self._linear is None:
            self._aec = AudioProcessor(sample_rate=self.rate, echo_cancellation=True)
            self._linear = pyaec.Aec(self.block, int(LINEAR_SECONDS * self.rate), self.rate, False)
        mic = np.concatenate([self._mic_rest, mic])
        reference = np.concatenate([self._ref_rest, reference])
        whole = len(mic) // STEP * STEP
        moves = self._delay.moves
        self._delay.feed(mic[:whole], reference[:whole], self._wary)
        if self._delay.moves > moves:
            self._double_talk.relearn()  # the filter adapted to the wrong place meanwhile
        aligned = self._aligned(reference[:whole])
        held = self._delay.elsewhere
        if held:  # the echo has likely moved: the linear filter must not learn the wrong place
            aligned = np.zeros_like(aligned)
        out = np.empty(whole, np.int16)
        linear = np.empty(whole, np.int16)
        out[:] = self._aec.process(mic[:whole], reference[:whole])  # 10 ms blocks, in one call
        self._linear_blocks(mic[:whole], aligned, linear)
        self._mic_rest, self._ref_rest = mic[whole:], reference[whole:]
        near = self._double_talk.near(mic[:whole], reference[:whole], linear, learn=not held)
        self._wary = bool(near[-STEP:].any()) or not self._double_talk.in_step  # as of the last 20 ms
        self.seconds += whole / self.rate
        self.cpu_seconds += time.thread_time() - started
        return Cancelled(out, linear, near)

    def _aligned(self, reference: np.ndarray) -> np.ndarray:
        """The reference for the linear filter: delayed so that the echo starts `LEAD_SECONDS` into
        the filter however far the device has moved it (AEC3 finds the delay itself)."""
        if self._delay.delay is not None and not self._delay.unsure:
            self._shift = min(max(0, self._delay.delay - self._lead), len(self._played))
        history = np.concatenate([self._played, reference])
        self._played = history[len(reference) :]
        start = len(history) - len(reference) - self._shift
        return history[start : start + len(reference)]

    def _linear_blocks(self, mic: np.ndarray, reference: np.ndarray, out: np.ndarray) -> None:
        """Whole 10 ms blocks through the linear canceller, straight from and into numpy's buffers
        by address (its C entry point: `Aec.cancel_echo` copies each block through Python lists).

        A block that is nearly all full scale (`RAILED_SHARE` of its samples on the rails: no sound
        in a room, a hostile page's square wave or a constant) is not given to it:
        it hears silence there, and the block passes as it came. Such blocks make SpeexDSP's
        filter diverge, reset, and say so on stderr, a hundred lines a second."""
        blocks, size = len(out) // self.block, self.block
        loud = np.maximum(_railed(mic, size), _railed(reference, size)) >= RAILED_SHARE
        heard, played = (np.array(x[: blocks * size], np.int16) for x in (mic, reference))  # copies
        heard.reshape(blocks, size)[loud] = played.reshape(blocks, size)[loud] = 0  # silence there
        at_heard, at_played, at_out = heard.ctypes.data, played.ctypes.data, out.ctypes.data
        for at in range(0, blocks * 2 * size, 2 * size):  # bytes: the buffers are int16
            _CANCEL_ECHO(self._linear._aec, at_heard + at, at_played + at, at_out + at, size)
        out[: blocks * size].reshape(blocks, size)[loud] = mic[: blocks * size].reshape(blocks, size)[loud]


# SpeexDSP's `AecCancelEcho(aec, mic, reference, out, samples)`, called with buffer addresses (its
# own handle on the library: the argument types set here are not `pyaec`'s).
_CANCEL_ECHO = ctypes.CDLL(pyaec.lib._name).AecCancelEcho
_CANCEL_ECHO.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
_CANCEL_ECHO.restype = None


def _playing_steps(reference: np.ndarray | None, samples: int) -> np.ndarray:
    """Per 20 ms step of `samples` (a last, shorter one too): whether something played in it."""
    steps = -(-samples // STEP)
    if reference is None or not steps:
        return np.zeros(steps, bool)
    padded = np.zeros(steps * STEP, np.int32)
    padded[:samples] = np.abs(np.asarray(reference, dtype=np.int32))
    return padded.reshape(steps, STEP).max(axis=1) > SILENT


def _part(reference: np.ndarray | None, at: int) -> np.ndarray | None:
    """20 ms of a reference (None: nothing played in it)."""
    if reference is None or not np.any(reference[at : at + STEP]):
        return None
    return reference[at : at + STEP]


def _joined(parts: list[Cancelled]) -> Cancelled:
    """Consecutive outputs as one (nobody else where a part told nobody apart)."""
    near = [p.near if p.near is not None else np.zeros(len(p.linear), bool) for p in parts]
    nobody = all(p.near is None for p in parts)
    return Cancelled(
        np.concatenate([p.audio for p in parts]),
        np.concatenate([p.linear for p in parts]),
        None if nobody else np.concatenate(near),
    )


def _railed(pcm: np.ndarray, block: int) -> np.ndarray:
    """The share of each whole block's samples at full scale."""
    blocks = len(pcm) // block
    return np.mean((np.abs(pcm[: blocks * block].astype(np.int32)) >= 32767).reshape(blocks, block), axis=1)
