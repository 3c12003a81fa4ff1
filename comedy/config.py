"""Settings from the environment and `.env`, with the API key kept secret."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values
from pydantic import SecretStr

from comedy.prompts import DEFAULT_MAX_OUTPUT_TOKENS, DETECTIONS, EAGERNESS, Listening
from comedy.realtime import models
from comedy.realtime.protocol import MAX_OUTPUT_TOKENS_LIMIT

DEFAULT_REALTIME_URL = "wss://api.openai.com/v1/realtime"
# A public deployment (a Hugging Face Space, where `SPACE_ID` is set) spends the owner's key for
# strangers: unless the owner says otherwise, a visitor gets $0.50 a day (about three minutes of
# set on gpt-realtime-2.1) and the club $5.00 a day.
PUBLIC_SET_USD = 0.50
PUBLIC_DAY_USD = 5.00


def cache_dir() -> Path:
    """Where the club keeps what outlives a restart (audition takes, openers, votes):
    `COMEDY_CACHE_DIR`, else the user's cache folder."""
    return Path(os.environ.get("COMEDY_CACHE_DIR") or Path.home() / ".cache" / "ai-standup-comedian")


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = env.get(name, "").strip().lower()
    if raw and raw not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
    return raw or default


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    value = _number(env, name, default)
    if value != int(value) or not 1 <= value <= MAX_OUTPUT_TOKENS_LIMIT:
        raise ValueError(f"{name} must be a whole number from 1 to {MAX_OUTPUT_TOKENS_LIMIT}, not {value:g}")
    return int(value)


def _between(env: Mapping[str, str], name: str, low: float, high: float, default: float) -> float:
    value = _number(env, name, default)
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low:g} to {high:g}, not {value:g}")
    return value


def _listening(env: Mapping[str, str]) -> Listening:
    strength = env.get("COMEDY_NOISE_STRENGTH", "").strip()
    return Listening(
        detection=_choice(env, "COMEDY_TURN_DETECTION", DETECTIONS, "server_vad"),
        threshold=_between(env, "COMEDY_VAD_THRESHOLD", 0.0, 1.0, 0.5),
        silence_ms=int(_between(env, "COMEDY_VAD_SILENCE_MS", 0, 10_000, 500)),
        eagerness=_choice(env, "COMEDY_VAD_EAGERNESS", EAGERNESS, "auto"),
        noise_strength=_between(env, "COMEDY_NOISE_STRENGTH", 0.0, 1.0, 1.0) if strength else None,
    )


def _model(env: Mapping[str, str], today: dt.date | None) -> str:
    """`OPENAI_REALTIME_MODEL`, unless OpenAI has shut that model down: then the default, said in the log."""
    wanted = env.get("OPENAI_REALTIME_MODEL", "").strip() or models.DEFAULT_MODEL
    usable = models.usable(wanted, today)
    if usable != wanted:
        logging.getLogger(__name__).warning(
            "OPENAI_REALTIME_MODEL=%s is shut down; using %s instead.", wanted, usable
        )
    return usable


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment. `repr` never shows the key."""

    api_key: SecretStr | None = None
    realtime_url: str = DEFAULT_REALTIME_URL
    model: str = models.DEFAULT_MODEL
    reasoning_effort: str = models.DEFAULT_REASONING_EFFORT  # for reasoning models only
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    prompt_id: str | None = None  # opt-in stored prompt; OpenAI ends them on 2026-11-30
    prompt_version: str | None = None
    max_sets: int = 20
    max_set_seconds: float = 900.0
    idle_seconds: float = 300.0
    max_set_usd: float = 0.0  # what one visitor may spend of the owner's key in a day; 0: no limit
    max_day_usd: float = 0.0  # what the club may spend of the owner's key in a day; 0: no limit
    keep_files_seconds: float = 600.0  # microphone uploads and served files older than this go
    forget_seconds: float = 900.0  # what a visitor left behind with no page open goes after this
    max_upload_mb: float = 10.0  # the largest file Gradio takes
    audition_cache_mb: float = 200.0  # the voice audition's cache on disk, at most
    saves_at_once: int = 2  # set recordings rendered at once (each holds the whole set in memory)
    listening: Listening = field(default_factory=Listening)  # turn detection and noise reduction
    openers: bool = True  # a cached opener per voice and style plays the moment Start is pressed
    hold_first: bool = True  # a sound over the comedian holds it, then the set decides (0: cut first)

    @property
    def rehearsal(self) -> bool:
        """True when no key is set: the app then talks to its own rehearsal server."""
        return self.api_key is None

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        dotenv_path: str | None = ".env",
        today: dt.date | None = None,
    ) -> Settings:
        """Read settings; real environment variables win over the `.env` file. `today` dates the
        model shutdowns (default: today)."""
        env: dict[str, str] = {}
        if dotenv_path and os.path.exists(dotenv_path):
            env.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        env.update(os.environ if environ is None else environ)
        key = env.get("OPENAI_API_KEY", "").strip()
        public = bool(env.get("SPACE_ID", "").strip())  # a Hugging Face Space: anyone can reach it
        return cls(
            api_key=SecretStr(key) if key else None,
            realtime_url=env.get("OPENAI_REALTIME_URL", "").strip() or DEFAULT_REALTIME_URL,
            model=_model(env, today),
            reasoning_effort=_choice(
                env, "COMEDY_REASONING_EFFORT", models.REASONING_EFFORTS, models.DEFAULT_REASONING_EFFORT
            ),
            max_output_tokens=_whole(env, "COMEDY_MAX_OUTPUT_TOKENS", DEFAULT_MAX_OUTPUT_TOKENS),
            prompt_id=env.get("COMEDY_PROMPT_ID", "").strip() or None,
            prompt_version=env.get("COMEDY_PROMPT_VERSION", "").strip() or None,
            max_sets=int(_number(env, "COMEDY_MAX_SETS", 20)),
            max_set_seconds=_number(env, "COMEDY_MAX_SET_SECONDS", 900.0),
            idle_seconds=_number(env, "COMEDY_IDLE_SECONDS", 300.0),
            max_set_usd=_number(env, "COMEDY_MAX_SET_USD", PUBLIC_SET_USD if public else 0.0),
            max_day_usd=_number(env, "COMEDY_MAX_DAY_USD", PUBLIC_DAY_USD if public else 0.0),
            keep_files_seconds=_number(env, "COMEDY_KEEP_FILES_SECONDS", 600.0),
            forget_seconds=_number(env, "COMEDY_FORGET_SECONDS", 900.0),
            max_upload_mb=_number(env, "COMEDY_MAX_UPLOAD_MB", 10.0),
            audition_cache_mb=_number(env, "COMEDY_AUDITION_CACHE_MB", 200.0),
            listening=_listening(env),
            openers=_number(env, "COMEDY_OPENERS", 1.0) != 0,
            hold_first=_number(env, "COMEDY_HOLD", 1.0) != 0,
            saves_at_once=max(1, int(_number(env, "COMEDY_SAVES_AT_ONCE", 2))),
        )
