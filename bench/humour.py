"""`python -m bench.humour`: is the comedian funnier, staler or more repetitive after a prompt change?

A fixed set of shows (topics and a heckle, in a few styles and edges) is played through the app's
own set (`ComedySet`: its session, its ear, its memory of the night) twice: once with the candidate
prompt (`comedy/prompts/comedian.md` as it stands) and once with the baseline (the committed one,
`git show HEAD:...`, or `--baseline FILE`). The bits are the set's own transcript of what the
comedian said. A judge model compares each candidate bit with the baseline's on the same step,
pairwise and in both orders (to cancel position bias). Each bit is also checked against the stock
jokes in `harness/stock_jokes.txt` (fuzzy), against the show's earlier bits (repeats), and for
callbacks to the show's earlier topics and heckles.

Live it needs `OPENAI_API_KEY` (it says so and exits cleanly without one) and costs about a dollar.
`--dry-run` runs the same pipeline against the house comedian in rehearsal, with a local judge
(callbacks and specific detail up, stock jokes down): no key, no network, a few seconds a show.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz

from bench.report import table
from comedy import prompts
from comedy.house import voice
from comedy.prompts import template
from comedy.realtime import protocol
from comedy.rehearsal import RehearsalServer
from comedy.show.comedy_set import ComedySet
from comedy.show.endpoint import Endpoint
from comedy.stage.transcript import joke_of
from harness.sets import answers, in_the_room, until
from harness.stock_jokes import stock_match

HECKLE = "heckle"
STEPS = (  # one show: its topics in order, and a heckle while the comedian talks
    ("airports", "my cat", HECKLE, "the dentist", "trains"),
    ("online dating", "my landlord", HECKLE, "the gym", "robots"),
    ("my job", "the weather", HECKLE, "my mum", "coffee"),
)
HECKLES = ("you call that a joke", "get off the stage, my name is Sam", "boring, do the cat one again")
GRID = (("witty", "club"), ("dry", "clean"), ("absurd", "roast"))  # style, edge
# gpt-5-mini is marked for deprecation on OpenAI's model page; its successor in the mini tier:
JUDGE_MODEL = os.environ.get("COMEDY_JUDGE_MODEL", "gpt-5.4-mini")
JUDGE_USD_PER_MTOK = (0.75, 4.50)  # the default judge's list prices per million tokens, input and output
REPEAT_RATIO = 85.0  # two bits this alike (0-100) are the same joke
BASELINE = "HEAD:comedy/prompts/comedian.md"


@dataclass
class Show:
    """One show as told: its style and edge, and for each step the topic (or heckle) and the bit."""

    style: str
    edge: str
    steps: list[str]
    bits: list[str] = field(default_factory=list)
    usd: float = 0.0


@dataclass
class Figures:
    """What the bench prints."""

    win_rate: float
    stock: tuple[int, int]  # candidate bits that are stock jokes, of all its bits
    baseline_stock: tuple[int, int]
    repeats: int  # candidate bits that repeat an earlier bit of their show
    baseline_repeats: int
    callbacks_per_show: float
    baseline_callbacks_per_show: float
    usd: float
    rows: list[list[object]] = field(default_factory=list)


def shows(count: int) -> list[Show]:
    """The fixed shows, the first `count` of the grid."""
    return [
        Show(style, edge, list(steps)) for (style, edge), steps in list(zip(GRID, STEPS, strict=True))[:count]
    ]


async def perform(show: Show, endpoint: Endpoint, heckle: Callable, server: RehearsalServer | None) -> Show:
    """Play one show through the app's set: each topic told and its answer awaited; the heckle spoken
    into the set's microphone while the comedian talks (cued through the rehearsal audience there)."""
    set_up = prompts.SetUp(style=show.style, edge=show.edge, reaction="auto")
    async with in_the_room(ComedySet(endpoint, set_up, hands_free=True), server) as comedy_set:
        for number, step in enumerate(show.steps):
            told = len(answers(comedy_set))
            if step == HECKLE:
                await heckle(comedy_set, HECKLES[number % len(HECKLES)])
            else:
                await comedy_set.tell(step)
            await until(
                lambda t=told: len(answers(comedy_set)) > t and not comedy_set.stage.busy, 90, "an answer"
            )
            show.bits.append(answers(comedy_set)[-1].text)
        show.usd = comedy_set.stage.meters.cost_usd
    return show


