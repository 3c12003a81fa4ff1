"""`python -m comedy`: one joke from the command line, as a WAV file and a printed transcript.

    python -m comedy "airports" --voice cedar --style witty --reaction laughing --out joke.wav
    python -m comedy --listen question.wav --out answer.wav

With no OPENAI_API_KEY it starts the rehearsal server itself on a free loopback port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
from collections.abc import AsyncIterator

import numpy as np

from comedy import prompts
from comedy.config import Settings
from comedy.money import pricing
from comedy.money.meters import Meters
from comedy.money.spend import Spend
from comedy.prompts.stored import StoredPrompt, configured
from comedy.realtime import models, protocol
from comedy.realtime.protocol import Event
from comedy.realtime.redaction import redact
from comedy.realtime.session import RealtimeSession
from comedy.rehearsal import RehearsalServer
from comedy.show import endpoint
from comedy.show.answer import Answer, ask
from comedy.show.endpoint import Endpoint
from comedy.show.session_link import apply_settings
from comedy.sound import audio
from comedy.stage.session_settings import SessionSettings

TRAILING_SILENCE_S = 1.0  # lets server VAD hear the end of a recording


@contextlib.asynccontextmanager
async def realtime_endpoint(
    settings: Settings, model: str, stored: StoredPrompt | None = None, pace: float = 0.0
) -> AsyncIterator[Endpoint]:
    """OpenAI when a key is set, else a rehearsal server started for the call."""
    if not settings.rehearsal:
        yield endpoint.choose(settings, model, None, stored_prompt=stored)
        return
    async with RehearsalServer(pace=pace) as server:
        yield endpoint.choose(settings, model, server.url, stored_prompt=stored)


def microphone_appends(path: str) -> list[Event]:
    """A recording of any rate and channel count as 100 ms `input_audio_buffer.append` events."""
    rate, samples = audio.read_audio_file(path)
    mic = audio.MicrophonePath()
    step = max(1, rate // 10)
    chunks: list[np.ndarray] = []
    for start in range(0, len(samples), step):
        chunks += mic.feed(rate, samples[start : start + step])
    chunks += mic.flush()
    return [protocol.audio_append(audio.pcm16_bytes(chunk)) for chunk in chunks]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m comedy", description="Ask the AI stand-up comedian for a joke."
    )
    parser.add_argument("topic", nargs="?", default="", help="what the joke should be about")
    parser.add_argument("--listen", metavar="WAV", help="send this recording as microphone audio")
    parser.add_argument(
        "--commit", action="store_true", help="with --listen: commit the audio yourself instead of server VAD"
    )
    parser.add_argument("--voice", default=protocol.DEFAULT_VOICE, choices=protocol.VOICES)
    parser.add_argument("--style", default="witty", help=f"e.g. {', '.join(prompts.STYLES)}")
    parser.add_argument("--reaction", default="laughing", help=f"e.g. {', '.join(prompts.REACTIONS)}")
    parser.add_argument(
        "--model", help=f"Realtime model (default: OPENAI_REALTIME_MODEL or {models.DEFAULT_MODEL})"
    )
    parser.add_argument("--out", default="joke.wav", help="where to write the answer (24 kHz WAV)")
    return parser


async def run(args: argparse.Namespace, settings: Settings) -> Answer:
    """Tell one joke as the arguments ask."""
    set_up = prompts.SetUp(voice=args.voice, style=args.style, reaction=args.reaction, topic=args.topic)
    hands_free = bool(args.listen) and not args.commit
    model = args.model or settings.model
    stored = configured(settings.prompt_id, settings.prompt_version, dt.datetime.now(dt.UTC).date())

    if args.listen:
        content = microphone_appends(args.listen)
        if hands_free:  # server VAD answers once it hears the silence after the speech
            silence = np.zeros(int(protocol.SAMPLE_RATE * TRAILING_SILENCE_S), np.int16)
            content.append(protocol.audio_append(audio.pcm16_bytes(silence)))
            trigger = []
        else:
            trigger = [protocol.audio_commit(), protocol.response_create()]
    else:
        content = [protocol.user_text(prompts.joke_request(args.topic))]
        trigger = [protocol.response_create()]
    async with realtime_endpoint(settings, model, stored) as where:
        meters = Meters(pricing.prices_for(model))
        update = SessionSettings(set_up, where.tuning, meters, Spend(), hands_free, stored).session_update
        async with RealtimeSession(where.url, where.key, model) as session:
            if note := await apply_settings(session, update, stored):
                print(f"[{note}]", file=sys.stderr)
            return await ask(session, content, trigger)


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints the transcript, writes the WAV, returns an exit status."""
    args = _parser().parse_args(argv)
    settings = None
    try:
        settings = Settings.from_env()
        mode = "rehearsal mode (no OPENAI_API_KEY)" if settings.rehearsal else settings.realtime_url
        print(f"Comedian on {mode}", file=sys.stderr)
        answer = asyncio.run(run(args, settings))
        if answer.heard:
            print(f"[heard: {answer.heard}]", file=sys.stderr)
        if not answer.ending.completed:
            print(f"[{answer.ending.words}]", file=sys.stderr)
        if answer.skipped:
            reasons = "; ".join(dict.fromkeys(answer.skipped))
            print(f"[skipped {len(answer.skipped)} frames it could not read: {reasons}]", file=sys.stderr)
        audio.write_wav(args.out, audio.pcm16_array(bytes(answer.audio)))
        seconds = len(answer.audio) / 2 / protocol.SAMPLE_RATE
        print(f"Wrote {seconds:.1f} s of speech to {args.out}", file=sys.stderr)
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the CLI's last word: a message, never a traceback or a key
        key = settings.api_key if settings else None
        print(redact(f"error: {exc}", key), file=sys.stderr)
        return 1
