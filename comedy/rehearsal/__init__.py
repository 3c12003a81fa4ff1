"""The rehearsal server: the Realtime protocol on loopback, no key and no network needed."""

from comedy.rehearsal.server import Faults, RehearsalServer, RehearsalThread

__all__ = ["Faults", "RehearsalServer", "RehearsalThread"]
