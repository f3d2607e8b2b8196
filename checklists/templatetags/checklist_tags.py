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
    value = answers.get(item.key)
    if value in (None, "", []):
        return format_html('<span class="text-body-secondary">{}</span>', "Not answered")
    if item.kind in (ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE):
        return item.option_label(value)
    if item.kind == ItemKind.MULTI_CHOICE:
        return ", ".join(item.option_label(code) for code in value)
    if item.kind in (ItemKind.MEDICATION_LIST, ItemKind.PRODUCT_LOT):
        return format_html(
            '<ul class="mb-0">{}</ul>',
            format_html_join(
                "", "<li>{}</li>", ((" · ".join(v for v in row.values() if v),) for row in value)
            ),
        )
    return str(value)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
