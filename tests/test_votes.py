"""The voice battle's votes (`comedy.venue.votes`): kept in SQLite, safe for visitors voting at once."""

from __future__ import annotations

import threading

import pytest

from comedy.venue.votes import Votes


def test_votes_make_a_leaderboard_per_style_that_survives_a_restart(tmp_path) -> None:
    path = tmp_path / "votes.sqlite3"
    votes = Votes(path)
    votes.vote("dry", "cedar", "alloy")
    votes.vote("dry", "cedar", "marin")
    votes.vote("dry", "marin", "alloy")
    votes.vote("absurd", "alloy", "cedar")
    again = Votes(path)  # a new process: the same file
    board = again.standings("dry")
    assert [(s.voice, s.wins, s.losses) for s in board] == [("cedar", 2, 0), ("marin", 1, 1), ("alloy", 0, 2)]
    assert [s.voice for s in again.standings("absurd")] == ["alloy", "cedar"] and again.total() == 4


def test_visitors_voting_at_once_all_count(tmp_path) -> None:
    path = tmp_path / "votes.sqlite3"
    Votes(path)

    def visitor(n: int) -> None:
        mine = Votes(path)  # each visitor's handler: its own connections
        for _ in range(25):
            mine.vote("witty", "coral" if n % 2 else "sage", "sage" if n % 2 else "coral")

    crowd = [threading.Thread(target=visitor, args=(n,)) for n in range(8)]
    for t in crowd:
        t.start()
    for t in crowd:
        t.join()
    board = {s.voice: (s.wins, s.losses) for s in Votes(path).standings("witty")}
    assert board == {"coral": (100, 100), "sage": (100, 100)}


@pytest.mark.parametrize(("winner", "loser"), [("cedar", "cedar"), ("onyx", "cedar"), ("cedar", "")])
def test_a_vote_is_for_two_different_realtime_voices(tmp_path, winner: str, loser: str) -> None:
    with pytest.raises(ValueError, match="two different Realtime voices"):
        Votes(tmp_path / "v.sqlite3").vote("dry", winner, loser)
