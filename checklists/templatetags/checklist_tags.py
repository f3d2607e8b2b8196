"""Display helpers for answers and flags. Display only: no rules live here."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from ..exports.document import NOT_ANSWERED, ROW_COLUMNS, answer_lines

register = template.Library()

SEVERITY_CLASSES = {
    "contraindicated": "danger",
    "major": "danger",
    "moderate": "warning",
    "minor": "info",
    "info": "secondary",
}


@register.filter
def severity_class(severity: str) -> str:
    return SEVERITY_CLASSES.get(severity, "secondary")


@register.simple_tag
def answer_display(item, answers):
    """An answer as a reader sees it: option labels, rows as a list, "Not answered" when
    empty. The wording is the exports' (`answer_lines`), so page and case note agree."""
    return answer_value(item, answers.get(item.key))


@register.simple_tag
def answer_value(item, value):
    """One stored value as a reader sees it (the conflict page and revision changes)."""
    lines = answer_lines(item, value)
    if lines == [NOT_ANSWERED]:
        return format_html('<span class="text-body-secondary">{}</span>', NOT_ANSWERED)
    if item.kind in ROW_COLUMNS:
        return format_html(
            '<ul class="mb-0">{}</ul>', format_html_join("", "<li>{}</li>", ((ln,) for ln in lines))
        )
    return "\n".join(lines)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
