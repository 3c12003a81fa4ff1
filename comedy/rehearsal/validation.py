"""What the rehearsal server accepts in `session.update`, checked as the real API checks it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from comedy.realtime import models
from comedy.realtime.protocol import MAX_OUTPUT_TOKENS_LIMIT, SAMPLE_RATE, VOICES

SESSION_KEYS = {
    "type",
    "model",
    "output_modalities",
    "instructions",
    "prompt",
    "audio",
    "include",
    "max_output_tokens",
    "tools",
    "tool_choice",
    "tracing",
    "truncation",
    "reasoning",
    "parallel_tool_calls",
}
AUDIO_KEYS = {"input", "output"}
INPUT_KEYS = {"format", "transcription", "turn_detection", "noise_reduction"}
OUTPUT_KEYS = {"format", "voice", "speed"}
TRANSCRIPTION_KEYS = {"model", "language", "prompt", "keywords", "languages", "delay"}
# The SDK's AudioTranscription models, with the shutdown OpenAI announced for the old ones.
TRANSCRIPTION_MODELS: dict[str, dt.date | None] = {
    "gpt-transcribe": None,
    "gpt-live-transcribe": None,
    "gpt-realtime-whisper": None,
    "whisper-1": dt.date(2027, 2, 26),
    "gpt-4o-mini-transcribe": dt.date(2027, 2, 26),
    "gpt-4o-mini-transcribe-2025-12-15": dt.date(2027, 2, 26),
    "gpt-4o-transcribe": dt.date(2027, 2, 26),
    "gpt-4o-transcribe-diarize": dt.date(2027, 2, 26),
}
TURN_DETECTION_KEYS = {
    "server_vad": {
        "type",
        "threshold",
        "prefix_padding_ms",
        "silence_duration_ms",
        "create_response",
        "interrupt_response",
        "idle_timeout_ms",
    },
    "semantic_vad": {"type", "eagerness", "create_response", "interrupt_response"},
}

EAGERNESS = ("low", "medium", "high", "auto")  # the SDK's semantic_vad eagerness
NOISE_REDUCTIONS = ("near_field", "far_field")  # the SDK's NoiseReductionType

Problem = tuple[str, str, str]  # (code, message, param)


def _unknown(obj: dict, allowed: set[str], where: str) -> Problem | None:
    for key in obj:
        if key not in allowed:
            return ("unknown_parameter", f"Unknown parameter: '{where}.{key}'.", f"{where}.{key}")
    return None


def _invalid(value: Any, param: str, supported: tuple | None = None) -> Problem:
    listing = f" Supported values are: {', '.join(repr(s) for s in supported)}." if supported else ""
    return ("invalid_value", f"Invalid value: {value!r}.{listing}", param)


def _check_format(fmt: Any, where: str) -> Problem | None:
    if not isinstance(fmt, dict):
        return ("invalid_type", f"Invalid type for '{where}': expected an object.", where)
    if problem := _unknown(fmt, {"type", "rate"}, where):
        return problem
    kind = fmt.get("type", "audio/pcm")
    if kind not in ("audio/pcm", "audio/pcmu", "audio/pcma"):
        return _invalid(kind, f"{where}.type", ("audio/pcm", "audio/pcmu", "audio/pcma"))
    if kind != "audio/pcm":
        return ("unsupported_value", f"Rehearsal mode speaks only audio/pcm, not {kind}.", f"{where}.type")
    if "rate" in fmt and fmt["rate"] != SAMPLE_RATE:
        return _invalid(fmt["rate"], f"{where}.rate", (SAMPLE_RATE,))
    return None


def _check_turn_detection(td: Any, where: str) -> Problem | None:
    if td is None:
        return None
    if not isinstance(td, dict) or td.get("type") not in TURN_DETECTION_KEYS:
        return _invalid(
            td.get("type") if isinstance(td, dict) else td, f"{where}.type", tuple(TURN_DETECTION_KEYS)
        )
    if problem := _unknown(td, TURN_DETECTION_KEYS[td["type"]], where):
        return problem
    for flag in ("create_response", "interrupt_response"):
        if flag in td and not isinstance(td[flag], bool):
            param = f"{where}.{flag}"
            return ("invalid_type", f"Invalid type for '{param}': expected a boolean.", param)
    if td["type"] == "semantic_vad":
        eagerness = td.get("eagerness", "auto")
        return None if eagerness in EAGERNESS else _invalid(eagerness, f"{where}.eagerness", EAGERNESS)
    threshold = td.get("threshold", 0.5)
    if not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        return (
            "decimal_above_max_value" if isinstance(threshold, (int, float)) else "invalid_type",
            f"Invalid '{where}.threshold': expected a number from 0 to 1.",
            f"{where}.threshold",
        )
    for key in ("prefix_padding_ms", "silence_duration_ms"):
        value = td.get(key, 0)
        if not isinstance(value, int) or value < 0:
            return (
                "invalid_type",
                f"Invalid '{where}.{key}': expected a whole number >= 0.",
                f"{where}.{key}",
            )
    return None


def _check_noise_reduction(reduction: Any) -> Problem | None:
    where = "session.audio.input.noise_reduction"
    if reduction is None:
        return None
    if not isinstance(reduction, dict):
        return ("invalid_type", f"Invalid type for '{where}': expected an object.", where)
    if problem := _unknown(reduction, {"type", "strength"}, where):
        return problem
    if reduction.get("type", "near_field") not in NOISE_REDUCTIONS:
        return _invalid(reduction.get("type"), f"{where}.type", NOISE_REDUCTIONS)
    strength = reduction.get("strength", 1.0)
    param = f"{where}.strength"
    if isinstance(strength, bool) or not isinstance(strength, (int, float)):
        return ("invalid_type", f"Invalid type for '{param}': expected a number.", param)
    if strength < 0:
        return ("decimal_below_min_value", f"Invalid '{param}': expected a number >= 0.", param)
    return None


def _check_transcription(transcription: Any, today: dt.date) -> Problem | None:
    where = "session.audio.input.transcription"
    if transcription is None:
        return None
    if not isinstance(transcription, dict):
        return ("invalid_type", f"Invalid type for '{where}': expected an object.", where)
    if problem := _unknown(transcription, TRANSCRIPTION_KEYS, where):
        return problem
    model = transcription.get("model")
    if model is not None and model not in TRANSCRIPTION_MODELS:
        return _invalid(model, f"{where}.model", tuple(TRANSCRIPTION_MODELS))
    return _check_transcription_model(transcription, model, today, where)


def _check_transcription_model(transcription: dict, model: Any, today: dt.date, where: str) -> Problem | None:
    shutdown = TRANSCRIPTION_MODELS.get(model)
    if shutdown is not None and today >= shutdown:
        return (
            "model_not_found",
            f"The model '{model}' was shut down on {shutdown.isoformat()}.",
            f"{where}.model",
        )
    for key in ("keywords", "languages"):
        if key in transcription and model not in ("gpt-transcribe", "gpt-live-transcribe"):
            return (
                "unsupported_parameter",
                f"'{key}' is supported by gpt-transcribe only.",
                f"{where}.{key}",
            )
    return None


def _check_reasoning(session: dict, model: str) -> Problem | None:
    if "reasoning" not in session:
        return None
    reasoning = session["reasoning"]
    if not models.reasons(model):
        return (
            "unsupported_parameter",
            f"'reasoning' is only supported by reasoning Realtime models, not '{model}'.",
            "session.reasoning",
        )
    if not isinstance(reasoning, dict):
        return (
            "invalid_type",
            "Invalid type for 'session.reasoning': expected an object.",
            "session.reasoning",
        )
    if problem := _unknown(reasoning, {"effort"}, "session.reasoning"):
        return problem
    if "effort" in reasoning and reasoning["effort"] not in models.REASONING_EFFORTS:
        return _invalid(reasoning["effort"], "session.reasoning.effort", models.REASONING_EFFORTS)
    return None


def check_max_output_tokens(value: Any, where: str) -> Problem | None:
    """An integer from 1 to 4096, or "inf", as the SDK documents it."""
    if value == "inf" or (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_OUTPUT_TOKENS_LIMIT
    ):
        return None
    return (
        "invalid_value",
        f"Invalid '{where}': expected an integer from 1 to {MAX_OUTPUT_TOKENS_LIMIT}, or 'inf'.",
        where,
    )


def check_session(
    session: Any, model: str = models.DEFAULT_MODEL, today: dt.date | None = None
) -> Problem | None:
    """The first problem with a `session.update`'s `session` on a connection to `model`, or None."""
    if not isinstance(session, dict):
        return ("invalid_type", "Invalid type for 'session': expected an object.", "session")
    checks = (
        lambda: _unknown(session, SESSION_KEYS, "session"),
        lambda: _check_type_and_text(session),
        lambda: _check_reasoning(session, model),
        lambda: _check_audio(session.get("audio") or {}, today or models.today()),
    )
    return next((problem for check in checks if (problem := check())), None)


