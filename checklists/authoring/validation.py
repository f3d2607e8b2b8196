"""What must hold before a checklist version may be published: the list of reasons.

`validate_version` is the one check; `submit_for_review` and `approve_and_publish` in
services.py refuse with its reasons, and the version's admin page shows them while the
editor works. Reads only.
"""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from django.utils import timezone

from .content_io import CHOICE_KINDS, version_data
from .models import Answer, Item, TemplateVersion
from .reviews import overdue_content


def content_problems(sections: list[dict[str, Any]]) -> list[str]:
    """Problems in one version's content (the shape of a checklist file); pure."""
    problems: list[str] = []
    items = [item for section in sections for item in section["items"]]
    if not items:
        return ["The version has no items."]
    counts = Counter(item["key"] for item in items)
    for key, count in counts.items():
        if count > 1:
            problems.append(f"Item key {key!r} is used {count} times; keys must be unique.")
    seen: set[str] = set()
    every_key = set(counts)
    for item in items:
        key = item["key"]
        if not item.get("citations"):
            problems.append(f"Item {key!r} cites no source.")
        condition = item.get("show_when")
        if condition:
            target = condition.get("item")
            if target not in every_key:
                problems.append(
                    f"Item {key!r}: its show-when refers to {target!r}, which is missing."
                )
            elif target not in seen:
                problems.append(
                    f"Item {key!r}: its show-when refers to {target!r}, which comes later; "
                    "a condition may only refer to an earlier item."
                )
        codes = Counter(o.get("code") for o in item.get("options") or [])
        for code, count in codes.items():
            if count > 1:
                problems.append(f"Item {key!r}: option code {code!r} is used {count} times.")
        if item.get("kind") in CHOICE_KINDS and not codes:
            problems.append(f"Item {key!r} is a choice with no options.")
        seen.add(key)
    return problems


def relabelled_codes_in_use(version: TemplateVersion) -> list[str]:
    """Option codes that responses used with one label and that this version relabels.

    A code's meaning is its label: an old answer "daily" must keep meaning "Daily". A new
    meaning needs a new code. Costs two queries, whatever the number of responses.
    """
    labels = {
        item.key: {o["code"]: o["label"] for o in item.options or []}
        for item in version.items.filter(kind__in=CHOICE_KINDS)
    }
    earlier = (
        Item.objects.filter(
            version__template_id=version.template_id, kind__in=CHOICE_KINDS, key__in=labels
        )
        .exclude(version=version)
        .values_list("id", "key", "options", "version__number")
    )
    changed: dict[int, tuple[str, int, dict[str, tuple[str, str]]]] = {}
    for item_id, key, options, number in earlier:
        differs = {
            o["code"]: (o["label"], labels[key][o["code"]])
            for o in options or []
            if o["code"] in labels[key] and _same(o["label"]) != _same(labels[key][o["code"]])
        }
        if differs:
            changed[item_id] = (key, number, differs)
    if not changed:
        return []
    used: set[tuple[int, str]] = set()
    for item_id, value in Answer.objects.filter(item_id__in=changed).values_list(
        "item_id", "value"
    ):
        for code in value if isinstance(value, list) else [value]:
            if isinstance(code, str) and code in changed[item_id][2]:
                used.add((item_id, code))
    problems = []
    for item_id, code in sorted(used, key=lambda pair: (changed[pair[0]][1], pair)):
        key, number, differs = changed[item_id]
        old, new = differs[code]
        problems.append(
            f"Item {key!r}: option code {code!r} was answered as {old!r} on v{number} and would "
            f"now mean {new!r}; give the new meaning a new code."
        )
    return problems


def _same(label: str) -> str:
    return " ".join(label.split())


def validate_version(version: TemplateVersion, *, on: datetime.date | None = None) -> list[str]:
    """Every reason this version may not be published now; empty when it may.

    Checked: items without a source, repeated item keys, show-when conditions on a missing
    or later item, repeated option codes, option codes that responses used and whose label
    changed, and overdue content in the tables that block publishing (legal, lab limits).
    """
    problems = content_problems(version_data(version)["sections"])
    problems += relabelled_codes_in_use(version)
    for group in overdue_content(on or timezone.localdate(), blocking_only=True):
        if group.rows:
            shown = ", ".join(str(row) for row in group.rows[:5])
            more = f" and {len(group.rows) - 5} more" if len(group.rows) > 5 else ""
            problems.append(
                f"{group.label}: {len(group.rows)} row(s) past their review-by date "
                f"({shown}{more}); review them before publishing."
            )
    return problems
