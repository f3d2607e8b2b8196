"""Show-when conditions and completeness: which items apply, and which are missing.

Pure functions over items and a {item_key: value} mapping; no queries. An item whose
condition does not hold is hidden: it never counts as missing and its answer is dropped.
Conditions may only refer to earlier items, so one pass in checklist order settles every
item (a hidden item's answer counts as absent for the items after it).

A condition is {"item", "op", "value"}, or {"all": [condition, ...]} when every one of
several must hold (issue 18: a question about the kratom certificate needs both kratom in
use and a certificate). "in" asks whether the answer is one of the values; on a
several-choice answer, whether any chosen option is ("taking or considering kratom").
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


def parts(condition: Mapping | None) -> list[Mapping]:
    """The simple conditions a condition is made of (all must hold)."""
    if not condition:
        return []
    return list(condition["all"]) if "all" in condition else [condition]


def condition_items(condition: Mapping | None) -> list[str]:
    """The keys of the items a condition reads, in its order."""
    return [part["item"] for part in parts(condition)]


def split_at_page(
    condition: Mapping | None, on_page: set[str], answers: Mapping[str, Any]
) -> tuple[bool, Mapping | None]:
    """A condition seen from one page: whether its parts about other pages' answers hold
    (the server decides those), and the part left for this page's own answers, which the
    page re-checks as they change (None when nothing is left)."""
    own = [part for part in parts(condition) if part["item"] in on_page]
    elsewhere = all(
        condition_holds(part, answers) for part in parts(condition) if part["item"] not in on_page
    )
    if not own:
        return elsewhere, None
    return elsewhere, own[0] if len(own) == 1 else {"all": own}


def condition_holds(condition: Mapping | None, answers: Mapping[str, Any]) -> bool:
    if not condition:
        return True
    if "all" in condition:
        return all(condition_holds(part, answers) for part in condition["all"])
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
        if isinstance(value, list):
            return any(v in expected for v in value)
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
