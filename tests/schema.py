"""Validation against the official `openai` package's generated Realtime types: the schema authority."""

from __future__ import annotations

from typing import Any

from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
from pydantic import BaseModel, TypeAdapter

_CLIENT = TypeAdapter(RealtimeClientEvent)
_SERVER = TypeAdapter(RealtimeServerEvent)


def _extras(model: Any, path: str = "") -> list[str]:
    """Every field anywhere in a parsed model that its type does not declare."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        for key in model.model_extra or {}:
            found.append(f"{path}.{key}")
        for name in type(model).model_fields:
            found += _extras(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, (list, tuple)):
        for i, value in enumerate(model):
            found += _extras(value, f"{path}[{i}]")
    elif isinstance(model, dict):
        for key, value in model.items():
            found += _extras(value, f"{path}.{key}")
    return found


def check_client_event(event: dict) -> BaseModel:
    """Parse a client event with the SDK's types; fail on any field they do not know."""
    parsed = _CLIENT.validate_python(event)
    assert parsed.type == event["type"]
    extras = _extras(parsed)
    assert not extras, f"{event['type']} has fields the SDK does not know: {extras}"
    return parsed


def check_server_event(event: dict) -> BaseModel:
    """Parse a server event with the SDK's types; fail on any field they do not know."""
    parsed = _SERVER.validate_python(event)
    assert parsed.type == event["type"], f"parsed as {parsed.type}, sent as {event['type']}"
    extras = _extras(parsed)
    assert not extras, f"{event['type']} has fields the SDK does not know: {extras}"
    return parsed
