"""The voice battle through Gradio's HTTP protocol: two voices do the club's bit, the visitor votes
once both have played, once per pair a day, and the leaderboard is every visitor's votes, kept in
SQLite across a restart."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re

import soundfile

from comedy.venue import ballots
from harness.running import launch
from harness.visitor import Visitor

BATTLE = ["marin", "cedar", "dry", "gpt-realtime-2.1"]
_club = contextlib.contextmanager(launch)


async def _seconds(visitor: Visitor, take: dict) -> float:
    """How long a take the page was given plays."""
    data = (await visitor.http.get(take["url"])).content
    return soundfile.info(io.BytesIO(data)).duration


async def _hear_a_battle(visitor: Visitor, battle: list[str] = BATTLE) -> str:
    """A battle, played through as the page's player does (in real time), then its end reported."""
    _, _, both, said = await visitor.call("battle", battle, timeout=60)
    assert both and "Vote once both have played" in said
    await asyncio.sleep(await _seconds(visitor, both))
    return (await visitor.call("battle_played", []))[0]


async def _battle_and_vote(url: str, api_name: str, battle: list[str] = BATTLE) -> list:
    async with Visitor(url) as visitor:
        await visitor.open_page()
        assert "Vote below" in await _hear_a_battle(visitor, battle)
        return await visitor.call(api_name, [])


async def test_a_battle_then_a_vote_makes_the_leaderboard_and_it_survives_a_restart() -> None:
    with _club(pace=0) as running:
        board, said = await _battle_and_vote(running.url, "vote_second")
        assert "Your vote for Cedar is in" in said
        # a ranked list: each voice's count of votes, its wins and its losses
        records = re.findall(r'data-voice="(\w+)".*?(\d+) votes?: (\d+) won, (\d+) lost', board)
        rows = {voice: [int(won), int(lost), int(votes)] for voice, votes, won, lost in records}
        assert rows["cedar"][0] >= 1 and rows["marin"][1] >= 1
        assert rows["cedar"][2] == sum(rows["cedar"][:2])  # the board shows the count of votes
        assert "<table" not in board and "Cedar" in board  # names, not a raw table
        before = {s.voice: (s.wins, s.losses) for s in running.app.votes.standings("dry")}
    with _club(pace=0) as again:  # a new app on the same cache folder
        after = {s.voice: (s.wins, s.losses) for s in again.app.votes.standings("dry")}
    assert after == before


async def test_no_vote_before_both_voices_have_played() -> None:
    with _club(pace=0) as running:
        async with Visitor(running.url) as visitor:
            await visitor.open_page()
            _, said = await visitor.call("vote_first", [])
            assert said == ballots.HEAR_FIRST
            before = running.app.votes.total()
            await visitor.call("battle", BATTLE, timeout=60)
            _, said = await visitor.call("vote_first", [])
            assert said == ballots.PLAY_FIRST
            await visitor.call("battle_played", [])  # said at once: faster than the takes can play
            _, said = await visitor.call("vote_first", [])
            assert said == ballots.PLAY_FIRST
            assert running.app.votes.total() == before
            same = await visitor.call("battle", ["cedar", "cedar", *BATTLE[2:]])
            assert same[-1] == "Pick two different voices."


async def test_one_session_votes_once_a_day_on_a_pair_however_often_it_asks() -> None:
    with _club(pace=0) as running:
        before = running.app.votes.total()
        async with Visitor(running.url) as visitor:
            await visitor.open_page()
            await _hear_a_battle(visitor)
            await visitor.call("vote_first", [])
            said = []
            for _ in range(20):  # the same battle again and again, from the cache, voted at once
                await visitor.call("battle", BATTLE, timeout=60)
                await visitor.call("battle_played", [])
                said.append((await visitor.call("vote_first", []))[1])
            await _hear_a_battle(visitor, ["cedar", "marin", *BATTLE[2:]])  # the same pair, the other way
            said.append((await visitor.call("vote_second", []))[1])
        assert running.app.votes.total() == before + 1
        assert set(said[:-1]) == {ballots.PLAY_FIRST} and said[-1] == ballots.VOTED


async def test_two_visitors_voting_at_once_both_count() -> None:
    with _club(pace=0) as running:
        before = running.app.votes.total()
        await asyncio.gather(
            _battle_and_vote(running.url, "vote_first"), _battle_and_vote(running.url, "vote_second")
        )
        assert running.app.votes.total() == before + 2