def _check_type_and_text(session: dict) -> Problem | None:
    if session.get("type") != "realtime":
        if "type" not in session:
            return (
                "missing_required_parameter",
                "Missing required parameter: 'session.type'.",
                "session.type",
            )
        return _invalid(session["type"], "session.type", ("realtime",))
    modalities = session.get("output_modalities", ["audio"])
    if not isinstance(modalities, list) or len(modalities) != 1 or modalities[0] not in ("audio", "text"):
        return _invalid(modalities, "session.output_modalities", (["audio"], ["text"]))
    if "instructions" in session and not isinstance(session["instructions"], str):
        return (
            "invalid_type",
            "Invalid type for 'session.instructions': expected a string.",
            "session.instructions",
        )
    prompt = session.get("prompt")
    if prompt is not None and (not isinstance(prompt, dict) or not isinstance(prompt.get("id"), str)):
        return (
            "missing_required_parameter",
            "Missing required parameter: 'session.prompt.id'.",
            "session.prompt.id",
        )
    if "max_output_tokens" in session:
        return check_max_output_tokens(session["max_output_tokens"], "session.max_output_tokens")
    return None


def _check_audio(audio: Any, today: dt.date) -> Problem | None:
    if not isinstance(audio, dict):
        return ("invalid_type", "Invalid type for 'session.audio': expected an object.", "session.audio")
    audio_in = audio.get("input") or {}
    audio_out = audio.get("output") or {}
    if problem := (
        _unknown(audio, AUDIO_KEYS, "session.audio")
        or _unknown(audio_in, INPUT_KEYS, "session.audio.input")
        or _unknown(audio_out, OUTPUT_KEYS, "session.audio.output")
    ):
        return problem
    for where, part in (("session.audio.input.format", audio_in), ("session.audio.output.format", audio_out)):
        if "format" in part and (problem := _check_format(part["format"], where)):
            return problem
    if "turn_detection" in audio_in and (
        problem := _check_turn_detection(audio_in["turn_detection"], "session.audio.input.turn_detection")
    ):
        return problem
    return (
        _check_noise_reduction(audio_in.get("noise_reduction"))
        or _check_transcription(audio_in.get("transcription"), today)
        or _check_voice(audio_out)
    )


def _check_voice(audio_out: dict) -> Problem | None:
    if "voice" in audio_out and audio_out["voice"] not in VOICES:
        return _invalid(audio_out["voice"], "session.audio.output.voice", VOICES)
    speed = audio_out.get("speed", 1.0)
    if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 1.5:
        return _invalid(speed, "session.audio.output.speed")
    return None
