"""The voice audition: each Realtime voice says the same line in the chosen style, cached on disk.

A repeat of the same (where, model, voice, style, line) plays from the cache at once and costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from comedy import audio, models, prompts, protocol
from comedy.answer import ask
from comedy.realtime import RealtimeSession

DEFAULT_LINE = "I told my cat a joke about the microphone. It knocked it off the stage."
GAP_SECONDS = 0.6


def default_cache_dir() -> Path:
    """`COMEDY_CACHE_DIR`, else the user's cache folder."""
    root = os.environ.get("COMEDY_CACHE_DIR") or Path.home() / ".cache" / "ai-standup-comedian"
    return Path(root) / "auditions"


class Audition:
    """Auditions voices through a Realtime endpoint, keeping every take on disk."""

    def __init__(self, url: str, key: str, model: str, where: str, cache_dir: Path | None = None) -> None:
        self.url, self._key, self.model, self.where = url, key, model, where
        self.cache_dir = cache_dir or default_cache_dir()
        self.hits = 0
        self.misses = 0

    def path_for(self, voice: str, style: str, line: str) -> Path:
        """Where the take for these choices lives (or will)."""
        key = json.dumps([self.where, self.model, voice, style, line.strip()], ensure_ascii=False)
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]
        return self.cache_dir / f"{voice}-{digest}.wav"

    async def take(self, voice: str, style: str, line: str) -> Path:
        """The voice saying the line: from the cache, else performed now and cached."""
        path = self.path_for(voice, style, line)
        if path.exists():
            self.hits += 1
            return path
        self.misses += 1
        update = protocol.session_update(
            voice=voice,
            instructions="You are a stand-up comedian trying out your voice.",
            transcription_model=None,
            reasoning_effort="minimal" if models.reasons(self.model) else None,  # a given line: no thinking
        )
        trigger = [protocol.response_create(prompts.audition_instructions(line.strip(), style))]
        async with RealtimeSession(self.url, self._key, self.model) as session:
            await session.send(update)
            answer = await ask(session, [], trigger, on_text=lambda *_, **__: None)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.wav")
        audio.write_wav(str(partial), audio.pcm16_array(bytes(answer.audio)))
        partial.replace(path)  # atomic: a half-written take is never served
        return path


def one_after_another(takes: list[Path]) -> np.ndarray:
    """All takes in order with a short gap between them, as int16 at 24 kHz."""
    gap = np.zeros(int(protocol.SAMPLE_RATE * GAP_SECONDS), np.int16)
    parts = []
    for take in takes:
        _, samples = audio.read_audio_file(str(take))
        parts += [audio.float_to_pcm16(samples), gap]
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)
