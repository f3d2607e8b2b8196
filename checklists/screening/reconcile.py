"""The answers beside the medicine list (issue 16, point 5).

A question such as "Is the patient taking any opioid?" is answered by the medicine list
too: its item's screening mapping (`{"role": "medicine_question", "classes": [...]}`)
names the substances and classes that answer it. A recognised medicine of those classes
suggests "Yes, from the medicine list: tramadol"; a "No" beside one is a contradiction,
shown on the section and the review, and signing is refused until it is resolved.
Pure: answers and matches in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..conditions import effective_answers, visible_keys
from .matching import MedicationMatch

ROLE = "medicine_question"


@dataclass(frozen=True)
class Reconciliation:
    item_key: str
    prompt: str
    medicines: tuple[str, ...]  # as typed in the list
    answer: Any

    @property
    def contradiction(self) -> bool:
        return self.answer == "no"

    @property
    def suggestion(self) -> str:
        return f"Yes, from the medicine list: {', '.join(self.medicines)}"

    @property
    def message(self) -> str:
        return (
            f"“{self.prompt}” is answered No, but the medicine list has "
            f"{', '.join(self.medicines)}. Correct the answer or the list."
        )


def reconcile(
    items: Iterable, answers: Mapping[str, Any], matches: Iterable[MedicationMatch]
) -> list[Reconciliation]:
    """Each visible question the medicine list answers, with the medicines that answer it."""
    items = list(items)
    answers = effective_answers(items, answers)
    found = [m for m in matches if m.substance is not None]
    visible = visible_keys(items, answers)
    out = []
    for item in items:
        rule = item.screening or {}
        if rule.get("role") != ROLE or item.key not in visible:
            continue
        keys = set(rule.get("classes", []))
        medicines = tuple(
            dict.fromkeys(
                m.typed for m in found if any(s.key in keys or keys & s.classes for s in m.contents)
            )
        )
        if medicines:
            out.append(Reconciliation(item.key, item.prompt, medicines, answers.get(item.key)))
    return out
