"""The club's studio: its voices' takes (a preview, the battle's bit) and each set's opener, made
once for everyone who asks, on the asker's seat and allowance; in rehearsal the house voice says
them at once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from comedy import prompts
from comedy.config import Settings
from comedy.house import voice
from comedy.money import pricing
from comedy.money.budget import Allowance, Context, worst_answer_usd
from comedy.realtime.protocol import SAMPLE_RATE, VOICES
from comedy.realtime.session import RealtimeError
from comedy.show.endpoint import Endpoint, Opener
from comedy.sound import audio
from comedy.venue.audition import TAKE_TOKENS, Audition, trim_cache
from comedy.venue.club import Club, ClubFull
from comedy.venue.pages import Pages
from comedy.venue.takes import Takes

log = logging.getLogger("comedy.app")
HOUSE = "the-house"  # who asks for the house's own takes (the default opener, at start-up)
NO_PAGE = "Open the club's page to hear a new voice."
SHOW_ON = "Your show is on: a voice nobody has heard yet is made once the show is over."


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


def warm_openers() -> None:
    """Every voice and style's rehearsal opener, made at start-up (well under a second)."""
    for style in prompts.STYLES:
        for name in VOICES:
            house_take(prompts.opener(style), name)


class Studio:
    """Takes and openers being made, by visitor; one take per line and voice however many ask."""

    def __init__(
        self,
        settings: Settings,
        club: Club,
        pages: Pages,
        prices: dict,
        endpoint: Callable[[str, str], Endpoint],
        allowance: Callable[[str, Endpoint], Allowance | None],
        seen: Callable[[str], None],
    ) -> None:
        self.settings, self.club, self.pages, self.prices = settings, club, pages, prices
        self.endpoint, self.allowance, self.seen = endpoint, allowance, seen
        self.takes = Takes()  # the takes being made now, one session each however many ask
        self._recording: dict[str, asyncio.Task] = {}  # each visitor's audition take being recorded
        self._openers: dict[str, asyncio.Task] = {}  # each visitor's opener being made (one at a time)

    def recording(self, visitor: str) -> bool:
        """Whether a take of the visitor's is being recorded now."""
        return visitor in self._recording

    def stop(self, visitor: str) -> None:
        """The visitor left: the take being recorded on their seat stops."""
        if (take := self._recording.get(visitor)) is not None:
            take.cancel()

    async def opener(self, visitor: str, set_up: prompts.SetUp, model: str) -> Opener | None:
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
                take = self._recording[visitor] = asyncio.create_task(auditioner.take(voice, style, line))
                try:
                    await take
                except asyncio.CancelledError:
                    if take.cancelled() and not asyncio.current_task().cancelling():
                        raise RealtimeError("The take was stopped: the tab closed.") from None
                    raise
                finally:
                    self._recording.pop(visitor, None)
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
