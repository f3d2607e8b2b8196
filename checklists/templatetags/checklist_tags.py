"""Display helpers for answers and flags. Display only: no rules live here."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

from ..models import ItemKind

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
    """An answer as a reader sees it: option labels, rows as a list, '—' when empty."""
    return answer_value(item, answers.get(item.key))


@register.simple_tag
def answer_value(item, value):
    """One stored value as a reader sees it."""
    if value in (None, "", []):
        return format_html('<span class="text-body-secondary">{}</span>', "Not answered")
    if item.kind in (ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE):
        return item.option_label(value)
    if item.kind == ItemKind.MULTI_CHOICE:
        return ", ".join(item.option_label(code) for code in value)
    if item.kind in (ItemKind.MEDICATION_LIST, ItemKind.PRODUCT_LOT):
        return format_html(
            '<ul class="mb-0">{}</ul>',
            format_html_join("", "<li>{}</li>", ((_row_text(row),) for row in value)),
        )
    return str(value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


def _row_text(row: dict) -> str:
    if "lot_id" in row:
        return row.get("label") or f"Recorded lot {row['lot_id']}"
    return " · ".join(str(v) for v in row.values() if v)
