"""Cautions the checklist's own items raise: an answer among an item's caution codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ...conditions import effective_answers
from ..flags import Flag, sort_flags


def statement_for(prompt: str) -> str:
    """A caution with no title of its own (content from before issue 16) still gets a
    statement, never the question itself."""
    return f"Answer needs attention: {prompt.rstrip(' ?')}"


def item_caution_flags(
    items: Iterable, answers: Mapping[str, Any], source_titles: Mapping[int, list[str]]
) -> list[Flag]:
    """Flags raised by the checklist's own items: an answer among an item's caution codes.

    `source_titles` maps item id to the titles of the sources it cites. Answers to hidden
    items are ignored.
    """
    items = list(items)
    answers = effective_answers(items, answers)
    flags = []
    for item in items:
        caution = item.caution
        if not caution or item.key not in answers:
            continue
        value = answers[item.key]
        chosen = set(value) if isinstance(value, list) else {value}
        if chosen & set(caution.get("when", [])):
            flags.append(
                Flag(
                    code=f"item:{item.key}",
                    category=caution.get("category", "checklist"),
                    severity=caution["severity"],
                    title=caution.get("title") or statement_for(item.prompt),
                    advice=caution["advice"],
                    sources=tuple(source_titles.get(item.id, ())),
                    problem=caution.get("problem", ""),
                    kind="answer",
                )
            )
    return sort_flags(flags)
