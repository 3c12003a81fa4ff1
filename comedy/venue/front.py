"""The club's front of house, with no web framework in it: settings, endpoints, seats and money, keys,
auditions, downloads, and forgetting visitors who left. `comedy.web.gradio_web` adapts it to Gradio.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from comedy import prompts
from comedy.choices import HANDS_FREE
from comedy.config import Settings
from comedy.money import pricing
from comedy.money.budget import MIN_ANSWER_TOKENS, Allowance, Budget, Context, worst_answer_usd
from comedy.prompts import stored as stored_prompt
from comedy.realtime import redaction
from comedy.realtime.session import RealtimeError
from comedy.rehearsal import RehearsalThread
from comedy.show import endpoint, recording
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint, Limits
from comedy.sound import room, speech
from comedy.venue.ballots import Ballots
from comedy.venue.club import Club, ClubFull
from comedy.venue.pages import Pages
from comedy.venue.studio import HOUSE, Studio, warm_openers
from comedy.venue.votes import Votes

log = logging.getLogger("comedy.app")
EXPIRE_EVERY = 30.0  # seconds between two looks for visitors who left without saying so


def _warm_up() -> None:
    """The ear's first-call costs, paid at start-up: librosa's kernels and the speech detector's model."""
    room.warm_up()
    speech.warm_up()


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
        self.last_seen: dict[str, float] = {}  # when each visitor last did something (monotonic)
        self.votes = Votes()  # the voice battle's ballot box, under the cache folder
        self.ballots = Ballots()  # who may vote on which battle
        self.studio = Studio(
            settings, self.club, self.pages, self.prices, self.endpoint, self.allowance, self.seen
        )
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
        opener = await self.studio.opener(visitor, set_up, model) if first else None
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
        self.studio.stop(visitor)
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
            if v not in self.pages and now - self.last_seen.get(v, 0.0) > age and not self.studio.recording(v)
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
            self.studio.prepare_opener(HOUSE, prompts.SetUp(), self.settings.model)
            if self.settings.rehearsal:  # every voice and style, once: no Start waits for one
                warming_voices = asyncio.create_task(asyncio.to_thread(warm_openers), name="warm-openers")
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
