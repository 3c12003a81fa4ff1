"""Prompt templates kept in the repo, rendered with named variables: pure functions, no I/O but the read.

OpenAI's migration away from stored prompts: the prompt lives in the application's code, its
variables become function arguments, and its versions live in git.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMEDIAN = HERE / "comedian.md"
TOPIC_LIMIT = 120  # characters of a visitor's topic that reach the comedian
LINE_LIMIT = 200  # characters of an audition line (about 15 s of speech)
VALUE_LIMIT = 60  # characters of any other variable (they come from fixed lists)
NO_TOPIC = "(none given: anything the audience brings up)"
NO_TONIGHT = "(nothing yet: the show has just begun)"

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)


class TemplateError(ValueError):
    """A template and its variables do not fit together."""


def load(path: Path | None = None) -> str:
    """A template file's text (the comedian's, unless `path`), its `<!-- -->` notes removed."""
    return _load(path or COMEDIAN)


@cache
def _load(path: Path) -> str:
    return _COMMENT.sub("", path.read_text(encoding="utf-8")).strip() + "\n"


def placeholders(template: str) -> set[str]:
    """The variable names a template asks for."""
    return set(_PLACEHOLDER.findall(template))


def render(template: str, variables: Mapping[str, str]) -> str:
    """The template with every `{{name}}` filled in one pass (a value is never expanded again).

    Raises TemplateError when a variable is missing or unused, or the template holds braces that
    are not a placeholder: nothing is ever left unrendered.
    """
    wanted = placeholders(template)
    if missing := wanted - variables.keys():
        raise TemplateError(f"no value for {sorted(missing)}")
    if unused := variables.keys() - wanted:
        raise TemplateError(f"the template has no place for {sorted(unused)}")
    stray = _PLACEHOLDER.sub("", template)
    if "{{" in stray or "}}" in stray:
        raise TemplateError("the template has braces that are not a {{variable}}")
    return _PLACEHOLDER.sub(lambda m: variables[m.group(1)], template)


def clean(text: str, limit: int) -> str:
    """One line of plain text: control and format characters and newlines become spaces, runs of
    space fold, and it is cut at `limit` characters (on a word where one is near, marked "…")."""
    text = text[: limit * 8]  # a megabyte of topic costs no more than a line of it
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    kept = " ".join(kept.split())
    if len(kept) <= limit:
        return kept
    cut = kept[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 2 // 3 else cut).rstrip() + "…"


def quoted_topic(topic: str) -> str:
    """A visitor's topic as data: cleaned, bounded and in double quotes (quotes inside escaped)."""
    cleaned = clean(topic, TOPIC_LIMIT)
    return json.dumps(cleaned, ensure_ascii=False) if cleaned else NO_TOPIC
