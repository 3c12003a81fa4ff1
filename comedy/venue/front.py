"""The club's front of house, with no web framework in it: settings, endpoints, seats and money, keys,
auditions, downloads, and forgetting visitors who left. `comedy.web.gradio_web` adapts it to Gradio.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np

from comedy import prompts
from comedy.choices import HANDS_FREE
from comedy.config import Settings
from comedy.house import voice
from comedy.money import pricing
from comedy.money.budget import MIN_ANSWER_TOKENS, Allowance, Budget, Context, worst_answer_usd
from comedy.prompts import stored as stored_prompt
from comedy.realtime import redaction
from comedy.realtime.protocol import SAMPLE_RATE, VOICES
from comedy.realtime.session import RealtimeError
from comedy.rehearsal import RehearsalThread
from comedy.show import endpoint, recording
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint, Limits, Opener
from comedy.sound import audio, room, speech
from comedy.venue.audition import TAKE_TOKENS, Audition, trim_cache
from comedy.venue.ballots import Ballots
from comedy.venue.club import Club, ClubFull
from comedy.venue.pages import Pages
from comedy.venue.takes import Takes
from comedy.venue.votes import Votes

log = logging.getLogger("comedy.app")
EXPIRE_EVERY = 30.0  # seconds between two looks for visitors who left without saying so
HOUSE = "the-house"  # who asks for the house's own takes (the default opener, at start-up)
NO_PAGE = "Open the club's page to hear a new voice."
SHOW_ON = "Your show is on: a voice nobody has heard yet is made once the show is over."


def _warm_up() -> None:
    """The ear's first-call costs, paid at start-up: librosa's kernels and the speech detector's model."""
    room.warm_up()
    speech.warm_up()


@functools.lru_cache(maxsize=len(VOICES) * len(prompts.STYLES))
def house_take(line: str, voice_name: str) -> np.ndarray:
    """The house voice saying a line (an opener in rehearsal), made once and kept: about 10 ms."""
    pcm = voice.speak(line, voice_name)
    pcm.setflags(write=False)
    return pcm


def _house_take_into(path: Path, line: str, voice_name: str, cache_bytes: float) -> None:
    """The house voice saying a line, kept where its take is looked for (written whole, then
    moved), the cache trimmed to its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{threading.get_ident()}.part.wav")
    audio.write_wav(str(partial), house_take(line, voice_name))
    partial.replace(path)
    trim_cache(path.parent, cache_bytes, keep=path)


def _warm_openers() -> None:
    """Every voice and style's rehearsal opener, made at start-up (well under a second)."""
    for style in prompts.STYLES:
        for name in VOICES:
            house_take(prompts.opener(style), name)


