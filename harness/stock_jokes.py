"""The widely known stock jokes (`stock_jokes.txt`), and whether a line sounds like one: a fuzzy match
(rapidfuzz), so a stock joke told in other words is still caught."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process, utils

STOCK_JOKES = Path(__file__).with_name("stock_jokes.txt")
THRESHOLD = 75.0  # a line this close (0-100, token set ratio) to a stock joke is that joke


@cache
def stock_jokes(path: Path = STOCK_JOKES) -> tuple[str, ...]:
    """The list, its comments left out."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def stock_match(line: str, threshold: float = THRESHOLD) -> str | None:
    """The stock joke `line` sounds like, if any."""
    found = process.extractOne(
        line,
        stock_jokes(),
        scorer=fuzz.token_set_ratio,
        processor=utils.default_process,
        score_cutoff=threshold,
    )
    return found[0] if found else None
