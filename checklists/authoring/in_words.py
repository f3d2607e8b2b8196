"""An item's content in words: one reading for the locked item page (what a reviewer reads
instead of the form) and for the version diff (what the second editor approves).

Everything that changes what an item does is here, so the two pages cannot tell a reviewer
different things: its options, its caution (title and problem included), its screening
role, its source-document cautions and its citations; and its show-when condition, worded
as the clinician's section page words it for readers without JavaScript.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..conditions import parts
from ..models import Citation, Item, Severity

ROLE_LABELS = {
    "substances": "Which substances are used (answer codes mapped to agents)",
    "factors": "Patient factors (answer codes mapped to factors)",
    "medicine_question": "A medicine question the medicine list also answers (pick classes)",
    "medications": "The medicine list",
    "jurisdiction": "Where the patient lives",
    "products": "The product and its lot",
    "legal_check_source": "Where the clinician checked the law",
    "legal_check_date": "When the clinician checked the law",
    "monitoring": "The monitoring plan, suggested by the problems raised",
}


def options_in_words(item: Item) -> str:
    """ "Daily (daily); Weekly (weekly)": each answer's label and its stored code."""
    return "; ".join(f"{o['label']} ({o['code']})" for o in item.choices) or "None"


def caution_in_words(item: Item) -> str:
    caution = item.caution
    if not caution:
        return "None"
    answers = ", ".join(item.option_label(code) for code in caution.get("when", []))
    severity = caution.get("severity")
    severity = Severity(severity).label if severity in Severity.values else str(severity)
    problem = f" (problem: {caution['problem']})" if caution.get("problem") else ""
    return (
        f"When the answer is {answers}: {severity}, "
        f"“{caution.get('title', '')}”{problem}. Advice: {caution.get('advice', '')}"
    )


def screening_in_words(item: Item) -> str:
    screening = item.screening
    if not screening:
        return "None"
    parts = [ROLE_LABELS.get(screening.get("role"), str(screening.get("role")))]
    if screening.get("map"):
        parts.append(", ".join(f"{code} → {to}" for code, to in screening["map"].items()))
    if screening.get("classes"):
        parts.append("classes: " + ", ".join(screening["classes"]))
    if screening.get("substance"):
        parts.append(f"for {screening['substance']}")
    if screening.get("ages"):
        parts.append(
            "age bands: "
            + ", ".join(f"{code} {low}–{high}" for code, (low, high) in screening["ages"].items())
        )
    if screening.get("problems"):
        parts.append(
            "suggested by problems: "
            + "; ".join(
                f"{key} → {', '.join(codes)}" for key, codes in screening["problems"].items()
            )
        )
    return "; ".join(parts)


def tags_in_words(item: Item) -> str:
    return ", ".join(item.caution_tags or []) or "None"


def citations_in_words(citations: Iterable[Citation]) -> str:
    """The item's sources in the order the checklist lists them, with their locators."""
    return "; ".join(str(citation) for citation in citations) or "None"


def condition_text(condition: dict | None, items_by_key: dict[str, Item]) -> str:
    """A show-when condition in words, for readers without JavaScript."""
    words = [_part_text(part, items_by_key) for part in parts(condition)]
    words = [w for w in words if w]
    return f"Answer only if {' and '.join(words)}." if words else ""


def _part_text(condition: dict, items_by_key: dict[str, Item]) -> str:
    if condition["item"] not in items_by_key:
        return ""
    source = items_by_key[condition["item"]]
    value = condition.get("value")
    labels = (
        [source.option_label(v) for v in value]
        if isinstance(value, list)
        else [source.option_label(value)]
        if value is not None
        else []
    )
    if condition["op"] == "answered":
        return f"“{source.prompt}” has an answer"
    if condition["op"] == "not_equals":
        return f"the answer to “{source.prompt}” is not {labels[0]}"
    return f"the answer to “{source.prompt}” includes {' or '.join(labels)}"
