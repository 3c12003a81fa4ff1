"""The humour bench's dry run, as a test: the whole pipeline (the app's set playing each show with
the candidate and the baseline prompt, the heckle through the set's ear, the pairwise judge in both
orders, the stock, repeat and callback checks) against the house comedian, with no key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench import humour
from comedy.prompts import template

ROOT = Path(__file__).resolve().parent.parent


def test_the_dry_run_plays_judges_and_prints_its_figures(capsys) -> None:
    figures = humour.run(["--dry-run", "--shows", "1", "--baseline", str(template.COMEDIAN)])
    printed = capsys.readouterr().out
    assert figures is not None
    assert 0.0 <= figures.win_rate <= 1.0 and len(figures.rows) == len(humour.STEPS[0])
    assert figures.stock == (0, 5) and figures.repeats == 0
    assert figures.callbacks_per_show >= 2  # the house comedian calls back to the heckle and a topic
    for figure in ("win rate", "stock-joke rate", "repeats within a show", "callbacks per show", "cost"):
        assert figure in printed
    assert template.COMEDIAN == template.HERE / "comedian.md"  # the template is the repo's again


def test_without_a_key_it_says_what_it_needs_and_exits_cleanly() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "bench.humour"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "needs OPENAI_API_KEY" in done.stdout and "--dry-run" in done.stdout
    assert "Traceback" not in done.stderr
