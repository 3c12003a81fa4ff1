"""Where the comedian's echo sits in the microphone: the delay from what the page played to what its
microphone heard, found by GCC-PHAT over the last quarter second of play.

A browser's output path moves by whole buffers when playback stops and starts again, or when the
machine is busy (Chromium, seen in a set: 143 -> 153 -> 163 -> 173 ms). AEC3 finds the new delay on
its own, but the linear canceller beside it does not: it models the echo path as taps on the
reference, so a 10 ms move leaves most of the comedian in its output, where the double-talk detector
reads it as someone talking. Told the delay, the canceller keeps the echo at the same place in its
linear filter whatever the device does, and does not trust that filter while a move is unconfirmed.

The search runs at 8 kHz (soxr keeps a resampled copy of both streams) and the lag it finds is
refined to the sample at the stream's rate. It runs every 50 ms while something looks wrong (the
delay unknown or doubted, or the linear filter losing less than usual), every half second otherwise.
One per stream.
"""

from __future__ import annotations

import numpy as np
import soxr
from scipy import fft

SEARCH_RATE = 8000  # the coarse search's rate
WINDOW_SECONDS = 0.25  # the microphone audio each estimate compares (short: a move is found fast)
HOP_SECONDS = 0.05  # an estimate this often while something looks wrong...
CHECK_SECONDS = 0.5  # ...and this often otherwise
MAX_DELAY_SECONDS = 0.4  # the longest output + input path looked for (Bluetooth speakers reach 300 ms)
MIN_DELAY_SECONDS = 0.002  # no device is quicker (and the correlation's edges lie)
PLAYED_DBFS = -40.0  # a window counts only if the reference is this loud over it (speech, not a tail)...
HEARD_DBFS = -60.0  # ...and the microphone this loud (below it there is no echo worth placing)
WHITENING = 0.8  # PHAT-beta: each frequency's magnitude divided out to this power...
FLOOR = 0.05  # ...plus this much of the mean, so bins holding nothing weigh little
CLEAR = 12.0  # an estimate counts when its peak stands this many times the correlation's RMS (an
# echo stands 15-50 times, 10 under a heckle as loud; unrelated voices 4-8)
STILL = 4.0  # an echo standing this clear at the delay found is still there: no move, whatever else
# stands out (a voice that shares the comedian's sounds, a second path): under a heckle as loud as
# the echo its peak stood 10-46; one lag where no echo is seldom stands over 3
OUTSTOOD = 1.5  # ...but a lag this many times clearer elsewhere may be where it moved (two must agree)
AGREE = 2  # samples at the stream's rate: two estimates this close are the same delay
MOVED = 3  # samples at the stream's rate: a delay this far from the last one is a move
DOUBT_SECONDS = 1.0  # a doubt that no clear estimate settles (a faint echo) lapses after this much play


def _power(dbfs: float) -> float:
    return 10 ** (dbfs / 10)  # of float samples in [-1, 1]


