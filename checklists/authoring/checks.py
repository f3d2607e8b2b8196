"""The small refusals every content reader shares: a malformed value is a ContentError whose
message names the key at fault."""

from __future__ import annotations

from typing import Any


class ContentError(ValueError):
    """A content file is malformed; the message names the key at fault."""


def check_type(value: Any, types: type | tuple, where: str, what: str) -> None:
    """Refuse `value` unless it is of `types` (a bool is not a whole number here)."""
    if not isinstance(value, types) or (types is int and isinstance(value, bool)):
        names = " or ".join(
            {
                dict: "an object",
                list: "a list",
                str: "text",
                bool: "true or false",
                int: "a whole number",
            }.get(t, t.__name__)
            for t in (types if isinstance(types, tuple) else (types,))
        )
        raise ContentError(f"{where}: {what} must be {names}")


def check_text(
    mapping: dict, key: str, where: str, *, max_length: int = 0, required: bool = True
) -> None:
    """Refuse `mapping[key]` unless it is text (not blank when required), short enough."""
    if key not in mapping:
        if required:
            raise ContentError(f"{where}: missing {key!r}")
        return
    check_type(mapping[key], str, where, repr(key))
    if required and not mapping[key].strip():
        raise ContentError(f"{where}: {key!r} is empty")
    if max_length and len(mapping[key]) > max_length:
        raise ContentError(f"{where}: {key!r} is longer than {max_length} characters")
