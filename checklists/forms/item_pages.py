"""How the item page lays the item form out (issue 21): the field groups of an editable item,
and what a reviewer reads instead once it is locked (its values in words:
authoring/in_words.py)."""

from __future__ import annotations

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
