"""The pump: one visitor's set (`comedy_set.ComedySet`), carrying out its stage's actions (`hands`)
over a Realtime session (`session_link`), its microphone in (`microphone_in`) and speech out
(`speech_port`); `answer` asks for one whole answer; `endpoint` says where a set talks to."""

__all__ = [
    "answer",
    "comedy_set",
    "endpoint",
    "hands",
    "microphone_in",
    "recording",
    "session_link",
    "speech_port",
]
