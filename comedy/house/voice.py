"""The house comedian's voice: offline speech from the eSpeak NG library that a wheel ships.

`espeakng-loader` carries libespeak-ng and its data; this module drives it with ctypes, so nothing
is downloaded and no system package is needed. Each Realtime voice name maps to its own variant.
"""

from __future__ import annotations

import ctypes
import threading
from functools import lru_cache
from typing import NamedTuple

import espeakng_loader
import numpy as np
import soxr

from comedy.realtime.protocol import SAMPLE_RATE, VOICES


class VoiceStyle(NamedTuple):
    """How one Realtime voice name sounds in rehearsal."""

    espeak_voice: str
    words_per_minute: int
    pitch: int  # 0-100
    pitch_range: int  # 0-100


VOICE_STYLES: dict[str, VoiceStyle] = {
    "alloy": VoiceStyle("en-us+m3", 170, 50, 50),
    "ash": VoiceStyle("en-us+m1", 160, 35, 40),
    "ballad": VoiceStyle("en+f2", 150, 60, 80),
    "coral": VoiceStyle("en-us+f3", 175, 65, 60),
    "echo": VoiceStyle("en-us+m7", 165, 45, 30),
    "sage": VoiceStyle("en+m2", 150, 40, 55),
    "shimmer": VoiceStyle("en-us+f4", 180, 75, 70),
    "verse": VoiceStyle("en+m4", 170, 55, 90),
    "marin": VoiceStyle("en-us+f1", 170, 60, 60),
    "cedar": VoiceStyle("en-us+m2", 155, 30, 45),
}
assert set(VOICE_STYLES) == set(VOICES)

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_ESPEAK_CHARS_UTF8 = 1
_ESPEAK_ENDPAUSE = 0x1000
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_BREATH_SEED = 1
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


class _Engine:
    """One eSpeak NG instance; the library is global state, so every call holds the lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        data_path = espeakng_loader.get_data_path().encode()
        self.rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path, 0)
        if self.rate <= 0:
            raise RuntimeError("eSpeak NG failed to start")
        self._libc = ctypes.CDLL(None)  # the process's C library, whose rand() eSpeak draws on too
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # kept referenced: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _collect(self, wav, count, _events) -> int:
        if count > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, style: VoiceStyle) -> np.ndarray:
        with self.lock:
            self._chunks = []
            self.lib.espeak_SetVoiceByName(style.espeak_voice.encode())
            self.lib.espeak_SetParameter(_RATE, style.words_per_minute, 0)
            self.lib.espeak_SetParameter(_PITCH, style.pitch, 0)
            self.lib.espeak_SetParameter(_RANGE, style.pitch_range, 0)
            self.lib.espeak_SetParameter(_VOLUME, 100, 0)
            data = text.encode("utf-8") + b"\0"
            flags = _ESPEAK_CHARS_UTF8 | _ESPEAK_ENDPAUSE
            # Its voices draw their breath and jitter from two random sequences, eSpeak's own (seeded
            # from the clock) and the C library's: seeded here, the same lines in the same order
            # sound the same in every process (a benchmark or a test hears the same comedian each
            # run; what a line sounds like still depends a little on what eSpeak said before it).
            self.lib.espeak_ng_SetRandSeed(_BREATH_SEED)
            self._libc.srand(_BREATH_SEED)
            self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, flags, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


def warm_up() -> None:
    """Load the library and its voice data now rather than on the first joke."""
    speak("Ready.", "marin")


@lru_cache(maxsize=64)  # a few jokes per voice: bounded at a few tens of MB
def _speak_cached(text: str, voice: str) -> bytes:
    engine = _engine()
    raw = engine.speak(text, VOICE_STYLES[voice])
    audio = soxr.resample(raw.astype(np.float32) / 32768.0, engine.rate, SAMPLE_RATE, quality="HQ")
    return np.round(np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


def speak(text: str, voice: str) -> np.ndarray:
    """`text` spoken in the variant for `voice`, as int16 mono at 24 kHz (cached, read-only)."""
    if voice not in VOICE_STYLES:
        raise ValueError(f"unknown voice {voice!r}")
    return np.frombuffer(_speak_cached(text.strip() or "...", voice), dtype="<i2")
