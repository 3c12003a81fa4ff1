"""The voice audition: each Realtime voice says the same line in the chosen style, cached on disk.

A repeat of the same (where, model, voice, style, line) plays from the cache at once and costs
nothing. The cache keeps the takes used last, up to a size (`COMEDY_AUDITION_CACHE_MB`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from comedy import prompts
from comedy.config import cache_dir
from comedy.realtime import models, protocol
from comedy.realtime.session import RealtimeSession
from comedy.show.answer import ask
from comedy.sound import audio

DEFAULT_LINE = "I told my cat a joke about the microphone. It knocked it off the stage."
GAP_SECONDS = 0.6
TAKE_TOKENS = 600  # a take's most output: 30 s of speech at a token per 50 ms
DEFAULT_CACHE_MB = 200.0


def default_cache_dir() -> Path:
    """The auditions folder in the club's cache folder."""
    return cache_dir() / "auditions"


def trim_cache(folder: Path, max_bytes: float, keep: Path | None = None) -> int:
    """Delete the takes used longest ago until the folder holds at most `max_bytes` (never `keep`,
    the take about to be played); how many went."""
    takes = []
    for path in folder.glob("*.wav"):
        with contextlib.suppress(FileNotFoundError):
            stat = path.stat()
            takes.append((stat.st_mtime, stat.st_size, path))
    total, deleted = sum(size for _, size, _ in takes), 0
    for _, size, path in sorted(takes):
        if total <= max_bytes:
            break
        if path == keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            deleted += 1
        total -= size
    return deleted


class Audition:
    """Auditions voices through a Realtime endpoint, keeping takes on disk."""

    def __init__(
        self,
        url: str,
        key: str,
        model: str,
        where: str,
        cache_dir: Path | None = None,
        cache_mb: float = DEFAULT_CACHE_MB,
    ) -> None:
        self.url, self._key, self.model, self.where = url, key, model, where
        self.cache_dir = cache_dir or default_cache_dir()
        self.cache_bytes = cache_mb * 1024 * 1024
        self.hits = 0
        self.misses = 0
        self.usages: list[dict] = []  # what each new take used, for the meters and the budget
        self.took: Path | None = None  # the last take handed out

    def path_for(self, voice: str, style: str, line: str) -> Path:
        """Where the take for these choices lives (or will)."""
        key = json.dumps([self.where, self.model, voice, style, line.strip()], ensure_ascii=False)
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.cache_dir / f"{voice}-{digest}.wav"

    def cached(self, voice: str, style: str, line: str) -> Path | None:
        """The take from the cache, if it is there (marked as used now)."""
        path = self.path_for(voice, style, line)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        self.hits += 1
        self.took = path
        return path

    async def take(self, voice: str, style: str, line: str) -> Path:
        """The voice saying the line: from the cache, else performed now (at most 30 s) and cached."""
        if (path := self.cached(voice, style, line)) is not None:
            return path
        path = self.path_for(voice, style, line)
        self.misses += 1
        update = protocol.session_update(
            voice=voice,
            instructions="You are a stand-up comedian trying out your voice.",
            transcription_model=None,
            reasoning_effort="minimal" if models.reasons(self.model) else None,  # a given line: no thinking
            max_output_tokens=TAKE_TOKENS,
        )
        trigger = [protocol.response_create(prompts.audition_instructions(line.strip(), style))]
        async with RealtimeSession(self.url, self._key, self.model) as session:
            await session.send(update)
            answer = await ask(session, [], trigger, on_text=lambda *_, **__: None)
        if answer.usage:
            self.usages.append(answer.usage)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.wav")
        audio.write_wav(str(partial), audio.pcm16_array(bytes(answer.audio)))
        partial.replace(path)  # atomic: a half-written take is never served
        trim_cache(self.cache_dir, self.cache_bytes, keep=path)
        self.took = path
        return path


def one_after_another(takes: list[Path]) -> np.ndarray:
    """All takes in order with a short gap between them, as int16 at 24 kHz."""
    gap = np.zeros(int(protocol.SAMPLE_RATE * GAP_SECONDS), np.int16)
    parts = []
    for take in takes:
        _, samples = audio.read_audio_file(str(take))
        parts += [audio.float_to_pcm16(samples), gap]
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)
