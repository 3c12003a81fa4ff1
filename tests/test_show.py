"""The show's features against the rehearsal server: heckles, meters, recording, room reader, audition."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import numpy as np
import pytest
import soundfile

from comedy import audio, pricing, prompts, protocol
from comedy.audition import Audition, one_after_another
from comedy.club import ComedySet, Endpoint
from comedy.house.jokes import load_joke_book
from comedy.rehearsal import RehearsalServer
from comedy.room import read_room
from tests.conftest import KEY, spoken

SR = protocol.SAMPLE_RATE


def _endpoint(server: RehearsalServer) -> Endpoint:
    return Endpoint(server.url, KEY, True)


class Listener:
    """Plays the set's speaker output in real time, counting samples per answer as a browser would."""

    def __init__(self, comedy_set: ComedySet) -> None:
        self.set = comedy_set
        self.samples = 0
        self.task = asyncio.create_task(self._play())

    async def _play(self) -> None:
        async for chunk in self.set.emit():
            self.samples += len(chunk)


async def _until(check, timeout: float = 20.0, what: str = "") -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def _answers(comedy_set: ComedySet) -> list:
    return [t for t in comedy_set.transcript if t.role == "assistant" and t.text]


def _laughter(seconds: float = 2.5, seed: int = 0) -> np.ndarray:
    """Laughter-like bursts: breathy noise switching on and off about five times a second."""
    t = np.arange(int(SR * seconds)) / SR
    bursts = np.sin(2 * np.pi * 5 * t) > 0.2
    noise = np.random.default_rng(seed).standard_normal(t.size)
    return (noise * 0.2 * bursts * 32767).astype(np.int16)


