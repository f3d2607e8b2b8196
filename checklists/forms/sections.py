"""One section of a checklist as a form: a field per item, answers to and from storage."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils import timezone

from ..authoring.in_words import condition_text
from ..cases.prefill import CHECK_DATE_ROLE
from ..conditions import split_at_page
from ..models import (
    Item,
    ItemKind,
)
from .fields import (
    MEDICATION_COLUMNS,
    PlaceField,
    ProductLotField,
    RowListField,
    RowListWidget,
    clean_text,
)

TEXT_LIMITS = {ItemKind.SHORT_TEXT: 300, ItemKind.LONG_TEXT: 4000}


def field_for_item(item: Item, lots=(), places=()) -> forms.Field:
    """The form field for one checklist item. Nothing is required while drafting."""
    common = {"label": item.prompt, "required": False, "help_text": item.help_text}
    choices = [(o["code"], o["label"]) for o in item.choices]
    kind = item.kind
    if kind in (ItemKind.YES_NO_UNKNOWN, ItemKind.SINGLE_CHOICE):
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if kind == ItemKind.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if kind in TEXT_LIMITS:
        widget = forms.Textarea(attrs={"rows": 3}) if kind == ItemKind.LONG_TEXT else None
        return forms.CharField(max_length=TEXT_LIMITS[kind], widget=widget, **common)
    if kind == ItemKind.NUMBER:
        return forms.DecimalField(max_digits=12, decimal_places=3, min_value=0, **common)
    if kind == ItemKind.DATE:
        field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        if item.screening_role == CHECK_DATE_ROLE:
            # A check of the law is done by the day it is written down: a later date is a
            # slip that screening would not count as a check (rules/legal._own_check).
            today = timezone.localdate()
            field.widget.attrs["max"] = today.isoformat()
            field.validators.append(
                MaxValueValidator(today, "A check of the law cannot be dated after today.")
            )
        return field
    if kind == ItemKind.JURISDICTION:
        return PlaceField(places=places, **common)
    if kind == ItemKind.MEDICATION_LIST:
        return RowListField(MEDICATION_COLUMNS, "name", **common)
    if kind == ItemKind.PRODUCT_LOT:
        return ProductLotField(lots=lots, **common)
    raise ValueError(f"No form field for item kind {kind!r}")


def to_storage(item: Item, value: Any) -> Any:
    """The JSON value stored for a cleaned form value (None when unanswered)."""
    if value in (None, "", [], ()):
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if item.kind == ItemKind.JURISDICTION:
        return value.upper()
    return value


def from_storage(item: Item, value: Any) -> Any:
    """The form's initial value for a stored JSON value."""
    if value is None:
        return None
    if item.kind == ItemKind.DATE:
        try:
            return datetime.date.fromisoformat(value)
        except (TypeError, ValueError):
            return None
    return value


class SectionForm(forms.Form):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(
        self, *args, items: list[Item], answers: dict[str, Any], lots=(), places=(), **kwargs
    ):
        initial = {item.key: from_storage(item, answers.get(item.key)) for item in items}
        self.answers = answers
        super().__init__(*args, initial={**initial, **kwargs.pop("initial", {})}, **kwargs)
        self.items = items
        for item in items:
            field = field_for_item(item, lots, places)
            grouped = isinstance(field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
            css = "form-check-input" if grouped else "form-control"
            if not isinstance(field.widget, RowListWidget):
                field.widget.attrs.setdefault("class", css)
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"help-{item.key}"
            self.fields[item.key] = field

    def rows(self, citations: dict[int, list], items_by_key: dict[str, Item]) -> list[dict]:
        """What the template needs per item: the bound field, the item, its citations, and
        the part of its show-when condition this page's script re-checks as answers change
        (the parts about other sections were settled by the server)."""
        on_page = {item.key for item in self.items}
        rows = []
        for item in self.items:
            _, here = split_at_page(item.show_when, on_page, self.answers)
            widget = self.fields[item.key].widget
            grouped = isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple)
            rows.append(
                {
                    "item": item,
                    "show_when": json.dumps(here) if here else "",
                    "condition_text": condition_text(here, items_by_key),
                    "field": self[item.key],
                    "citations": citations.get(item.id, []),
                    "is_group": grouped,
                    "is_rows": isinstance(widget, RowListWidget),
                }
            )
        return rows

    def clean(self):
        cleaned = super().clean()
        for item in self.items:
            if item.kind in TEXT_LIMITS and cleaned.get(item.key):
                try:
                    cleaned[item.key] = clean_text(cleaned[item.key])
                except ValidationError as error:
                    self.add_error(item.key, error)
        return cleaned

    def values(self) -> dict[str, Any]:
        return {item.key: to_storage(item, self.cleaned_data.get(item.key)) for item in self.items}
