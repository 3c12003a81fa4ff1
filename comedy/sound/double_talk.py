"""The double-talk detector beside AEC3: while the comedian plays, a 10 ms block whose echo loss
falls well below the linear filter's usual holds someone besides the echo (a heckler); after the
echo moves, the filter is out of step until its loss comes back. Pure."""

from __future__ import annotations

import math
from collections import deque

import numpy as np

PLAYING_DBFS = -45.0  # ...counting 10 ms blocks whose reference is at least this loud
NEAR_DB = 4.0  # a block whose loss falls this far below the usual holds someone besides the echo...
VOICE_DBFS = -50.0  # ...if its linear output is this loud (the room's own noise has no loss to lose)
LOSS_SECONDS = 3.0  # the linear filter's usual echo loss is its median over this much play...
PLAYING_POWER = 32768.0**2 * 10 ** (PLAYING_DBFS / 10)
VOICE_POWER = 32768.0**2 * 10 ** (VOICE_DBFS / 10)
SMOOTHING = float(np.exp(-1 / 3))  # block energies smoothed over about 30 ms
IN_STEP_BLOCKS = 50  # after the echo moves, the filter is in step again once four in five of this
# many blocks of play lose within NEAR_DB of the usual...
GOOD_DB = 18.0  # ...of the usual, or of this (a filter this good leaves the echo well under a voice)
RELEARN_BLOCKS = (
    300  # ...or, after this many (3 s) still short of it, the room changed: its loss is the usual
)
STEADY_BLOCKS = 100  # back in step, the filter is trusted after this many blocks (a second) of play


class DoubleTalk:
    """Which 10 ms blocks of the linear canceller's output hold someone besides the comedian.

    Geigel's detector compares the microphone with the loudest recent reference, so a visitor
    quieter than the echo never passes it. This one compares the microphone with the linear
    canceller's output instead: alone, the comedian comes out `loss` dB quieter (the filter's
    usual echo loss, learned while it plays); a voice the filter cannot predict comes out whole,
    so the loss falls. A block whose loss is `NEAR_DB` under the usual holds someone talking.

    When playback restarts or the echo moves, the filter's loss falls too, until it has adapted:
    it is `in_step` again once its loss is back near the usual (and the usual is not learned from
    what it lost meanwhile).
    """

    def __init__(self, block: int) -> None:
        self.block = block
        self._energy = (1.0, 1.0)  # microphone and linear output, smoothed
        self._losses: deque[float] = deque(maxlen=int(LOSS_SECONDS * 100))
        self._usual: float | None = None  # the filter's usual echo loss, dB (None: not learned yet)
        self._heard = 0  # blocks of play heard
        self._recent: deque[float] = deque(maxlen=IN_STEP_BLOCKS)  # the latest losses, while relearning
        self._relearning = 0  # blocks of play since the filter fell out of step (0: in step)
        self._steady = STEADY_BLOCKS  # blocks of play since it came back in step

    @property
    def in_step(self) -> bool:
        """Whether the filter's loss can be trusted: a fall in it is someone talking (not in the
        first second after it came back: a filter still converging loses less, in fits)."""
        return not self._relearning and self._steady >= STEADY_BLOCKS

    def relearn(self) -> None:
        """The echo may have moved: distrust the filter until its loss is back."""
        if not self._relearning and self._usual is not None:
            self._relearning, self._recent = 1, deque(maxlen=IN_STEP_BLOCKS)

    def near(
        self, mic: np.ndarray, reference: np.ndarray, linear: np.ndarray, learn: bool = True
    ) -> np.ndarray:
        """Per sample, for whole blocks of microphone, reference and linear output: whether the
        block holds someone besides the comedian (`learn`: whether the filter was adapting, so
        its loss says how well it does)."""
        blocks = len(linear) // self.block
        powers = _power(np.stack([mic[: len(linear)], linear, reference[: len(linear)]]), self.block)
        heard_mic, heard_linear = self._energy
        near = np.zeros(blocks, bool)
        losses = []
        usual = self._usual  # learned from whole calls: the same for this call's few blocks
        for n, (mic_power, linear_power, played) in enumerate(powers.T.tolist()):  # a few blocks a call
            heard_mic = SMOOTHING * heard_mic + (1 - SMOOTHING) * (mic_power + 1.0)
            heard_linear = SMOOTHING * heard_linear + (1 - SMOOTHING) * (linear_power + 1.0)
            loss = 10 * math.log10(heard_mic / heard_linear)
            if played > PLAYING_POWER:
                losses.append(loss)
            near[n] = usual is not None and heard_linear > VOICE_POWER and loss < usual - NEAR_DB
        self._energy = (heard_mic, heard_linear)
        if learn:
            self._learn(losses)
        return np.repeat(near, self.block)

    def _learn(self, losses: list[float]) -> None:
        """The filter's usual echo loss, from the blocks it heard while the comedian played."""
        if self._relearning:
            self._catch_up(losses)
            return
        self._steady += len(losses)
        before = self._heard
        self._losses.extend(losses)
        self._heard += len(losses)
        if self._heard >= 20 and (self._heard // 10 > before // 10 or self._usual is None):
            self._usual = float(np.median(self._losses))

    def _catch_up(self, losses: list[float]) -> None:
        """While out of step: back in step once the loss is back near the usual, or, after long
        enough short of it, with its present loss as the usual (the room itself changed)."""
        self._recent.extend(losses)
        self._relearning += len(losses)
        if len(self._recent) < IN_STEP_BLOCKS or self._usual is None:
            return
        if float(np.percentile(self._recent, 20)) >= min(self._usual, GOOD_DB) - NEAR_DB:
            if float(np.median(self._recent)) < self._usual:  # back, but the filter is still catching up
                self._adopt_recent()
            self._relearning, self._steady = 0, 0
        elif self._relearning >= RELEARN_BLOCKS:
            self._adopt_recent()
            self._relearning, self._steady = 0, 0

    def _adopt_recent(self) -> None:
        """The filter's usual loss is now what it has lost lately."""
        self._losses.clear()
        self._losses.extend(self._recent)
        self._usual = float(np.median(self._recent))


def _power(pcm: np.ndarray, block: int) -> np.ndarray:
    """The mean square of each whole block of `pcm` (PCM16 units; of each row, if it has rows)."""
    blocks = pcm.shape[-1] // block
    whole = pcm[..., : blocks * block].astype(np.float64)
    return np.mean((whole * whole).reshape(*pcm.shape[:-1], blocks, block), axis=-1)
