"""The voice battle through Gradio's HTTP protocol: two voices do the same bit, the visitor votes
once, and the leaderboard is every visitor's votes, kept in SQLite across a restart."""

from __future__ import annotations

import asyncio
import contextlib

from harness.running import launch
from harness.visitor import Visitor

BATTLE = [
    "marin",
    "cedar",
    "dry",
    "My dentist told me to floss. I said: only the teeth I want to keep.",
    "gpt-realtime-2.1",
]
_club = contextlib.contextmanager(launch)


async def _battle_and_vote(url: str, api_name: str) -> list:
    async with Visitor(url) as visitor:
        first, second, both, said = await visitor.call("battle", BATTLE, timeout=60)
        assert first and second and both and "Vote below" in said
        return await visitor.call(api_name, [])


async def test_a_battle_then_a_vote_makes_the_leaderboard_and_it_survives_a_restart() -> None:
    with _club(pace=0) as running:
        board, said = await _battle_and_vote(running.url, "vote_second")
        assert "Your vote for cedar is in" in said
        rows = {row[0]: row[1:3] for row in board["data"]}
        assert rows["cedar"][0] >= 1 and rows["marin"][1] >= 1
        before = {s.voice: (s.wins, s.losses) for s in running.app.votes.standings("dry")}
    with _club(pace=0) as again:  # a new app on the same cache folder
        after = {s.voice: (s.wins, s.losses) for s in again.app.votes.standings("dry")}
    assert after == before


async def test_one_vote_per_battle_and_none_without_one() -> None:
    with _club(pace=0) as running:
        async with Visitor(running.url) as visitor:
            _, said = await visitor.call("vote_first", [])
            assert "Hear a battle first" in said
            await visitor.call("battle", BATTLE, timeout=60)
            await visitor.call("vote_first", [])
            _, again = await visitor.call("vote_first", [])
            assert "Hear a battle first" in again
            same = await visitor.call("battle", ["cedar", "cedar", *BATTLE[2:]])
            assert same[-1] == "Pick two different voices."


async def test_two_visitors_voting_at_once_both_count() -> None:
    with _club(pace=0) as running:
        before = running.app.votes.total()
        await asyncio.gather(
            _battle_and_vote(running.url, "vote_first"), _battle_and_vote(running.url, "vote_second")
        )
        assert running.app.votes.total() == before + 2
