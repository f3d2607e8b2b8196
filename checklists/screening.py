"""The screening engine: the only place that decides what is flagged.

Pure functions: they read content and answers that callers pass in, never write, and
know nothing of requests. Views, exports and the `screen` command all call them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .conditions import effective_answers
from .models.content import Severity

NEEDS_ACKNOWLEDGEMENT = (Severity.CONTRAINDICATED, Severity.MAJOR)


@dataclass(frozen=True)
class Flag:
    code: str
    category: str
    severity: str
    title: str
    advice: str
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def needs_acknowledgement(self) -> bool:
        return self.severity in NEEDS_ACKNOWLEDGEMENT

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["sources"] = list(self.sources)
        return data


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Most serious first, then by code, with duplicates (same code) removed."""
    unique = {flag.code: flag for flag in flags}
    return sorted(unique.values(), key=lambda f: (Severity.rank(f.severity), f.code))


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
                    title=caution.get("title") or item.prompt,
                    advice=caution["advice"],
                    sources=tuple(source_titles.get(item.id, ())),
                )
            )
    return sort_flags(flags)
