"""How the item page lays the item form out, and a locked item's values in words (issue 21):
the field groups of an editable item, and what a reviewer reads instead once it is locked."""

from __future__ import annotations

from ..models import Item, Severity
from .item_content import ROLE_LABELS

# Field groups as the item page shows them (ItemAdmin.fieldsets).
ITEM_FIELDSETS = [
    (None, {"fields": ["version", "section", "key", "position", "kind", "required"]}),
    ("Wording", {"fields": ["prompt", "help_text"]}),
    ("Options", {"fields": ["options_rows"]}),
    (
        "Show when (only earlier questions of this version)",
        {"fields": ["show_item", "show_op", "show_values", "also_item", "also_op", "also_values"]},
    ),
    (
        "Caution (its sources are the item's citations below)",
        {
            "fields": [
                "caution_when",
                "caution_severity",
                "caution_problem",
                "caution_title",
                "caution_advice",
            ]
        },
    ),
    ("Screening", {"fields": ["screening_role", "screening_map", "screening_classes"]}),
    ("Source-document cautions", {"fields": ["tags"]}),
    ("Review", {"fields": ["reviewed_on", "review_by"]}),
]

# A locked item (in review, published, retired) shows its values in words instead: the
# item admin's display methods of these names.
IN_WORDS = [
    "options_in_words",
    "show_when_in_words",
    "caution_in_words",
    "screening_in_words",
    "tags_in_words",
]
ITEM_READONLY_FIELDSETS = [
    (None, {"fields": ["version", "section", "key", "position", "kind", "required"]}),
    ("Wording", {"fields": ["prompt", "help_text"]}),
    ("Answers and what they do", {"fields": IN_WORDS}),
    ("Review", {"fields": ["reviewed_on", "review_by"]}),
]


def caution_in_words(item: Item) -> str:
    caution = item.caution
    if not caution:
        return "None"
    answers = ", ".join(item.option_label(code) for code in caution.get("when", []))
    problem = f" (problem: {caution['problem']})" if caution.get("problem") else ""
    return (
        f"When the answer is {answers}: {Severity(caution['severity']).label}, "
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
