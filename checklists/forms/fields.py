"""Field types shared by the forms: typed text, rows of a list, a place, a product lot."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from ..models.legal import PlaceMatch, resolve_place

JURISDICTION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?(-[A-Z0-9-]{1,40})?$")


def clean_text(value: str) -> str:
    """Strip surrounding space and refuse control characters (NUL and friends)."""
    value = (value or "").strip()
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in value):
        raise ValidationError("Remove the control characters from this text.")
    return value


class PlainTextField(forms.CharField):
    """Text a person types: surrounding space stripped, control characters refused."""

    def clean(self, value):
        return clean_text(super().clean(value))


class RowListWidget(forms.Widget):
    """Rows of small text inputs (name-i-column), with spare empty rows to fill in."""

    template_name = "checklists/widgets/row_list.html"
    spare_rows = 3

    def __init__(self, columns: list[tuple[str, str]], attrs=None, max_length: int = 120):
        self.columns = columns
        self.max_length = max_length
        super().__init__(attrs)

    def value_from_datadict(self, data, files, name):
        rows = []
        for index in range(50):
            row = {col: data.get(f"{name}-{index}-{col}", "") for col, _ in self.columns}
            if not any(f"{name}-{index}-{col}" in data for col, _ in self.columns):
                continue
            rows.append(row)
        return rows

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        rows = list(value or []) if isinstance(value, list) else []
        rows += [{} for _ in range(self.spare_rows)]
        context["widget"]["columns"] = self.columns
        context["widget"]["max_length"] = self.max_length
        context["widget"]["rows"] = [
            (index, [(col, label, (row or {}).get(col, "")) for col, label in self.columns])
            for index, row in enumerate(rows)
        ]
        return context


class RowListField(forms.Field):
    """Rows of text, each cell cut to `max_length` (an item's option labels take 300, what
    the content file allows; a medicine row 120)."""

    def __init__(
        self, columns: list[tuple[str, str]], key_column: str, max_length: int = 120, **kwargs
    ):
        self.columns = columns
        self.key_column = key_column
        self.max_length = max_length
        kwargs.setdefault("widget", RowListWidget(columns, max_length=max_length))
        super().__init__(**kwargs)

    def to_python(self, value):
        rows = []
        for row in value or []:
            cleaned = {
                col: clean_text(str(row.get(col, "")))[: self.max_length] for col, _ in self.columns
            }
            if any(cleaned.values()):
                if not cleaned[self.key_column]:
                    raise ValidationError(
                        f"Each row needs a {dict(self.columns)[self.key_column].lower()}."
                    )
                rows.append(cleaned)
        return rows


class SuggestingInput(forms.TextInput):
    """A text box that suggests values as you type (a datalist, no script); any text may
    still be typed. `list_name` names the datalist after what it holds."""

    template_name = "checklists/widgets/suggesting.html"
    list_name = "suggestions"

    def __init__(self, suggestions=(), attrs=None):
        self.suggestions = list(suggestions)
        super().__init__(attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"] |= {"suggestions": self.suggestions, "list_name": self.list_name}
        return context


class JurisdictionInput(SuggestingInput):
    """The legal table's places as suggestions. Each reads "Texas (US-TX)", so typing the
    name or the code finds it in any browser; a stored code is shown the same way."""

    list_name = "places"

    def __init__(self, places=(), attrs=None):
        self.places = list(places)
        super().__init__([f"{label} ({code})" for code, label in self.places], attrs)

    def format_value(self, value):
        label = dict(self.places).get(value) if isinstance(value, str) else None
        return f"{label} ({value})" if label else super().format_value(value)


class PlaceField(forms.CharField):
    """A place of the legal table typed by name or code ("Texas", "TX", "US-TX"); cleans
    to its code, which is what is stored. An unknown or ambiguous place is refused with the
    places it might mean. Without `places` (a form built without the table) a well-formed
    code is taken as typed."""

    def __init__(self, places=(), **kwargs):
        self.places = list(places)
        kwargs.setdefault("max_length", 120)  # "Tishomingo County, Mississippi (US-MS-...)"
        kwargs["widget"] = JurisdictionInput(self.places)
        super().__init__(**kwargs)

    def clean(self, value) -> str:
        text = clean_text(super().clean(value))
        if not text:
            return ""
        if not self.places:
            code = text.upper().split(" ")[0]
            if not JURISDICTION_RE.fullmatch(code):
                raise ValidationError("Use a code such as US-TX, US-CA-SAN-DIEGO or GB.")
            return code
        match = resolve_place(text, self.places)
        if match.code is None:
            raise ValidationError(place_refusal(text, match), code="unknown_place")
        return match.code


def place_refusal(text: str, match: PlaceMatch) -> str:
    """Why a typed place was refused, naming the places it might mean."""
    shown = text if len(text) <= 60 else text[:59] + "…"
    choices = [f"{label} ({code})" for code, label in match.candidates]
    listed = f"{', '.join(choices[:-1])} or {choices[-1]}" if len(choices) > 1 else "".join(choices)
    if match.ambiguous:
        return f"“{shown}” could be {listed}: type or choose the one you mean."
    if choices:
        return (
            f"“{shown}” is not in the legal table. Closest: {listed}. "
            "If the region is not listed, choose its country."
        )
    return (
        f"“{shown}” is not in the legal table. Type a country or US state by name "
        "or code (Texas, TX, US-TX, GB) and choose it from the list; if the region is not "
        "listed, choose its country."
    )


class ProductLotWidget(RowListWidget):
    """The team's recorded lots as checkboxes, plus free-text rows for anything else."""

    template_name = "checklists/widgets/product_lot.html"
    spare_rows = 1

    def __init__(self, columns, lots=(), attrs=None):
        self.lots = list(lots)
        super().__init__(columns, attrs)

    def value_from_datadict(self, data, files, name):
        return {
            "lots": data.getlist(f"{name}-lot") if hasattr(data, "getlist") else [],
            "rows": super().value_from_datadict(data, files, name),
        }

    def get_context(self, name, value, attrs):
        if isinstance(value, dict):  # re-shown after a POST
            chosen = {str(v) for v in value.get("lots", [])}
            rows = value.get("rows", [])
        else:  # stored answer: a list of rows, some pointing at a lot
            chosen = {str(r["lot_id"]) for r in value or [] if "lot_id" in r}
            rows = [r for r in value or [] if "lot_id" not in r]
        context = super().get_context(name, rows, attrs)
        context["widget"]["lots"] = [(str(pk), label, str(pk) in chosen) for pk, label in self.lots]
        return context


class ProductLotField(RowListField):
    def __init__(self, lots=(), **kwargs):
        self.lots = {str(pk): label for pk, label in lots}
        kwargs["widget"] = ProductLotWidget(PRODUCT_COLUMNS, lots)
        super().__init__(PRODUCT_COLUMNS, "product", **kwargs)

    def to_python(self, value):
        value = value if isinstance(value, dict) else {"lots": [], "rows": value}
        chosen = []
        for pk in value.get("lots", []):
            if str(pk) not in self.lots:
                raise ValidationError("Choose lots from your team's list.")
            chosen.append({"lot_id": int(pk), "label": self.lots[str(pk)]})
        return chosen + super().to_python(value.get("rows", []))


MEDICATION_COLUMNS = [
    ("name", "Medicine as the patient names it"),
    ("dose", "Dose"),
    ("frequency", "How often"),
]
PRODUCT_COLUMNS = [("product", "Product"), ("supplier", "Supplier"), ("lot", "Lot on the label")]
