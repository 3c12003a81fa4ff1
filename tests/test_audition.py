"""The voice audition (`comedy.venue.audition`): cached on disk, a repeat costs nothing."""

from __future__ import annotations

import soundfile

from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.venue.audition import Audition, one_after_another
from tests.conftest import KEY

SR = protocol.SAMPLE_RATE


async def test_audition_is_cached_on_disk_and_a_repeat_costs_nothing(
    server: RehearsalServer, tmp_path
) -> None:
    auditioner = Audition(server.url, KEY, "gpt-realtime-2.1", "rehearsal", cache_dir=tmp_path)
    line = "My cat reviews my cooking."
    first = await auditioner.take("coral", "dry", line)
    connections = server.journal.connections
    again = await auditioner.take("coral", "dry", line)
    other = await auditioner.take("cedar", "dry", line)
    assert first == again and auditioner.hits == 1 and auditioner.misses == 2
    assert server.journal.connections == connections + 1  # only the new voice went to the server
    take, rate = soundfile.read(first, dtype="int16")
    assert rate == SR and len(take) > SR // 2
    assert first != other
    both = one_after_another([first, other])
    assert len(both) > len(take)
