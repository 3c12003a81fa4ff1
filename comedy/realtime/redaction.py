"""One redaction for everything that reaches a page or a log: known keys, and anything shaped like one.

The app tells it every key it holds (the owner's, each visitor's own) while it holds them; text
passes `redact` on its way out, and `guard_logs` makes every log record pass it too.
"""

from __future__ import annotations

import logging
import re
import threading

from pydantic import SecretStr

MASK = "[redacted]"
_SHAPES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{4,})|(Bearer\s+)\S+|((?:api[-_]?key|token)=)[^&\s\"']+", re.I)
_known: set[str] = set()
_lock = threading.Lock()


def _value(secret: SecretStr | str | None) -> str:
    return (secret.get_secret_value() if isinstance(secret, SecretStr) else secret or "").strip()


def remember(secret: SecretStr | str | None) -> None:
    """Mask this key in everything from now on (a key shorter than 8 characters is masked by shape only)."""
    value = _value(secret)
    if len(value) >= 8:
        with _lock:
            _known.add(value)


def forget(secret: SecretStr | str | None) -> None:
    """Stop tracking a key the app no longer holds."""
    with _lock:
        _known.discard(_value(secret))


def redact(text: str, *secrets: SecretStr | str | None) -> str:
    """`text` with every known key, every key given here, and anything shaped like a key masked."""
    text = str(text)
    with _lock:
        values = sorted(_known | {_value(s) for s in secrets if _value(s)}, key=len, reverse=True)
    for value in values:
        if value in text:
            text = text.replace(value, MASK)
    return _SHAPES.sub(lambda m: (m.group(2) or m.group(3) or "") + MASK, text)


_make_record = logging.getLogRecordFactory()


def _redacted_record(*args, **kwargs) -> logging.LogRecord:
    """Every log record, from any library, masked as it is made (its traceback's text too)."""
    record = _make_record(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is logging's to report, not ours
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def guard_logs() -> None:
    """Make every log record in this process pass `redact` (idempotent)."""
    if logging.getLogRecordFactory() is not _redacted_record:
        logging.setLogRecordFactory(_redacted_record)


guard_logs()  # importing the module is enough: no record is made before it is masked