def heckler(server: RehearsalServer | None) -> Callable:
    """How a heckle reaches the set: the rehearsal audience's cue (it has no speech recogniser, so
    the cue carries its words), or live, the house voice saying it into the set's microphone."""

    async def heckle(comedy_set: ComedySet, words: str) -> None:
        await until(lambda: sum(comedy_set.stage.speaker.played.values()) > 12_000, 60, "the comedian")
        if server is not None:
            server.conduct.audience.cue("heckle", said=words)
            return
        pcm = np.concatenate([voice.speak(words, "echo"), np.zeros(protocol.SAMPLE_RATE, np.int16)])
        for start in range(0, len(pcm), 480):  # 20 ms frames in real time, as a page sends them
            comedy_set.receive(protocol.SAMPLE_RATE, pcm[start : start + 480])
            await asyncio.sleep(0.02)

    return heckle


def callbacks(show: Show) -> int:
    """Bits that call back to an earlier topic (not their own) or to a heckle's words."""
    found = 0
    for number, bit in enumerate(show.bits):
        text = bit.lower()
        earlier = [s for s in show.steps[:number] if s != HECKLE and s != show.steps[number]]
        heckled = [HECKLES[n % len(HECKLES)] for n, s in enumerate(show.steps[:number]) if s == HECKLE]
        found += any(t.lower() in text for t in earlier) or any(h.lower() in text for h in heckled)
    return found


def repeats(show: Show) -> int:
    """Bits whose joke is one an earlier bit of the show told."""
    jokes = [joke_of(bit) for bit in show.bits]
    return sum(
        any(fuzz.token_set_ratio(joke, before) >= REPEAT_RATIO for before in jokes[:n])
        for n, joke in enumerate(jokes)
    )


def stock(all_shows: list[Show]) -> tuple[int, int]:
    """Bits that sound like a stock joke, of all bits."""
    bits = [bit for show in all_shows for bit in show.bits]
    return sum(stock_match(joke_of(bit)) is not None for bit in bits), len(bits)


_DETAIL = re.compile(r"\b(?:\d[\d,.]*|[A-Z][a-z]+)\b")


def house_judge(topic: str, first: str, second: str) -> str:
    """The dry run's judge: "A", "B" or "tie", by callbacks (to the show, seen by `tonight`'s quotes),
    concrete detail and stock jokes. No model: it tests the pipeline, not the comedian."""

    def score(bit: str) -> float:
        detail = len(_DETAIL.findall(joke_of(bit))) / 4
        called = 2.0 if "earlier" in bit or '"' in bit else 0.0
        return called + detail - 3.0 * (stock_match(joke_of(bit)) is not None)

    a, b = score(first), score(second)
    return "tie" if abs(a - b) < 0.5 else ("A" if a > b else "B")


JUDGE_PROMPT = """You judge stand-up comedy. Two comedians answered the same moment of a live show
(the topic or heckle: {topic}). Which bit is funnier for a live room: fresher, more specific,
better timed, not a stock joke? Answer with one letter, A or B, or the word tie.

A: {first}

B: {second}"""


class ModelJudge:
    """The live judge: a model through the Responses API, its cost kept."""

    def __init__(self, key: str) -> None:
        from openai import AsyncOpenAI  # the SDK is a test and bench dependency only

        self.client, self.usd = AsyncOpenAI(api_key=key), 0.0

    async def __call__(self, topic: str, first: str, second: str) -> str:
        prompt = JUDGE_PROMPT.format(topic=topic, first=first, second=second)
        response = await self.client.responses.create(model=JUDGE_MODEL, input=prompt)
        if response.usage is not None:
            price_in, price_out = JUDGE_USD_PER_MTOK
            self.usd += (
                response.usage.input_tokens * price_in + response.usage.output_tokens * price_out
            ) / 1e6
        said = response.output_text.strip().lower()
        return "tie" if said.startswith("tie") else ("A" if said.startswith("a") else "B")


async def win_rate(candidate: list[Show], baseline: list[Show], judge: Callable) -> tuple[float, list]:
    """The candidate's share of wins over the baseline, each pair judged in both orders (a win in
    one order and a loss in the other is a tie)."""
    points, rows = [], []
    for ours, theirs in zip(candidate, baseline, strict=True):
        for step, mine, other in zip(ours.steps, ours.bits, theirs.bits, strict=True):
            topic = "a heckle" if step == HECKLE else step
            first = await judge(topic, mine, other)  # the candidate as A
            second = await judge(topic, other, mine)  # ...and as B
            point = ((first == "A") + (second == "B") + 0.5 * ((first == "tie") + (second == "tie"))) / 2
            points.append(point)
            rows.append([f"{ours.style}/{ours.edge}", topic, f"{point:.2f}"])
    return (sum(points) / len(points) if points else float("nan")), rows


def baseline_template(spec: str) -> Path:
    """The baseline prompt as a file: a path, or `REF:path` read with git."""
    if Path(spec).is_file():
        return Path(spec)
    text = subprocess.run(["git", "show", spec], capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp(prefix="humour-")) / "baseline.md"
    path.write_text(text, encoding="utf-8")
    return path


