"""Show-when conditions and completeness: which items apply, and which are missing.

Pure functions over items and a {item_key: value} mapping; no queries. An item whose
condition does not hold is hidden: it never counts as missing and its answer is dropped.
Conditions may only refer to earlier items, so one pass in checklist order settles every
item (a hidden item's answer counts as absent for the items after it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OPERATORS = ("equals", "not_equals", "in", "includes", "answered")


def is_answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | dict):
        return len(value) > 0
    return True


def condition_holds(condition: Mapping | None, answers: Mapping[str, Any]) -> bool:
    if not condition:
        return True
    value = answers.get(condition["item"])
    op, expected = condition["op"], condition.get("value")
    if op == "answered":
        return is_answered(value)
    if not is_answered(value):
        return False
    if op == "equals":
        return value == expected
    if op == "not_equals":
        return value != expected
    if op == "in":
        return value in expected
    if op == "includes":
        return isinstance(value, list) and expected in value
    raise ValueError(f"Unknown show-when operator {op!r}")


def effective_answers(items: Iterable, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers that count: those of visible items, in checklist order."""
    kept: dict[str, Any] = {}
    for item in items:
        if item.key in answers and condition_holds(item.show_when, kept):
            kept[item.key] = answers[item.key]
    return kept


def visible_keys(items: Iterable, answers: Mapping[str, Any]) -> set[str]:
    kept: dict[str, Any] = {}
    visible: set[str] = set()
    for item in items:
        if condition_holds(item.show_when, kept):
            visible.add(item.key)
            if item.key in answers:
                kept[item.key] = answers[item.key]
    return visible


def missing_required(items: Iterable, answers: Mapping[str, Any]) -> list:
    """Required, visible items without an answer, in checklist order."""
    items = list(items)
    visible = visible_keys(items, answers)
    return [
        item
        for item in items
        if item.required and item.key in visible and not is_answered(answers.get(item.key))
    ]