class Venue:
    """The app's state: settings, the rehearsal server when there is no key, and the sets (its web
    doors, the engine's socket and the end card's downloads, are `comedy.web.ClubApp`'s)."""

    def __init__(self, settings: Settings, rehearsal: RehearsalThread | None) -> None:
        self.settings = settings
        self.rehearsal = rehearsal
        self.club = Club(settings.max_sets)
        self.pages = Pages()  # the visitors whose page is open (its heartbeat), and their streams
        self.visitor_keys: dict[str, str] = {}  # a visitor's own key, for their tab only
        self.prices = pricing.price_table()
        self.budget = Budget(settings.max_set_usd, settings.max_day_usd)  # the owner's key only
        self.downloads = Path(tempfile.mkdtemp(prefix="comedy-sets-"))  # mode 0700
        self._saved: dict[str, list[Path]] = {}  # each visitor's downloads, deleted when they go
        self._takes: dict[str, asyncio.Task] = {}  # each visitor's audition take being recorded
        self.last_seen: dict[str, float] = {}  # when each visitor last did something (monotonic)
        self.votes = Votes()  # the voice battle's ballot box, under the cache folder
        self.ballots = Ballots()  # who may vote on which battle
        self.takes = Takes()  # the takes being made now, one session each however many ask
        self._openers: dict[str, asyncio.Task] = {}  # each visitor's opener being made (one at a time)
        self.loop: asyncio.AbstractEventLoop | None = None  # set while the app serves
        redaction.remember(settings.api_key)
        # The owner's opt-in stored prompt, shared by every set: refused once, the template for all
        # (and never sent once OpenAI has ended stored prompts).
        today = dt.datetime.now(dt.UTC).date()
        self.stored_prompt = stored_prompt.configured(settings.prompt_id, settings.prompt_version, today)

    def endpoint(self, visitor: str, model: str) -> Endpoint:
        """OpenAI with the visitor's or the owner's key; else the rehearsal server."""
        rehearsal_url = self.rehearsal.url if self.rehearsal is not None else None
        own = self.visitor_keys.get(visitor)
        try:
            return endpoint.choose(self.settings, model, rehearsal_url, own, self.stored_prompt)
        except ValueError as exc:
            raise RealtimeError(str(exc)) from exc

    def allowance(self, visitor: str, endpoint: Endpoint) -> Allowance | None:
        """The visitor's share of the owner's money, when the owner's key pays (not in rehearsal,
        not with the visitor's own key)."""
        if endpoint.rehearsal or visitor in self.visitor_keys:
            return None
        return self.budget.allowance(visitor)

    def seen(self, visitor: str) -> None:
        """The visitor did something: what they left is kept a while longer."""
        self.last_seen[visitor] = time.monotonic()

    async def seat(
        self, visitor: str, set_up: prompts.SetUp, model: str, mode: str, greet: bool = False
    ) -> ComedySet:
        """The visitor's set, connected; opened with these choices if they have none (`greet`:
        the show was started, not asked for a joke: with no opener ready, the session greets).

        ClubFull when there is no seat or no money for an answer; RealtimeError when it cannot
        connect (and then no seat is held).
        """
        self.seen(visitor)
        endpoint = self.endpoint(visitor, model)
        prices = pricing.prices_for(model, self.prices)
        allowance = self.allowance(visitor, endpoint)
        first_answer = worst_answer_usd(prices, Context(), MIN_ANSWER_TOKENS)
        if self.club.get(visitor) is None and allowance and (why := allowance.why_not(first_answer)):
            raise ClubFull(why)
        first = self.club.get(visitor) is None and self.settings.openers
        opener = await self._opener(visitor, set_up, model) if first else None
        # never a silent start: with no opener ready yet, the session says the opening line itself
        greeting = prompts.opener(set_up.style) if first and greet and opener is None else None
        return await self.club.seat(
            visitor,
            lambda: ComedySet(
                endpoint,
                set_up,
                hands_free=mode == HANDS_FREE,
                prices=prices,
                limits=Limits(
                    self.settings.idle_seconds,
                    self.settings.max_set_seconds,
                    allowance,
                    self.settings.hold_first,
                ),
                opener=opener,
                greeting=greeting,
            ),
        )

    async def _opener(self, visitor: str, set_up: prompts.SetUp, model: str) -> Opener | None:
        """The set's opener for this voice and style: in rehearsal the house voice says it at once;
        live, from the cache, and when it is not there yet it is made in the background for the
        next Start (the session greets the room meanwhile)."""
        line = prompts.opener(set_up.style)
        if self.endpoint(visitor, model).rehearsal:
            return Opener(line, await asyncio.to_thread(house_take, line, set_up.voice))
        cached = self.prepare_opener(visitor, set_up, model)
        if cached is None:
            return None
        rate, samples = await asyncio.to_thread(audio.read_audio_file, str(cached))
        if rate != SAMPLE_RATE:
            return None
        return Opener(line, audio.float_to_pcm16(samples))

    def making_takes(self) -> int:
        """Takes and openers being made now."""
        return len(self.takes) + len(self._openers)

    def prepare_opener(self, visitor: str, set_up: prompts.SetUp, model: str) -> Path | None:
        """Where this voice and style's opener is kept; None, and made in the background (on
        `visitor`'s allowance), when it is not there yet: at start-up for the house's choices, and
        when a visitor with an open page picks new ones, so their Start plays at once (one opener
        at a time per visitor; one take for everyone who asks for it)."""
        if not self.settings.openers:
            return None
        line = prompts.opener(set_up.style)
        endpoint = self.endpoint(visitor, model)
        if endpoint.rehearsal:
            return None  # the house voice says it the moment it is needed
        auditioner = Audition(endpoint.url, endpoint.key, model, endpoint.url)
        cached = auditioner.cached(set_up.voice, set_up.style, line)
        wanted = cached is None and not self.takes.making(
            auditioner.path_for(set_up.voice, set_up.style, line)
        )
        if wanted and visitor not in self._openers and (visitor == HOUSE or visitor in self.pages):
            task = asyncio.create_task(self._make_opener(visitor, set_up, line, model), name="opener")
            self._openers[visitor] = task
        return cached

    async def _make_opener(self, visitor: str, set_up: prompts.SetUp, line: str, model: str) -> None:
        try:
            await self.audition_take(visitor, set_up.voice, set_up.style, line, model)
        except (ClubFull, RealtimeError) as exc:
            log.info("no opener made for %s/%s: %s", set_up.voice, set_up.style, exc)
        finally:
            self._openers.pop(visitor, None)

    async def audition_take(self, visitor: str, voice: str, style: str, line: str, model: str) -> Audition:
        """A voice saying one of the club's lines: from the cache at once; in rehearsal the house
        voice says it here; else recorded once for everyone who asks meanwhile, on the first
        asker's seat and allowance (their page open, no show of theirs on); the Audition says
        which (`hits`) and holds the take (`took`)."""
        self.seen(visitor)
        endpoint = self.endpoint(visitor, model)
        where = "rehearsal" if endpoint.rehearsal else endpoint.url
        auditioner = Audition(
            endpoint.url, endpoint.key, model, where, cache_mb=self.settings.audition_cache_mb
        )
        if auditioner.cached(voice, style, line) is not None:
            return auditioner
        path = auditioner.path_for(voice, style, line)
        if endpoint.rehearsal:  # the house voice says it here: no session, no seat
            await asyncio.to_thread(_house_take_into, path, line, voice, auditioner.cache_bytes)
            auditioner.took = path
            return auditioner
        if not self.takes.making(path):  # this visitor would make it: may they?
            if visitor != HOUSE and visitor not in self.pages:
                raise ClubFull(NO_PAGE)
            if self.club.get(visitor) is not None:
                raise ClubFull(SHOW_ON)
        await self.takes.shared(path, lambda: self._record(visitor, auditioner, voice, style, line, model))
        if not path.exists():
            raise RealtimeError("The take was made but could not be kept: try again.")
        auditioner.took = path
        return auditioner

    async def _record(
        self, visitor: str, auditioner: Audition, voice: str, style: str, line: str, model: str
    ) -> None:
        """Record a take on a seat of the visitor's, within their allowance."""
        endpoint = self.endpoint(visitor, model)
        prices = pricing.prices_for(model, self.prices)
        allowance = self.allowance(visitor, endpoint)
        worst = worst_answer_usd(prices, Context(), TAKE_TOKENS)
        if allowance is not None and (why := allowance.why_not(worst)):
            raise ClubFull(why)
        async with self.club.audition_seat(visitor):
            with self._held(allowance, worst):
                take = self._takes[visitor] = asyncio.create_task(auditioner.take(voice, style, line))
                try:
                    await take
                except asyncio.CancelledError:
                    if take.cancelled() and not asyncio.current_task().cancelling():
                        raise RealtimeError("The take was stopped: the tab closed.") from None
                    raise
                finally:
                    self._takes.pop(visitor, None)
                    if allowance is not None:
                        for usage in auditioner.usages:
                            allowance.spend(pricing.usage_cost(usage, prices))

    @staticmethod
    @contextlib.contextmanager
    def _held(allowance: Allowance | None, worst: float) -> Iterator[None]:
        """The take's worst case held against the limits while it is made (then it is billed)."""
        if allowance is None:
            yield
            return
        allowance.hold(worst)
        try:
            yield
        finally:
            allowance.release(worst)

    def save_set(self, visitor: str) -> Path | None:
        """Write the visitor's set (open or just ended) as a zip to download, named by the time it
        started, in a folder of its own (served under a name nobody can guess)."""
        comedy_set = self.club.sets.get(visitor) or self.club.ended.get(visitor)
        if comedy_set is None:  # none, or the visitor left (the page's stream still asks): nothing kept
            return None
        self.seen(visitor)
        folder = Path(tempfile.mkdtemp(dir=self.downloads))
        started = dt.datetime.now() - dt.timedelta(seconds=comedy_set.length)
        path = folder / f"comedy-set-{started:%Y-%m-%d-%H%M}.zip"
        path.write_bytes(recording.archive(comedy_set))
        self._saved.setdefault(visitor, []).append(path)
        return path

    async def stop_talking(self, visitor: str) -> None:
        """The visitor released push-to-talk (Gradio's microphone or the engine's switch)."""
        comedy_set = self.club.get(visitor)
        if comedy_set is not None:
            await comedy_set.stop_talking()

    def use_key(self, visitor: str, key: str | None) -> None:
        """Keep a visitor's own key for their tab (None: go back to the house setting)."""
        redaction.forget(self.visitor_keys.pop(visitor, None))
        if key:
            redaction.remember(key)
            self.visitor_keys[visitor] = key

    async def vote(self, visitor: str, first_won: bool) -> tuple[str, str]:
        """The visitor's vote on the battle they heard: (style, winner). ValueError in words when
        they have none to cast (`comedy.venue.ballots`)."""
        ballot = self.ballots.cast(visitor)
        winner, loser = (ballot.first, ballot.second) if first_won else (ballot.second, ballot.first)
        await asyncio.to_thread(self.votes.vote, ballot.style, winner, loser)
        return ballot.style, winner

    async def leave(self, visitor: str, reason: str = "The visitor left") -> None:
        """Drop everything the venue kept for a visitor who is gone: their set, audition take, key,
        ballot and saved sets."""
        await self.club.hang_up(visitor, reason, left=True)
        if (take := self._takes.get(visitor)) is not None:
            take.cancel()
        self.use_key(visitor, None)
        self.ballots.forget(visitor)
        for path in self._saved.pop(visitor, []):
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
        self.last_seen.pop(visitor, None)

    async def expire(self) -> list[str]:
        """Forget visitors who did nothing for `COMEDY_FORGET_SECONDS` and have no page open (a
        client that never opened the heartbeat is never told to unload); who went."""
        now, age = time.monotonic(), self.settings.forget_seconds
        known = self.last_seen.keys() | self.visitor_keys.keys() | self.club.ended.keys() | self._saved.keys()
        gone = [
            v
            for v in known
            if v not in self.pages and now - self.last_seen.get(v, 0.0) > age and v not in self._takes
        ]
        for visitor in gone:
            await self.leave(visitor, "Forgotten: no page open")
        self.ballots.new_day(dt.datetime.now(dt.UTC).date())
        return gone

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """While the app serves: the ear warmed, the house opener made, visitors who left unseen
        forgotten."""
        every = max(0.2, min(EXPIRE_EVERY, self.settings.forget_seconds / 4))
        self.loop = asyncio.get_running_loop()  # the one the club serves on (benchmarks probe it)

        async def expire_forever() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.expire()
                except Exception:  # one bad sweep must not end the sweeping
                    log.exception("forgetting visitors failed")

        # librosa compiles its kernels on first use (seconds), and the speech detector's model
        # loads: pay both now, not on a visitor's set.
        warming = asyncio.create_task(asyncio.to_thread(_warm_up), name="warm-the-ear")
        warming_voices = None
        if self.settings.openers:  # the first Start of the day plays at once
            self.prepare_opener(HOUSE, prompts.SetUp(), self.settings.model)
            if self.settings.rehearsal:  # every voice and style, once: no Start waits for one
                warming_voices = asyncio.create_task(asyncio.to_thread(_warm_openers), name="warm-openers")
        task = asyncio.create_task(expire_forever(), name="forget-visitors")
        try:
            yield
        finally:
            warming.cancel()
            if warming_voices is not None:
                warming_voices.cancel()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
