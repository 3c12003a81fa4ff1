"""The voice battle's votes: which voice won the same bit, per comedy style, kept in SQLite.

One file under the cache folder (`COMEDY_CACHE_DIR`), in WAL mode so that visitors voting at once
never lose a vote (each vote is one short transaction; a busy writer waits). A new connection per
call keeps it safe from any thread Gradio runs a handler on. The leaderboard survives a restart.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from comedy.config import cache_dir
from comedy.realtime.protocol import VOICES

BUSY_SECONDS = 10.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY,
    style TEXT NOT NULL,
    winner TEXT NOT NULL,
    loser TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_by_style ON votes (style);
"""


def default_path() -> Path:
    """`votes.sqlite3` in the club's cache folder."""
    return cache_dir() / "votes.sqlite3"


@dataclass(frozen=True)
class Standing:
    """A voice's record in one style."""

    voice: str
    wins: int
    losses: int

    @property
    def share(self) -> float:
        """Wins out of battles fought."""
        fought = self.wins + self.losses
        return self.wins / fought if fought else 0.0


class Votes:
    """The battle's ballot box."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or default_path())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)  # autocommit
        try:
            yield db
        finally:
            db.close()

    def vote(self, style: str, winner: str, loser: str) -> None:
        """One visitor's vote: `winner` did the bit better than `loser` in `style`."""
        if winner not in VOICES or loser not in VOICES or winner == loser:
            raise ValueError("a vote is for one of two different Realtime voices")
        with self._connect() as db:
            db.execute(
                "INSERT INTO votes (style, winner, loser, at) VALUES (?, ?, ?, ?)",
                (style, winner, loser, time.time()),
            )

    def standings(self, style: str) -> list[Standing]:
        """The voices that have fought in `style`, best first (share of wins, then wins)."""
        with self._connect() as db:
            wins = dict(
                db.execute("SELECT winner, COUNT(*) FROM votes WHERE style=? GROUP BY winner", (style,))
            )
            losses = dict(
                db.execute("SELECT loser, COUNT(*) FROM votes WHERE style=? GROUP BY loser", (style,))
            )
        board = [Standing(v, wins.get(v, 0), losses.get(v, 0)) for v in VOICES if v in wins or v in losses]
        return sorted(board, key=lambda s: (-s.share, -s.wins, s.voice))

    def total(self) -> int:
        """Votes cast, in every style."""
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM votes").fetchone()[0])
