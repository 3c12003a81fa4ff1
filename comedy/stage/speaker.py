"""The speaker ledger: what of each answer's audio arrived from the API and what the visitor heard.

"Heard" is what was handed to Gradio's own player, or, with the Web Audio engine, what the page
reports its player played. A cut truncates the item being heard at that position, never past
what arrived; the latency meter asks when an item's first sample was heard.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from comedy.realtime.protocol import SAMPLE_RATE


@dataclass(frozen=True)
class Cut:
    """Where a cut falls: the item being heard, how much of it was heard, and the items after it."""

    item_id: str
    heard_ms: int
    later: tuple[str, ...]


@dataclass
class Speaker:
    """Samples received and heard per output item, and the order items arrived in."""

    received: dict[str, int] = field(default_factory=dict)
    played: dict[str, int] = field(default_factory=dict)
    last_item: str | None = None  # the item audio arrived for last
    reports: bool = False  # a player that says what it played (the engine) is attached
    first_heard: dict[str, float] = field(default_factory=dict)  # item -> when its first sample went out
    _pending: list[str] = field(default_factory=list)  # items with audio not all heard, in order

    def arrived(self, item_id: str, samples: int) -> None:
        """Audio for an item came from the API."""
        self.received[item_id] = self.received.get(item_id, 0) + samples
        self.last_item = item_id
        if item_id not in self._pending:
            self._pending.append(item_id)

    def handed(self, item_id: str, samples: int) -> None:
        """Samples of an item went to a player that keeps no count (Gradio's)."""
        self.played[item_id] = self.played.get(item_id, 0) + samples

    def report(self, item_id: str, samples: int) -> None:
        """The page's player says `samples` of an item have been played (never more than arrived)."""
        self.reports = True
        received = self.received.get(item_id)
        if received is not None:
            self.played[item_id] = min(received, max(samples, self.played.get(item_id, 0)))

    def heard_first(self, item_id: str, at: float) -> bool:
        """An item's first sample reached the visitor at `at`; False when that was known already."""
        if item_id not in self.received or item_id in self.first_heard:
            return False
        self.first_heard[item_id] = at
        return True

    def unplayed(self, item_id: str) -> bool:
        """Whether some of the item's audio has not been heard yet."""
        return self.played.get(item_id, 0) < self.received.get(item_id, 0)

    def unheard(self) -> list[str]:
        """Items with audio not all heard, in the order they arrived."""
        return [i for i in self._pending if self.unplayed(i)]

    def new_answer(self) -> None:
        """A new answer starts: forget the items already heard in full."""
        self._pending = self.unheard()

    def forget_session(self) -> None:
        """The session is gone (a drop, a new voice): its items are no one's to cut or truncate."""
        self._pending, self.last_item = [], None

    def cut(self) -> Cut | None:
        """Where to cut now (None when nothing was playing); the ledger starts over after it."""
        if not self._pending:
            return None
        unheard = self.unheard()
        playing = unheard[0] if unheard else self._pending[-1]
        later = tuple(self._pending[self._pending.index(playing) + 1 :])
        heard_ms = self.played.get(playing, 0) * 1000 // SAMPLE_RATE
        self._pending, self.last_item = [], None
        return Cut(playing, heard_ms, later)