class DelayTracker:
    """The echo's delay, in samples (None until found): `feed` the microphone and the reference as
    they come; `delay` holds the last delay found twice over, `unsure` whether the echo may have
    left it (a clear estimate elsewhere not confirmed yet, or playback restarted)."""

    def __init__(self, rate: int) -> None:
        self.rate, self.ratio = rate, rate / SEARCH_RATE
        self.window = int(WINDOW_SECONDS * SEARCH_RATE)
        self.reach = int(MAX_DELAY_SECONDS * SEARCH_RATE)
        self._streams = [_downsampler(rate) for _ in ("microphone", "reference")]
        self._mic = np.zeros(self.window, np.float32)  # at the search's rate
        self._ref = np.zeros(self.window + self.reach, np.float32)
        self._full_mic = np.zeros(int(WINDOW_SECONDS * rate), np.float32)  # at the stream's rate
        self._full_ref = np.zeros(int((WINDOW_SECONDS + MAX_DELAY_SECONDS) * rate), np.float32)
        self._fresh: list[tuple[np.ndarray, ...]] = []  # fed since the windows were last updated
        self._since = 0  # samples since the last estimate (stream's rate)
        self._filled = 0
        self._candidate: int | None = None
        self._doubted = 0  # samples of play judged since the doubt arose
        self.delay: int | None = None
        self.unsure = False
        self.elsewhere = False  # a clear estimate away from the delay awaits a second: it likely moved
        self.moves = 0  # times the delay moved once found

    @property
    def reach_samples(self) -> int:
        """The longest delay looked for, at the stream's rate."""
        return len(self._full_ref) - len(self._full_mic)

    def feed(self, mic: np.ndarray, reference: np.ndarray, wary: bool = False) -> None:
        """The next microphone samples and what was playing as each was captured (same length, int16);
        `wary`: something looks wrong (the linear filter loses less than usual), so look soon. A
        long stretch is looked at as often as if it came in pieces."""
        hop = int(HOP_SECONDS * self.rate)
        for at in range(0, len(mic), hop):
            self._feed(mic[at : at + hop], reference[at : at + hop], wary)

    def _feed(self, mic: np.ndarray, reference: np.ndarray, wary: bool) -> None:
        n = len(mic)
        if n == 0:
            return
        mic_f, ref_f = np.asarray(mic, np.float32) / 32768, np.asarray(reference, np.float32) / 32768
        self._fresh.append(
            (mic_f, ref_f, self._streams[0].resample_chunk(mic_f), self._streams[1].resample_chunk(ref_f))
        )
        self._filled += n
        self._since += n
        wary = wary or self.delay is None or self.unsure
        every = (HOP_SECONDS if wary else CHECK_SECONDS) * self.rate
        if self._since >= every and self._filled >= len(self._full_ref):
            self._since = 0
            self._take_fresh()
            self._estimate()
        elif self._since > len(self._full_ref):  # nothing to estimate yet: keep the buffers short
            self._take_fresh()

    def _take_fresh(self) -> None:
        """The audio fed since the last look, into the windows the estimates read."""
        for i, buffer in enumerate((self._full_mic, self._full_ref, self._mic, self._ref)):
            _shift_in(buffer, np.concatenate([parts[i] for parts in self._fresh]))
        self._fresh.clear()

    def _estimate(self) -> None:
        played, heard = self._full_ref[-len(self._full_mic) :], self._full_mic
        if np.mean(played * played) < _power(PLAYED_DBFS) or np.mean(heard * heard) < _power(HEARD_DBFS):
            return  # too little played, or heard, to find an echo in
        clarity = gcc_phat(self._mic, self._ref, self.reach)
        shortest = int(MIN_DELAY_SECONDS * SEARCH_RATE)
        coarse = shortest + int(np.argmax(clarity[shortest:]))
        if self.delay is not None:
            at = round(self.delay / self.ratio)
            near = clarity[max(shortest, at - 1) : at + 2]
            # the echo is where it was, whatever else is heard, unless another lag stands far
            # clearer: a voice repeats itself every pitch period, so a moved echo still stands
            # out at its old delay when the move is near a multiple of it
            if near.size and near.max() >= STILL and near.max() * OUTSTOOD >= clarity[coarse]:
                self.unsure = self.elsewhere = False
                self._candidate = None
                return
        if clarity[coarse] < CLEAR:
            self._doubted += int(HOP_SECONDS * self.rate)
            self.unsure = self.unsure and self._doubted < DOUBT_SECONDS * self.rate
            self.elsewhere = self.elsewhere and self.unsure
            return
        self._found(self._refined(coarse))

    def _refined(self, coarse: int) -> int:
        """The lag at the stream's rate: the plain correlation's peak around the coarse one."""
        centre = round(coarse * self.ratio)
        span = int(np.ceil(self.ratio))
        n, reach = len(self._full_mic), self.reach_samples
        lags = range(max(0, centre - span), min(reach, centre + span) + 1)
        ends = [len(self._full_ref) - lag for lag in lags]
        scores = [float(np.dot(self._full_mic, self._full_ref[end - n : end])) for end in ends]
        return lags[int(np.argmax(scores))]

    def _found(self, lag: int) -> None:
        confirmed = self._candidate is not None and abs(lag - self._candidate) <= AGREE
        self._candidate = lag
        if confirmed:
            self.moves += self.delay is not None and abs(lag - self.delay) > MOVED
            self.delay, self.unsure, self.elsewhere = lag, False, False
            return
        if not self.unsure:
            self.unsure, self._doubted = True, 0
        self.elsewhere = self.delay is not None

    def forget_moves(self) -> None:
        """Playback stopped: when it starts again the device's path may have moved, so the delay
        is not trusted until an estimate on the new audio agrees with it."""
        self.unsure, self._doubted = self.delay is not None, 0
        self._candidate = None


def gcc_phat(mic: np.ndarray, reference: np.ndarray, reach: int) -> np.ndarray:
    """How clearly `mic` (the last samples) trails the end of `reference` (`reach` samples longer)
    by each lag from 0 to `reach` samples: the whitened cross-correlation (GCC-PHAT-beta) over its
    RMS. An echo stands out at its delay; nothing stands out where there is none."""
    n = fft.next_fast_len(len(reference) + len(mic))
    spectrum = fft.rfft(mic, n) * np.conj(fft.rfft(reference, n))
    magnitude = np.abs(spectrum) ** WHITENING
    spectrum /= magnitude + FLOOR * float(np.mean(magnitude)) + 1e-12
    correlation = fft.irfft(spectrum, n)
    # mic[i] ~ reference[i + reach - lag]: lag L sits at circular index (L - reach) mod n
    lags = correlation[(np.arange(reach + 1) - reach) % n]
    return lags / (float(np.sqrt(np.mean(lags * lags))) or 1.0)


def _downsampler(rate: int) -> soxr.ResampleStream:
    return soxr.ResampleStream(rate, SEARCH_RATE, 1, dtype="float32", quality="LQ")


def _shift_in(buffer: np.ndarray, samples: np.ndarray) -> None:
    """Append `samples` to a fixed-length buffer, dropping as many of its oldest."""
    n = min(len(samples), len(buffer))
    if n:
        buffer[:-n] = buffer[n:]
        buffer[-n:] = samples[-n:]
