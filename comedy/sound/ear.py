"""The set's ear: what the visitor's microphone holds, and what each sound the server reports is.

The server's turn detection says when sound starts and stops, and nothing more (it neither answers
nor cuts). The ear keeps the session's microphone audio on the server's timeline (`audio_start_ms`
counts from the session's first sample), finds where a reported sound really begins, and hears its
first `room.WINDOW` seconds to tell speech from laughter, applause and noise. While the room laughs
it follows the laugh until it fades. Pure: audio and times in, verdicts out.

While the comedian talks, the microphone also holds what is left of its echo after the canceller,
and the canceller turns a heckler down for the first few hundred milliseconds of double talk: there
a sound is speech only if a speech detector (`comedy.sound.speech`) hears a run of at least
`BARGE_IN_SECONDS` in it and the room does not read it as laughter or applause. The detector hears
the echo canceller's linear output (`comedy.sound.echo`: a heckle whole, more of the comedian left in),
and a run counts only where the sent audio holds sound too (`AUDIBLE_DBFS`) or the canceller
heard someone besides the comedian (`Cancelled.near`), which its leftover never is. The same
evidence lets the set cut the comedian itself (a verdict with no item) when the server reports
nothing, as its turn detection may not for a heckle quieter than the comedian.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound import room, speech
from comedy.sound.room import Hearing

KEEP_SECONDS = 10.0  # the microphone audio the ear holds
FADE_SECONDS = 0.5  # this long quiet and a laugh is over
MAX_LAUGH_SECONDS = 12.0  # a laugh held longer than this is over anyway (a room that never quiets)
WINDOW_SAMPLES = int(room.WINDOW * SAMPLE_RATE)
TEN_MS = SAMPLE_RATE // 100
REMEMBERED_SOUNDS = 64
BARGE_IN_SECONDS = 0.2  # a run of speech this long, while the comedian talks, is someone talking
SETTLING_RUN_SECONDS = 0.6  # ...this long while the echo canceller is still learning the room
SPEECH_ON, SPEECH_HOLD = 0.5, 0.35  # a run starts above the first probability, holds above the second
CONFIRM_SECONDS = 0.8  # how long after a sound's onset the ear waits for that run, while talking
AUDIBLE_DBFS = -50.0  # a run counts where the sent audio has a 20 ms frame this loud...
SETTLING_AUDIBLE_DBFS = -44.0  # ...or this loud while the canceller learns (its leftover is louder)
AUDIBLE_LEAD_SECONDS = 0.15  # ...from this long before the run to its end...
AUDIBLE_SECONDS = 0.1  # ...this much of it at least (a moved echo's leak through AEC3 is a blip)...
NEAR_SECONDS = 0.2  # ...or where the canceller heard someone besides the comedian for this long
SAME_SOUND_SECONDS = 2.0  # a server report this close to the set's own barge-in is the same sound
CHUNK_SAMPLES = round(speech.CHUNK_SECONDS * SAMPLE_RATE)
FOLLOW_SECONDS = 4.0  # a sound heard as the room is heard again, window by window, this long
TALK_WINDOWS_OVER_A_LAUGH = 2  # while a laugh is ridden, this many windows of talk in a row are talk
DOUBLE_TALK_SCORE = 0.5  # over the comedian, with a run of speech heard: this sure is talk
SURE_TALK = 0.8  # ...each this sure (`Hearing.talk`): a sound already heard as the room must prove it
BARGE_IN = ""  # the item of a verdict the set reached before the server reported the sound


@dataclass(frozen=True)
class Verdict:
    """What a reported sound is. `waited`: seconds from the server's report to the verdict;
    `after_onset`: from the sound's first loud 10 ms to the verdict (audio the ear had to hear)."""

    item_id: str
    hearing: Hearing
    talking: bool  # the comedian was talking when the sound began
    waited: float
    after_onset: float


@dataclass(frozen=True)
class Faded:
    """The laugh (or applause) the set was riding is over: its audio, for the room reader."""

    kind: str
    audio: np.ndarray


@dataclass
class _Pending:
    item_id: str
    start: int  # the server's audio_start_ms, in samples
    talking: bool
    since: float


@dataclass
class _Following:
    """A sound heard as the room (or noise) that the ear keeps hearing, window by window, while it
    lasts: it may turn into talk (a breath or a noise before a heckle, a laugh that turns into words)."""

    item_id: str
    next: int  # where its next window starts, on the tape
    talking: bool
    since: float
    until: float  # followed no longer than this
    streak: int = 0  # windows in a row heard as talk


