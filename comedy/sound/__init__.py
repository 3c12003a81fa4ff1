"""The sound: a microphone chunk to 24 kHz PCM16 (`audio`), the echo canceller (`echo`, with
`double_talk` and `echo_delay`), the speech detector (`speech`), what a sound is (`room`), and the
set's ear on them (`ear`, `tape`, `transcripts`); `pacing` and `threads` keep it within bounds."""

__all__ = [
    "audio",
    "ear",
    "echo",
    "pacing",
    "room",
    "speech",
    "threads",
    "transcripts",
]
