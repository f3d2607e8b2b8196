"""The answers beside the medicine list (issue 16, point 5; issue 17).

A question such as "Is the patient taking any opioid?" is answered by the medicine list
too: its item's screening mapping (`{"role": "medicine_question", "classes": [...]}`)
names the substances and classes that answer it. A recognised medicine of those classes
suggests "Yes, from the medicine list: tramadol"; a "No" beside one is a contradiction,
shown on the section and the review, and signing is refused until it is resolved.

The question of which products the patient uses (`{"role": "substances", "map": ...}`) is
answered the same way by a kratom, 7-OH or melatonin product in the list: its option named
after the agent ("kratom": uses it, not "considering") is suggested, and an answer without
it beside "7-OH tablets" is a contradiction, since the questions about that product's
dependence, lot and lab results hang on that option.
Pure: answers and matches in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..conditions import effective_answers, visible_keys
from .matching import MedicationMatch, agents_named

ROLE = "medicine_question"
AGENT_ROLE = "substances"


@dataclass(frozen=True)
class Reconciliation:
    item_key: str
    prompt: str
    medicines: tuple[str, ...]  # as typed in the list
    answer: Any
    # A choice question (AGENT_ROLE): the option the list implies, and its label.
    option: str = ""
    option_label: str = ""

    @property
    def contradiction(self) -> bool:
        if not self.option:
            return self.answer == "no"
        return self.answer is not None and self.option not in _chosen(self.answer)

    @property
    def prefill(self) -> Any:
        """The answer the section form starts from when the question is unanswered."""
        return [self.option] if self.option else "yes"

    @property
    def suggestion(self) -> str:
        first = self.option_label or "Yes"
        return f"{first}, from the medicine list: {', '.join(self.medicines)}"

    @property
    def message(self) -> str:
        listed = ", ".join(self.medicines)
        if self.option:
            return (
                f"“{self.prompt}” does not include {self.option_label}, but the medicine list "
                f"has {listed}. Correct the answer or the list."
            )
        return (
            f"“{self.prompt}” is answered No, but the medicine list has {listed}. "
            "Correct the answer or the list."
        )


def _chosen(answer: Any) -> list:
    return list(answer) if isinstance(answer, list | tuple) else [answer]


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
        if item.key not in visible:
            continue
        if rule.get("role") == AGENT_ROLE:
            out += _agent_choices(item, found, answers.get(item.key))
            continue
        if rule.get("role") != ROLE:
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


def _agent_choices(item, found: list[MedicationMatch], answer: Any) -> list[Reconciliation]:
    """One finding per agent the medicine list shows in use whose own option the item has."""
    labels = {option["code"]: option["label"] for option in item.options or []}
    out = []
    for agent, medicines in agents_named(found).items():
        if agent in labels:
            out.append(
                Reconciliation(item.key, item.prompt, medicines, answer, agent, labels[agent])
            )
    return out
