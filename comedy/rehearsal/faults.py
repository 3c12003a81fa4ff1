"""The rehearsal server's fault switches: the ways the real API misbehaves, on demand, for tests."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass
class Faults:
    """Switches that make the server misbehave for tests; each fires for `times` responses."""

    drop_after_deltas: int | None = None  # cut the TCP connection after N audio deltas
    stall: bool = False  # send response.created, then nothing
    error_code: str | None = None  # "rate_limit_exceeded" or "server_error" instead of answering
    garbage: bool = False  # frames no client can read (not JSON, binary, no type, bad audio) first
    incomplete: str | None = None  # "content_filter": the answer stops halfway, status incomplete
    failed: bool = False  # the answer ends at once with status failed
    retry_after_s: float = 0.2
    times: int = 1

    @property
    def armed(self) -> bool:
        """Whether any switch is on."""
        return self.times > 0 and (
            self.drop_after_deltas is not None
            or self.stall
            or self.error_code is not None
            or self.garbage
            or self.incomplete is not None
            or self.failed
        )

    def fire(self) -> Faults | None:
        """Take one shot of the armed faults for the response starting now."""
        if not self.armed:
            return None
        self.times -= 1
        shot = replace(self, times=1)
        if self.times <= 0:
            self.drop_after_deltas, self.stall, self.error_code, self.garbage = None, False, None, False
            self.incomplete, self.failed = None, False
        return shot
