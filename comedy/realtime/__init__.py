"""The Realtime wire: events built and read without I/O (`protocol`, `reading`, `endings`), the
models on offer (`models`), one redaction for pages and logs (`redaction`), and a thin async session
over `websockets` (`session`, with its `stall` deadline). It imports nothing else of the house."""

__all__ = [
    "endings",
    "models",
    "protocol",
    "reading",
    "redaction",
    "session",
]
