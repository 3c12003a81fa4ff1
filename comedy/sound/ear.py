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

from dataclasses import dataclass, field, replace

import numpy as np

from comedy.realtime.protocol import SAMPLE_RATE
from comedy.sound import room
from comedy.sound.room import Sound
from comedy.sound.tape import BARGE_IN_SECONDS, CHUNK_SAMPLES, SpeechRuns, Tape, loud

FADE_SECONDS = 0.5  # this long quiet and a laugh is over
MAX_LAUGH_SECONDS = 12.0  # a laugh held longer than this is over anyway (a room that never quiets)
WINDOW_SAMPLES = int(room.WINDOW * SAMPLE_RATE)
REMEMBERED_SOUNDS = 64
SETTLING_RUN_SECONDS = 0.6  # ...this long while the echo canceller is still learning the room
CONFIRM_SECONDS = 0.8  # how long after a sound's onset the ear waits for that run, while talking
AUDIBLE_DBFS = -50.0  # a run counts where the sent audio has a 20 ms frame this loud...
SETTLING_AUDIBLE_DBFS = -44.0  # ...or this loud while the canceller learns (its leftover is louder)
AUDIBLE_LEAD_SECONDS = 0.15  # ...from this long before the run to its end...
AUDIBLE_SECONDS = 0.1  # ...this much of it at least (a moved echo's leak through AEC3 is a blip)...
NEAR_SECONDS = 0.2  # ...or where the canceller heard someone besides the comedian for this long
SAME_SOUND_SECONDS = 2.0  # a server report this close to the set's own barge-in is the same sound
FOLLOW_SECONDS = 4.0  # a sound heard as the room is heard again, window by window, this long
TALK_WINDOWS_OVER_A_LAUGH = 2  # while a laugh is ridden, this many windows of talk in a row are talk
DOUBLE_TALK_SCORE = 0.5  # over the comedian, with a run of speech heard: this sure is talk
SURE_TALK = 0.8  # ...each this sure (`Sound.talk`): a sound already heard as the room must prove it
BARGE_IN = ""  # the item of a verdict the set reached before the server reported the sound


@dataclass(frozen=True)
class Verdict:
    """What a reported sound is. `waited`: seconds from the server's report to the verdict;
    `after_onset`: from the sound's first loud 10 ms to the verdict (audio the ear had to hear)."""

    item_id: str
    hearing: Sound
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
        self._barged: tuple[int, Sound] | None = None  # the set's own barge-in: where, and what
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

    def _while_talking(self, hearing: Sound, onset: int, spoke: bool) -> Sound:
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

    def _room_hears(self, tape: Tape, onset: int) -> Sound:
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

    def _decided(self, pending: _Pending, hearing: Sound, now: float, heard: float) -> Verdict:
        self.kinds[pending.item_id] = hearing.kind
        while len(self.kinds) > REMEMBERED_SOUNDS:
            del self.kinds[next(iter(self.kinds))]
        return Verdict(pending.item_id, hearing, pending.talking, now - pending.since, heard)