@dataclass
class _Laugh:
    kind: str
    started: float
    audio: list[np.ndarray] = field(default_factory=list)
    quiet: float = 0.0
    held: int = 0  # samples in audio


class Tape:
    """The session's microphone audio as sent, addressed by sample from the session's start: the
    last `keep_seconds` at least, in one buffer. A read is a view that stays as it was (the buffer
    is only written past what was read, and replaced, not moved, when full)."""

    def __init__(self, keep_seconds: float = KEEP_SECONDS) -> None:
        self.keep = int(keep_seconds * SAMPLE_RATE)
        self.total = 0
        self._buffer: np.ndarray | None = None  # made on the first add, of its dtype
        self._held = 0  # samples held, at the buffer's start

    def add(self, pcm: np.ndarray) -> None:
        """Append what was just sent."""
        pcm = np.asarray(pcm)
        n = len(pcm)
        if self._buffer is None or self._held + n > len(self._buffer):
            kept = min(self._held, self.keep)
            buffer = np.zeros(2 * self.keep + n, pcm.dtype)
            if self._buffer is not None:
                buffer[:kept] = self._buffer[self._held - kept : self._held]
            self._buffer, self._held = buffer, kept
        self._buffer[self._held : self._held + n] = pcm
        self._held += n
        self.total += n

    def since(self, sample: int) -> np.ndarray:
        """What was sent from `sample` on (as much of it as is still held)."""
        if self._buffer is None:
            return np.zeros(0, np.int16)
        first = self.total - self._held
        return self._buffer[max(0, sample - first) : self._held]

    def around(self, sample: int, before: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to `before` samples held before `sample`, and `length` from it on."""
        first = self.total - self._held
        start = max(first, sample - before, 0)
        audio = self.since(start)
        split = max(0, sample - start)
        return audio[:split], audio[split : split + length]

    def onset(self, sample: int) -> int | None:
        """The first loud 10 ms at or after `sample` (None: nothing loud yet)."""
        audio = self.since(sample)
        whole = len(audio) // TEN_MS * TEN_MS
        if not whole:
            return None
        frames = audio[:whole].reshape(-1, TEN_MS).astype(np.float64) / 32768.0
        loud = np.flatnonzero(10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12) > room.LOUD_DBFS)
        return None if not len(loud) else max(sample, self.total - len(audio)) + int(loud[0]) * TEN_MS


def loud(pcm: np.ndarray) -> bool:
    """Whether audio is loud enough to be someone's sound (`room.LOUD_DBFS`)."""
    x = np.asarray(pcm, dtype=np.float64) / 32768.0
    return bool(len(x)) and 10 * np.log10(float(np.mean(x * x)) + 1e-12) > room.LOUD_DBFS


class SpeechRuns:
    """Runs of speech the detector heard while the comedian talked, on the tape's timeline."""

    def __init__(self) -> None:
        self.detector: speech.SpeechDetector | None = None  # made when first needed
        self.start: int | None = None  # where the current run began
        self.length = 0  # its length, in chunks
        self.number = 0  # counts the runs: each is acted on once
        self.runs: deque[tuple[int, int]] = deque(maxlen=16)  # (start, end) of runs long enough

    def listen(
        self, pcm: np.ndarray, end: int, long_enough: float = BARGE_IN_SECONDS, audible: bool = True
    ) -> None:
        """The detector's reading of the next audio, which ends at tape sample `end`; a run of
        `long_enough` seconds counts; nothing is asked of the model where nothing was `audible`."""
        self.detector = self.detector or speech.SpeechDetector()
        for p in self.detector.feed(pcm, audible):
            if p >= SPEECH_ON or (self.length and p >= SPEECH_HOLD):
                self.number += not self.length
                self.length += 1
            else:
                self.length = 0
        if not self.length:
            self.start = None
        elif self.start is None:
            self.start = end - self.length * CHUNK_SAMPLES
        if self.start is not None and self.length * speech.CHUNK_SECONDS >= long_enough:
            if self.runs and self.runs[-1][0] == self.start:
                self.runs[-1] = (self.start, end)
            else:
                self.runs.append((self.start, end))

    def rest(self) -> None:
        """The comedian stopped: the next stretch of listening starts afresh."""
        if self.detector is not None:
            self.detector.reset()
        self.start, self.length = None, 0


class Ear:
    """Hears the reported sounds' starts, and follows the room's laughs until they fade."""

    def __init__(self, model: room.SpeechModel = room.SPEECH_MODEL) -> None:
        self.model = model  # how a sound's figures say it is talk
        self.tape = Tape()
        self.linear = Tape()  # the canceller's linear output, on the same timeline (or what was sent)
        self.near = Tape()  # per sample: the canceller heard someone besides the comedian there
        self.kinds: dict[str, str] = {}  # item -> what it was, for the sounds decided so far
        self.speech = SpeechRuns()
        self._pending: _Pending | None = None
        self._laugh: _Laugh | None = None
        self._barged: tuple[int, Hearing] | None = None  # the set's own barge-in: where, and what
        self._following: _Following | None = None  # a sound heard as the room, still being heard
        self._acted_on = 0  # the last speech run a verdict was reached on
        self._settled = True  # the echo canceller, as last told
        self._echo = False  # whether the microphone may hold the comedian's echo, as last told

    def restart(self) -> None:
        """A new session: its timeline starts at zero; nothing is pending."""
        self.tape, self.linear, self._pending, self._laugh, self._barged = Tape(), Tape(), None, None, None
        self.near, self._following, self.speech = Tape(), None, SpeechRuns()
        self.kinds.clear()

    @property
    def deciding(self) -> bool:
        """A sound was reported and is still being heard."""
        return self._pending is not None

    @property
    def laughing(self) -> str | None:
        """The kind of laugh being ridden (laughter or applause), if any."""
        return self._laugh.kind if self._laugh else None

    def started(self, item_id: str, audio_start_ms: object, talking: bool, now: float) -> Verdict | None:
        """The server heard a sound start: hear it (now, if enough of it is already here)."""
        if isinstance(audio_start_ms, int) and 0 <= audio_start_ms * SAMPLE_RATE // 1000 <= self.tape.total:
            start = audio_start_ms * SAMPLE_RATE // 1000
        else:  # an odd or missing position: the last second will hold the start
            start = max(0, self.tape.total - SAMPLE_RATE)
        if self._barged is not None and start <= self._barged[0] + SAME_SOUND_SECONDS * SAMPLE_RATE:
            hearing, self._barged = self._barged[1], None  # the set already heard this one, and acted
            return self._decided(_Pending(item_id, start, True, now), hearing, now, 0.0)
        self._pending = _Pending(item_id, start, talking, now)
        return self._hear(now, final=False)

    def stopped(self, item_id: str, now: float) -> Verdict | None:
        """The server heard the sound stop: a sound shorter than the window is heard as it is."""
        if self._pending is not None and self._pending.item_id == item_id:
            return self._hear(now, final=True)
        if self._following is not None and self._following.item_id == item_id:
            self._following = None
        return None

    def heard(
        self,
        pcm: np.ndarray,
        now: float,
        talking: bool = False,
        settled: bool | None = None,
        linear: np.ndarray | None = None,
        near: np.ndarray | None = None,
    ) -> tuple[Verdict | None, Faded | None]:
        """The microphone's next audio (as sent; `talking`: while the comedian talks; `settled`:
        the echo canceller has learned the room, None when the microphone holds no echo (nothing
        plays, headphones, the browser cancels it); `linear`: its linear output, as long as `pcm`;
        `near`: per sample, where the canceller heard someone besides the comedian): a verdict if a
        sound is now heard enough, and the laugh being ridden if it just faded."""
        self.tape.add(pcm)
        self.linear.add(pcm if linear is None else linear)
        trusted = near is not None and len(near) == len(pcm) and settled is True
        self.near.add(near if trusted else np.zeros(len(pcm), bool))  # evidence only when it was in step
        if self._barged and self.tape.total > self._barged[0] + SAME_SOUND_SECONDS * SAMPLE_RATE:
            self._barged = None  # the server never reported it
        self._echo, self._settled = settled is not None, settled is not False
        if talking and self._echo:
            # a canceller still learning leaves the comedian in its linear output: not that yet
            heard = linear if linear is not None and settled else pcm
            audible = self._audible(self.tape.total - len(pcm), self.tape.total)
            long_enough = BARGE_IN_SECONDS if settled else SETTLING_RUN_SECONDS
            self.speech.listen(heard, self.tape.total, long_enough, audible)
        else:
            self.speech.rest()
        verdict = self._hear(now, final=False) or self._follow_up(now)
        if verdict is None and talking and self._echo:
            verdict = self._barge_in(now)
        return verdict, self._follow(pcm, now)

    @property
    def echo(self) -> bool:
        """Whether the microphone may hold the comedian's echo, as last told."""
        return self._echo

    def sounding(self, pcm: np.ndarray, settled: bool | None) -> bool:
        """Whether the latest audio holds someone's sound over the comedian, at first sight: on
        headphones a loud chunk; over its echo, once the canceller has settled, a run of speech
        where the sent audio is loud or the canceller heard someone besides the comedian."""
        if settled is None:
            return loud(pcm)
        if not settled or self.speech.start is None:
            return False
        return self._audible(self.speech.start, self.tape.total)

    def ride(self, kind: str, now: float) -> None:
        """The room is laughing (or clapping): follow it until it fades."""
        if self._laugh is None:
            self._laugh = _Laugh(kind, now, [self.tape.since(self.tape.total - WINDOW_SAMPLES)])

    def stop_riding(self) -> None:
        """The visitor talks: the laugh is no longer the room's moment."""
        self._laugh = None

    def _follow(self, pcm: np.ndarray, now: float) -> Faded | None:
        laugh = self._laugh
        if laugh is None:
            return None
        laugh.audio.append(pcm)
        laugh.held += len(pcm)
        laugh.quiet = 0.0 if loud(pcm) else laugh.quiet + len(pcm) / SAMPLE_RATE
        held_long = now - laugh.started >= MAX_LAUGH_SECONDS or laugh.held >= MAX_LAUGH_SECONDS * SAMPLE_RATE
        if laugh.quiet < FADE_SECONDS and not held_long:  # by the clock and by the samples held
            return None
        self._laugh = None
        return Faded(laugh.kind, np.concatenate(laugh.audio))

    def _hear(self, now: float, final: bool) -> Verdict | None:
        pending = self._pending
        if pending is None:
            return None
        onset = self.tape.onset(pending.start)
        if onset is None and not final:
            return None
        onset = self.tape.total if onset is None else onset
        double_talk = pending.talking and self._echo
        if double_talk:
            spoke = self._spoke_since(onset - CHUNK_SAMPLES)
            waiting = self.tape.total < onset + CONFIRM_SECONDS * SAMPLE_RATE
            if spoke is None and waiting and not final:
                return None  # no speech heard in it yet: it may be the comedian's own echo
            onset = onset if spoke is None else max(onset, spoke)  # past the canceller's first hold
        if not final and self.tape.total < onset + WINDOW_SAMPLES:
            return None
        heard = min(WINDOW_SAMPLES, self.tape.total - onset)  # all of the window, or all there was
        self._pending = None
        hearing = self._room_hears(self.tape, onset)
        if double_talk and self._laugh is not None:
            hearing = replace(hearing, kind=self._laugh.kind)  # more of the laugh being ridden
        elif double_talk:
            spoke = self._spoke_since(onset - CHUNK_SAMPLES) is not None
            hearing = self._while_talking(hearing, onset, spoke)
            self._acted_on = self.speech.number
        if hearing.kind != "speech":
            end = onset + heard
            self._following = _Following(pending.item_id, end, pending.talking, now, now + FOLLOW_SECONDS)
        return self._decided(pending, hearing, now, heard / SAMPLE_RATE)

    def _while_talking(self, hearing: Hearing, onset: int, spoke: bool) -> Hearing:
        """What a sound over the comedian is: with no run of speech in it, the room's laugh or
        applause as read, or else the comedian's own echo (noise); with a run of speech, someone
        talking if the sent audio or the linear output (where a sound comes through whole: the
        canceller's suppressor can chop a heckle into what sounds like "ha"s) is at least
        `DOUBLE_TALK_SCORE` sure of it, else the laugh or applause the linear output reads, or
        the echo."""
        if not spoke:
            return hearing if hearing.reacts else replace(hearing, kind="noise")
        whole = self._room_hears(self.linear, onset)
        if self._laugh is not None and not (hearing.kind == whole.kind == "speech"):
            return replace(hearing, kind=self._laugh.kind)  # while the room laughs, only clear talk is talk
        if max(whole.talk, hearing.talk) >= DOUBLE_TALK_SCORE:
            return replace(hearing, kind="speech", talk=max(whole.talk, hearing.talk))
        return whole if whole.reacts else replace(hearing, kind="noise")

    def _barge_in(self, now: float) -> Verdict | None:
        """While the comedian talks and nothing is reported: a long-enough run of speech is
        someone talking over it (unless the room reads it as a laugh), heard from where it began."""
        start = self.speech.start  # (over a laugh being ridden too: a heckler can talk through one)
        if start is None or self._pending is not None or self._barged:
            return None
        if self.speech.number == self._acted_on:
            return None  # this run was heard already
        if not self.speech.runs or self.speech.runs[-1][0] != start:
            return None  # not long enough yet
        if not self._audible(*self.speech.runs[-1], AUDIBLE_SECONDS):
            return None  # the comedian's own leftover in the linear output
        if self.tape.total < start + WINDOW_SAMPLES:
            return None
        hearing = self._while_talking(self._room_hears(self.tape, start), start, spoke=True)
        self._barged = (start, hearing)
        self._acted_on = self.speech.number
        return Verdict(BARGE_IN, hearing, True, 0.0, (self.tape.total - start) / SAMPLE_RATE)

    def _follow_up(self, now: float) -> Verdict | None:
        """The next window of a sound heard as the room: talk (in a row, over a laugh) makes it a turn."""
        following = self._following
        if following is None or self._pending is not None:
            return None
        if now > following.until:
            self._following = None
            return None
        if self.tape.total < following.next + WINDOW_SAMPLES:
            return None
        start, following.next = following.next, following.next + WINDOW_SAMPLES
        hearing = self._room_hears(self.tape, start)
        if following.talking and self._echo:
            spoke = self._spoke_since(start - CHUNK_SAMPLES) is not None
            hearing = self._while_talking(hearing, start, spoke)
        sure = hearing.kind == "speech" and hearing.talk >= SURE_TALK
        following.streak = following.streak + 1 if sure else 0
        if following.streak < (TALK_WINDOWS_OVER_A_LAUGH if self._laugh is not None else 1):
            return None
        self._following = None
        pending = _Pending(following.item_id, start, following.talking, following.since)
        return self._decided(pending, hearing, now, WINDOW_SAMPLES / SAMPLE_RATE)

    def _room_hears(self, tape: Tape, onset: int) -> Hearing:
        """What the sound from `onset` on is, its first `room.WINDOW` heard after what came before."""
        before, window = tape.around(onset, int(room.LEAD_SECONDS * SAMPLE_RATE), WINDOW_SAMPLES)
        return room.hear(window, before, self.model)

    def _spoke_since(self, sample: int) -> int | None:
        """The start of the first audible run of speech that ends after `sample` (None: none yet)."""
        return next(
            (a for a, b in self.speech.runs if b > sample and self._audible(a, b, AUDIBLE_SECONDS)), None
        )

    def _audible(self, start: int, end: int, least: float = 0.0) -> bool:
        """Whether a run of speech over the comedian is someone's: where the sent audio holds loud
        20 ms frames over it (or just before), `least` seconds of them at least, or, once the
        canceller has settled, where it heard someone besides the comedian (`comedy.sound.echo`: a
        voice quieter than the echo comes through its linear output whole, though AEC3 holds it
        down in what is sent) for `NEAR_SECONDS` (with `least` 0, one frame or block will do:
        enough to listen further)."""
        near = int(np.count_nonzero(self.near.since(start)[: end - start])) if self._settled else 0
        if near and near >= NEAR_SECONDS * (least > 0) * SAMPLE_RATE:
            return True
        lead = int(AUDIBLE_LEAD_SECONDS * SAMPLE_RATE)
        audio = self.tape.since(start - lead)[: end - start + lead]
        whole = len(audio) // room.FRAME * room.FRAME
        if not whole:
            return False
        frames = audio[:whole].reshape(-1, room.FRAME).astype(np.float64) / 32768.0
        floor = AUDIBLE_DBFS if self._settled else SETTLING_AUDIBLE_DBFS
        loud = int(np.sum(10 * np.log10(np.mean(frames * frames, axis=1) + 1e-12) > floor))
        return loud > 0 and loud * room.FRAME >= least * SAMPLE_RATE

    def _decided(self, pending: _Pending, hearing: Hearing, now: float, heard: float) -> Verdict:
        self.kinds[pending.item_id] = hearing.kind
        while len(self.kinds) > REMEMBERED_SOUNDS:
            del self.kinds[next(iter(self.kinds))]
        return Verdict(pending.item_id, hearing, pending.talking, now - pending.since, heard)
