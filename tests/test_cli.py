"""`python -m comedy` end to end, as a user runs it: a subprocess, no key, real sockets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from comedy.rehearsal import RehearsalThread
from comedy.rehearsal.server import PREAMBLES, Faults, RehearsalServer
from comedy.sound import audio
from tests.conftest import spoken

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "COMEDY_"))}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "comedy", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_cli_tells_a_joke_with_no_key(tmp_path: Path) -> None:
    result = _run(
        ["airports", "--voice", "cedar", "--style", "witty", "--reaction", "laughing", "--out", "joke.wav"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "rehearsal mode" in result.stderr
    assert len(result.stdout.strip()) > 20  # the transcript
    data, rate = soundfile.read(tmp_path / "joke.wav", dtype="int16")
    assert rate == 24_000 and data.ndim == 1
    assert len(data) > 24_000 and audio.rms_dbfs(data) > -40


def test_cli_listens_to_a_stereo_44k_recording(tmp_path: Path) -> None:
    voice = spoken("tell me a joke about cats").astype(np.float32) / 32768
    at_44k = soxr.resample(voice, 24_000, 44_100)
    soundfile.write(tmp_path / "question.wav", np.stack([at_44k, at_44k * 0.5], axis=1), 44_100)
    for extra in ([], ["--commit"]):
        result = _run(["--listen", "question.wav", "--out", "answer.wav", *extra], tmp_path)
        assert result.returncode == 0, result.stderr
        data, rate = soundfile.read(tmp_path / "answer.wav", dtype="int16")
        assert rate == 24_000 and len(data) > 24_000
    assert "heard" in result.stderr


def test_cli_failure_is_one_line_without_traceback_or_key(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = "sk-proj-DONOTPRINTME123456"
    result = _run(
        ["cats"], tmp_path, OPENAI_API_KEY=key, OPENAI_REALTIME_URL=f"ws://127.0.0.1:{port}/v1/realtime"
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and key not in result.stderr + result.stdout
    assert "Could not reach" in result.stderr


def test_cli_missing_file_is_a_message(tmp_path: Path) -> None:
    result = _run(["--listen", "nope.wav"], tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "nope.wav" in result.stderr


KEY = "sk-proj-CLIFAULTKEY0123456789"


@pytest.fixture
def faulty() -> Iterator[RehearsalServer]:
    """A rehearsal server in a thread, so a CLI subprocess can talk to it while faults are set."""
    running = RehearsalThread(pace=0).start()
    try:
        yield running.server
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("fault", "told"),
    [
        (Faults(error_code="rate_limit_exceeded", retry_after_s=0.3), "Rate limit reached"),
        (Faults(error_code="server_error"), "The server had an error"),
        (Faults(drop_after_deltas=3), "dropped"),
        (Faults(garbage=True), "could not read"),
        (Faults(failed=True), "The answer failed: The model failed to respond"),
    ],
    ids=["rate-limit", "server-error", "dropped-mid-answer", "unparseable-frames", "failed-answer"],
)
def test_cli_rides_out_a_fault(tmp_path: Path, faulty: RehearsalServer, fault: Faults, told: str) -> None:
    faulty.conduct.faults = fault
    result = _run(
        ["airports", "--out", "joke.wav"], tmp_path, OPENAI_API_KEY=KEY, OPENAI_REALTIME_URL=faulty.url
    )
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert told in said  # the user is told what happened, in words
    assert "Traceback" not in said and KEY not in said
    assert not faulty.conduct.faults.armed  # the fault really fired
    data, rate = soundfile.read(tmp_path / "joke.wav", dtype="int16")
    assert rate == 24_000 and len(data) > 24_000 and audio.rms_dbfs(data) > -40  # a whole answer


def test_cli_gives_up_on_a_refused_key_in_one_line(tmp_path: Path, faulty: RehearsalServer) -> None:
    faulty.conduct.refused_keys = {KEY}
    result = _run(["cats"], tmp_path, OPENAI_API_KEY=KEY, OPENAI_REALTIME_URL=faulty.url)
    said = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in said
    assert KEY not in said and KEY[-4:] + "." not in said  # not even the API's masked echo of it
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "refused the API key" in errors[0], said


@pytest.mark.parametrize(
    ("switch", "env", "told"),
    [
        ("content-filter", {}, "OpenAI's content filter cut that joke short."),
        ("length-limit", {"COMEDY_MAX_OUTPUT_TOKENS": "30"}, "reached its length limit"),
    ],
)
def test_cli_says_why_an_answer_was_cut(
    tmp_path: Path, faulty: RehearsalServer, switch: str, env: dict, told: str
) -> None:
    if switch == "content-filter":
        faulty.conduct.faults = Faults(incomplete="content_filter")
    result = _run(["airports"], tmp_path, OPENAI_API_KEY=KEY, OPENAI_REALTIME_URL=faulty.url, **env)
    assert result.returncode == 0, result.stderr
    assert f"[{told}" in result.stderr or told in result.stderr
    data, _ = soundfile.read(tmp_path / "joke.wav", dtype="int16")
    spoken = faulty.journal.usages[-1]["output_token_details"]["audio_tokens"] * 24_000 // 20  # 50 ms a token
    assert 0 < len(data) == pytest.approx(spoken, abs=2_400)  # what was said before the cut, no more


def test_cli_sends_no_stored_prompt_now_that_openai_has_ended_them(
    tmp_path: Path, faulty: RehearsalServer
) -> None:
    """A COMEDY_PROMPT_ID left in the settings after 2026-11-30 is not sent (the API would refuse
    it): the joke is told from the prompt in the repo, with every setting, and the log says why.
    (Before that day, a refused prompt falls back: `tests/test_stored_prompt.py`.)"""
    faulty.conduct.refuse_prompts = True
    result = _run(
        ["airports", "--voice", "ash"],
        tmp_path,
        OPENAI_API_KEY=KEY,
        OPENAI_REALTIME_URL=faulty.url,
        COMEDY_PROMPT_ID="pmpt_gone",
    )
    assert result.returncode == 0, result.stderr
    assert "COMEDY_PROMPT_ID=pmpt_gone is not used" in result.stderr
    assert not [u for u in faulty.journal.session_updates if u.get("prompt")]
    assert faulty.journal.session_updates[-1]["audio"]["output"]["voice"] == "ash"  # no setting lost
    assert "- Comedy style: witty\n" in faulty.journal.session_updates[-1]["instructions"]
    data, _ = soundfile.read(tmp_path / "joke.wav", dtype="int16")
    assert len(data) > 24_000 and audio.rms_dbfs(data) > -40


def test_cli_hears_a_two_item_answer_whole(tmp_path: Path, faulty: RehearsalServer) -> None:
    faulty.conduct.preambles = True
    result = _run(["airports"], tmp_path, OPENAI_API_KEY=KEY, OPENAI_REALTIME_URL=faulty.url)
    assert result.returncode == 0, result.stderr
    said = result.stdout.strip()
    preamble = next(p for p in PREAMBLES if said.startswith(p))
    assert len(said) > len(preamble) + 20  # the joke after it
    data, _ = soundfile.read(tmp_path / "joke.wav", dtype="int16")
    assert len(data) > 24_000 * 2