async def play(count: int, prompt: Path, endpoint: Endpoint, server: RehearsalServer | None) -> list[Show]:
    """Every show with this prompt (the process's template switched for the run)."""
    template.COMEDIAN = prompt
    try:
        return [await perform(show, endpoint, heckler(server), server) for show in shows(count)]
    finally:
        template.COMEDIAN = template.HERE / "comedian.md"


async def measure(count: int, baseline: Path, key: str | None) -> Figures:
    """Both prompts' shows, judged; live with `key`, else the dry run on the rehearsal server."""
    if key is None:
        async with RehearsalServer(pace=0, seed=7) as server:
            endpoint = Endpoint(server.url, "rehearsal", True)
            candidate = await play(count, template.COMEDIAN, endpoint, server)
            base = await play(count, baseline, endpoint, server)
        judge: Callable = _async(house_judge)
        rate, rows = await win_rate(candidate, base, judge)
        judge_usd = 0.0
    else:
        endpoint = Endpoint(
            os.environ.get("OPENAI_REALTIME_URL", "wss://api.openai.com/v1/realtime"), key, False
        )
        candidate = await play(count, template.COMEDIAN, endpoint, None)
        base = await play(count, baseline, endpoint, None)
        judge = ModelJudge(key)
        rate, rows = await win_rate(candidate, base, judge)
        judge_usd = judge.usd
    return Figures(
        win_rate=rate,
        stock=stock(candidate),
        baseline_stock=stock(base),
        repeats=sum(map(repeats, candidate)),
        baseline_repeats=sum(map(repeats, base)),
        callbacks_per_show=sum(map(callbacks, candidate)) / len(candidate),
        baseline_callbacks_per_show=sum(map(callbacks, base)) / len(base),
        usd=sum(s.usd for s in candidate + base) + judge_usd,
        rows=rows,
    )


def _async(judge: Callable[[str, str, str], str]) -> Callable:
    async def judged(topic: str, first: str, second: str) -> str:
        return judge(topic, first, second)

    return judged


def report(figures: Figures, dry_run: bool) -> str:
    """The figures, each beside its floor, as the other benchmarks print them."""
    kind = (
        "dry run: the house comedian in rehearsal, a local judge"
        if dry_run
        else f"live, judged by {JUDGE_MODEL}"
    )
    (stock_n, bits), (base_stock_n, base_bits) = figures.stock, figures.baseline_stock
    usd = f"0 (rehearsal; {figures.usd:.3f} at list prices live)" if dry_run else f"{figures.usd:.3f}"
    return table(
        f"The humour bench ({kind})",
        ["figure", "candidate prompt", "baseline prompt", "floor", "ratio"],
        [
            [
                "win rate over the baseline, both orders",
                f"{figures.win_rate:.1%}",
                "",
                "50 % (a tie)",
                f"{figures.win_rate / 0.5:.2f}x",
            ],
            ["stock-joke rate", f"{stock_n}/{bits}", f"{base_stock_n}/{base_bits}", "0", ""],
            ["repeats within a show", figures.repeats, figures.baseline_repeats, "0", ""],
            [
                "callbacks per show",
                f"{figures.callbacks_per_show:.1f}",
                f"{figures.baseline_callbacks_per_show:.1f}",
                "",
                "",
            ],
            ["cost (USD): both prompts' shows and the judge", usd, "", "", ""],
        ],
    )


def run(argv: list[str] | None = None) -> Figures | None:
    """The bench from the command line; None (said) when it needs a key it does not have."""
    parser = argparse.ArgumentParser(prog="python -m bench.humour", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="the house comedian in rehearsal: no key")
    parser.add_argument("--shows", type=int, default=len(GRID), help=f"how many of the {len(GRID)} shows")
    parser.add_argument("--baseline", default=BASELINE, help="a prompt file, or REF:path for git show")
    args = parser.parse_args(argv)
    key = None if args.dry_run else os.environ.get("OPENAI_API_KEY")
    if not args.dry_run and not key:
        print(
            "The humour bench needs OPENAI_API_KEY: it plays the shows on the live model and asks a judge "
            "model. `python -m bench.humour --dry-run` runs the same pipeline on the house comedian."
        )
        return None
    figures = asyncio.run(measure(max(1, min(args.shows, len(GRID))), baseline_template(args.baseline), key))
    table(
        "Each step, judged (1.00: the candidate won in both orders)", ["show", "step", "points"], figures.rows
    )
    report(figures, args.dry_run)
    return figures


if __name__ == "__main__":
    run(sys.argv[1:])
