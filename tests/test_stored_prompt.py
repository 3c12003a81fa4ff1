"""The opt-in stored prompt: when the API refuses it, the set goes on with the repo's template at once.

Against the rehearsal server's `refuse_prompts` switch, which refuses `session.prompt` as the API
does once stored prompts end (2026-11-30): the whole update is rejected, voice and VAD included.
"""

from __future__ import annotations

import datetime as dt
import logging

from comedy import prompts
from comedy.prompts.stored import STORED_PROMPTS_END, StoredPrompt, configured
from comedy.realtime.protocol import ApiError
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from tests.conftest import KEY
from tests.test_faults import Watched

SET_UP = prompts.SetUp(voice="ash", style="dry", reaction="silent")


def _errors(server: RehearsalServer) -> int:
    return list(server.journal.sent).count("error")


def _set(server: RehearsalServer, stored: StoredPrompt, set_up: prompts.SetUp = SET_UP) -> Watched:
    return Watched(ComedySet(Endpoint(server.url, KEY, True, stored_prompt=stored), set_up))


async def test_a_refused_prompt_at_start_falls_back_and_the_joke_plays(
    server: RehearsalServer, caplog
) -> None:
    server.conduct.refuse_prompts = True
    stored = StoredPrompt("pmpt_gone", "3")
    caplog.set_level(logging.WARNING, "comedy.prompts.stored")
    watched = _set(server, stored)
    await watched.set.start()
    await watched.joke("cats")

    assert stored.refused and _errors(server) == 1
    session = server.journal.session_updates[-1]  # what the server applied: every setting, from the template
    assert session["prompt"] is None and session["audio"]["output"]["voice"] == "ash"
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert "- Comedy style: dry\n" in session["instructions"]
    assert any("The stored prompt pmpt_gone was refused" in line for line in watched.lines)
    assert [t.role for t in watched.set.stage.transcript] == ["user", "assistant"]

    second = _set(server, stored, prompts.SetUp(style="absurd"))  # the process has learnt it
    await second.set.start()
    await second.joke("dogs")
    assert _errors(server) == 1  # the prompt was not sent again
    assert "- Comedy style: absurd\n" in server.journal.session_updates[-1]["instructions"]
    assert caplog.text.count("refused stored prompt pmpt_gone") == 1  # said once in the log
    await watched.set.close()
    await second.set.close()


async def test_a_prompt_refused_mid_set_falls_back_and_a_reconnect_does_not_send_it(
    server: RehearsalServer,
) -> None:
    stored = StoredPrompt("pmpt_live")
    watched = _set(server, stored)
    await watched.set.start()
    await watched.joke("cats")
    assert server.journal.session_updates[-1]["prompt"]["id"] == "pmpt_live" and not stored.refused

    server.conduct.refuse_prompts = True  # stored prompts end mid-set
    await watched.set.change(prompts.SetUp(voice="ash", style="absurd", reaction="cheering"))
    await watched.until(lambda: stored.refused and server.journal.session_updates[-1].get("instructions"))
    assert "- Comedy style: absurd\n" in server.journal.session_updates[-1]["instructions"]
    assert "- Audience reaction: cheering\n" in server.journal.session_updates[-1]["instructions"]
    await watched.joke("dogs")

    errors = _errors(server)
    server.conduct.faults.drop_after_deltas = 2  # a fresh connection gets the remembered settings
    await watched.joke("birds")
    assert server.journal.connections == 2 and _errors(server) == errors  # no prompt went to it
    assert server.journal.session_updates[-1]["prompt"] is None
    assert "- Comedy style: absurd\n" in server.journal.session_updates[-1]["instructions"]
    assert any("stored prompt pmpt_live was refused" in line for line in watched.lines)
    await watched.set.close()


async def test_an_accepted_prompt_carries_the_variables_and_no_instructions(server: RehearsalServer) -> None:
    watched = _set(server, StoredPrompt("pmpt_ok", "2"), prompts.SetUp(style="dark", topic="tax"))
    await watched.set.start()
    await watched.joke("tax")
    prompt = server.journal.session_updates[-1]["prompt"]
    assert prompt["id"] == "pmpt_ok" and prompt["version"] == "2"
    assert {k: v["text"] for k, v in prompt["variables"].items()} == {
        "comedy_style": "dark",
        "audience_reaction": "laughing",
        "edge": "club",
        "topic": "tax",
    }
    await watched.set.close()


def test_an_error_refuses_the_prompt_by_its_param_or_by_the_update_that_carried_it() -> None:
    assert StoredPrompt.refuses(ApiError("invalid_request_error", "invalid_value", "no", "session.prompt.id"))
    marked = StoredPrompt.event_id()
    assert StoredPrompt.refuses(ApiError("invalid_request_error", "x", "no", None, marked))
    assert not StoredPrompt.refuses(ApiError("invalid_request_error", "x", "no", "session.audio", "event_1"))


def test_a_configured_prompt_is_used_until_openai_ends_stored_prompts_and_never_after() -> None:
    day = dt.timedelta(days=1)
    before = configured("pmpt_owner", "2", STORED_PROMPTS_END)
    assert before == StoredPrompt("pmpt_owner", "2")
    assert configured("pmpt_owner", "2", STORED_PROMPTS_END + day) is None
    assert configured(None, None, STORED_PROMPTS_END - day) is None