async def test_heckle_cancels_and_truncates_at_the_played_position() -> None:
    async with RehearsalServer(pace=3.0) as server:  # audio arrives faster than it plays, as live
        comedy_set = ComedySet(_endpoint(server), prompts.SetUp(voice="ash"), hands_free=True)
        await comedy_set.start()
        listener = Listener(comedy_set)
        await comedy_set.tell("airports")
        await _until(lambda: listener.samples >= SR * 1.5, what="1.5 s of the joke played")
        heckle = spoken("boo, you are not funny at all", voice="echo", silence_after=1.2)
        played_at_heckle = None
        for start in range(0, len(heckle), SR // 10):  # the visitor talks over the comedian
            comedy_set.receive(SR, heckle[start : start + SR // 10])
            await asyncio.sleep(0.1)
            if comedy_set.barges and played_at_heckle is None:
                played_at_heckle = listener.samples
        await _until(lambda: server.truncations, what="the truncate")
        await _until(
            lambda: len(_answers(comedy_set)) >= 2 and "your turn" in comedy_set.status,
            what="the comedian's answer to the heckle",
        )
        listener.task.cancel()
        await comedy_set.close()
    item_id, audio_end_ms = server.truncations[0]
    cut = next(t for t in comedy_set.transcript if t.item_id == item_id)
    assert comedy_set.barges == 1
    assert "response.cancel" in server.received
    # Cut where the listener was: what had been handed to the player, not what had arrived.
    assert abs(audio_end_ms - played_at_heckle * 1000 // SR) <= 100
    assert audio_end_ms < comedy_set.speaker.received[item_id] * 1000 // SR
    assert cut.note.startswith("heckled: cut at")
    assert any(t.note == "heckle" for t in comedy_set.transcript if t.role == "user")
    openers = load_joke_book().openers["heckling"]
    assert any(_answers(comedy_set)[-1].text.startswith(o) for o in openers)


async def test_meters_equal_the_usage_the_server_sent(server: RehearsalServer) -> None:
    comedy_set = ComedySet(_endpoint(server), prompts.SetUp(), prices=pricing.prices_for("gpt-realtime"))
    await comedy_set.start()
    listener = Listener(comedy_set)
    for answers, topic in enumerate(("cats", "work"), start=1):
        await comedy_set.tell(topic)
        await _until(lambda n=answers: comedy_set.meters.answers == n == len(server.usages))
        await _until(lambda n=answers: len(comedy_set.meters.latencies_s) == n, what="its latency")
        item = comedy_set.speaker.last_item
        await _until(
            lambda i=item: comedy_set.speaker.played.get(i) == comedy_set.speaker.received.get(i),
            what="the answer to play out",
        )
    listener.task.cancel()
    await comedy_set.close()
    usages = list(server.usages)
    assert comedy_set.meters.answers == len(usages) == 2
    expected = sum(pricing.usage_cost(u, pricing.LIST_PRICES["gpt-realtime"]) for u in usages)
    assert comedy_set.meters.cost_usd == pytest.approx(expected) and expected > 0
    out_audio = sum(u["output_token_details"]["audio_tokens"] for u in usages)
    assert comedy_set.meters.tokens["audio_out"] == out_audio
    assert all(0 <= x < 5 for x in comedy_set.meters.latencies_s)
    assert "median" in comedy_set.meters.summary()


def test_usage_cost_by_hand() -> None:
    usage = {
        "input_token_details": {
            "audio_tokens": 1000,
            "text_tokens": 2000,
            "cached_tokens_details": {"audio_tokens": 500, "text_tokens": 1000},
        },
        "output_token_details": {"audio_tokens": 3000, "text_tokens": 100},
    }
    prices = pricing.LIST_PRICES["gpt-realtime"]
    by_hand = (500 * 32 + 500 * 0.40 + 1000 * 4 + 1000 * 0.40 + 3000 * 64 + 100 * 16) / 1e6
    assert pricing.usage_cost(usage, prices) == pytest.approx(by_hand)
    mini = pricing.LIST_PRICES["gpt-realtime-mini"]
    assert (mini.audio_in, mini.audio_cached, mini.audio_out) == (10, 0.30, 20)
    assert (mini.text_in, mini.text_cached, mini.text_out) == (0.60, 0.06, 2.40)
    assert pricing.LIST_PRICES["gpt-realtime-2.1"].text_out == 24
    assert pricing.prices_for("gpt-realtime-mini-2025-12-15") == mini


def test_prices_are_overridable_from_the_environment() -> None:
    table = pricing.price_table({"COMEDY_PRICES": json.dumps({"gpt-realtime": {"audio_out": 60}})})
    assert table["gpt-realtime"].audio_out == 60 and table["gpt-realtime"].text_out == 16
    with pytest.raises(ValueError, match="COMEDY_PRICES"):
        pricing.price_table({"COMEDY_PRICES": '{"gpt-realtime": {"audio_price": 1}}'})


async def test_recording_is_as_long_as_the_set_with_both_sides(server: RehearsalServer) -> None:
    comedy_set = ComedySet(_endpoint(server), prompts.SetUp(), hands_free=True)
    await comedy_set.start()
    listener = Listener(comedy_set)
    visitor = spoken("tell me a joke about dogs", silence_after=1.0)
    for start in range(0, len(visitor), SR // 10):
        comedy_set.receive(SR, visitor[start : start + SR // 10])
        await asyncio.sleep(0.02)
    await _until(lambda: _answers(comedy_set) and "your turn" in comedy_set.status)
    await _until(lambda: listener.samples >= comedy_set.speaker.received.get(comedy_set.speaker.last_item, 1))
    await asyncio.sleep(0.5)
    await comedy_set.close()
    listener.task.cancel()
    archive = zipfile.ZipFile(io.BytesIO(comedy_set.archive()))
    assert sorted(archive.namelist()) == ["set.md", "set.wav"]
    pcm, rate = soundfile.read(io.BytesIO(archive.read("set.wav")), dtype="int16")
    length = comedy_set.ended_at - comedy_set.started_at
    assert rate == SR and len(pcm) / SR == pytest.approx(length, abs=0.01)
    markdown = archive.read("set.md").decode()
    assert "**Comedian**" in markdown and "**Visitor**" in markdown and "Cost so far" in markdown
    assert audio.rms_dbfs(pcm) > -45
    # Both sides are in the mix: the visitor first, then the comedian.
    visitor_part = pcm[: int(SR * 1.5)]
    assert audio.rms_dbfs(visitor_part) > -45


@pytest.mark.parametrize(
    ("pcm", "kind"),
    [
        (_laughter(), "laughter"),
        ((np.random.default_rng(2).standard_normal(SR * 3) * 3000).astype(np.int16), "applause"),
        ((np.random.default_rng(3).standard_normal(SR * 3) * 20).astype(np.int16), "silence"),
        (np.concatenate([spoken("what was that supposed to mean", "cedar", 0.3)]), "speech"),
        (spoken("haha no way, tell another one", "shimmer", 0.3), "speech"),
        (np.zeros(SR * 3, np.int16), "silence"),
    ],
)
def test_room_reader_tells_laughter_applause_silence_and_speech(pcm: np.ndarray, kind: str) -> None:
    reading = read_room(pcm)
    assert reading.kind == kind, reading
    if kind == "laughter":
        assert reading.laugh > 0.5 and reading.reaction == "laughing"
    if kind == "silence":
        assert reading.laugh == 0


async def test_auto_reaction_follows_the_room(server: RehearsalServer) -> None:
    comedy_set = ComedySet(_endpoint(server), prompts.SetUp(reaction="auto"), hands_free=False)
    await comedy_set.start()
    listener = Listener(comedy_set)
    await comedy_set.tell("cats")
    await _until(lambda: comedy_set.stage.listening_to_room, what="the punchline to land")
    laughter = _laughter(seconds=4.0)
    for start in range(0, len(laughter), SR // 10):
        comedy_set.receive(SR, laughter[start : start + SR // 10])
        await asyncio.sleep(0.1)
        if comedy_set.room is not None:
            break
    await _until(
        lambda: "- Audience reaction: laughing\n" in (server.session_updates[-1].get("instructions") or ""),
        what="the room's verdict in the instructions",
    )
    listener.task.cancel()
    await comedy_set.close()
    assert comedy_set.room.kind == "laughter" and comedy_set.room.meter()["laughter"] > 0.5


async def test_audition_is_cached_on_disk_and_a_repeat_costs_nothing(
    server: RehearsalServer, tmp_path
) -> None:
    auditioner = Audition(server.url, KEY, "gpt-realtime-2.1", "rehearsal", cache_dir=tmp_path)
    line = "My cat reviews my cooking."
    first = await auditioner.take("coral", "dry", line)
    connections = server.connections
    again = await auditioner.take("coral", "dry", line)
    other = await auditioner.take("cedar", "dry", line)
    assert first == again and auditioner.hits == 1 and auditioner.misses == 2
    assert server.connections == connections + 1  # only the new voice went to the server
    take, rate = soundfile.read(first, dtype="int16")
    assert rate == SR and len(take) > SR // 2
    assert first != other
    both = one_after_another([first, other])
    assert len(both) > len(take)


async def test_a_new_topic_mid_joke_cuts_the_joke_and_tells_the_next() -> None:
    async with RehearsalServer(pace=2.0) as server:
        comedy_set = ComedySet(_endpoint(server), prompts.SetUp())
        await comedy_set.start()
        listener = Listener(comedy_set)
        await comedy_set.tell("airports")
        await _until(lambda: listener.samples >= SR, what="a second of the first joke")
        await comedy_set.tell("cats")
        await _until(
            lambda: len(_answers(comedy_set)) >= 2 and "your turn" in comedy_set.status,
            what="the second joke",
        )
        listener.task.cancel()
        await comedy_set.close()
    first = _answers(comedy_set)[0]
    assert first.note.startswith("skipped for a new joke: cut at")
    assert not comedy_set.last_error  # no "already has an active response"
    assert "cat" in _answers(comedy_set)[-1].text.lower() or "meow" in _answers(comedy_set)[-1].text.lower()
