"""Forms: they validate and clean, nothing more."""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

from accounts import mfa
from accounts.forms import otp_code_field

from .exports.csv import ExportFilters
from .models import (
    Acknowledgement,
    ChecklistResponse,
    Item,
    ItemKind,
    PatientCase,
    Product,
    Team,
)
from .suppliers.certificate_pdf import check_coa_pdf

if TYPE_CHECKING:
    from .cases.signing import SignRefused

JURISDICTION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?(-[A-Z0-9-]{1,40})?$")
TEXT_LIMITS = {ItemKind.SHORT_TEXT: 300, ItemKind.LONG_TEXT: 4000}


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


class CaseForm(forms.ModelForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)

    class Meta:
        model = PatientCase
        fields = ["team", "reference", "initials", "birth_year", "jurisdiction"]
        help_texts = {
            "initials": "Optional, up to 4 letters.",
            "birth_year": "Optional. Only the year is stored.",
            "jurisdiction": "Where the patient lives: a country (GB) or a US state (US-TX).",
        }

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].widget = forms.HiddenInput()
        self.fields["birth_year"].widget = forms.NumberInput(
            attrs={"min": 1900, "inputmode": "numeric"}
        )

    def clean_reference(self) -> str:
        reference = clean_text(self.cleaned_data["reference"])
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}", reference):
            raise ValidationError(
                "Use the clinic's reference: letters, digits and . _ / - only, up to 40 characters."
            )
        return reference

    def clean_initials(self) -> str:
        initials = clean_text(self.cleaned_data.get("initials", "")).upper()
        if initials and not re.fullmatch(r"[A-Z]{1,4}", initials):
            raise ValidationError("Initials are up to 4 letters, nothing else.")
        return initials

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data.get("birth_year")
        if year is not None and not 1900 <= year <= datetime.date.today().year:
            raise ValidationError(f"Enter a year between 1900 and {datetime.date.today().year}.")
        return year

    def clean_jurisdiction(self) -> str:
        code = clean_text(self.cleaned_data.get("jurisdiction", "")).upper()
        if code and not JURISDICTION_RE.fullmatch(code):
            raise ValidationError("Use a code such as US-TX, US-CA-SAN-DIEGO or GB.")
        return code

    def clean(self):
        cleaned = super().clean()
        team, reference = cleaned.get("team"), cleaned.get("reference")
        if (
            team
            and reference
            and PatientCase.objects.filter(team=team, reference=reference).exists()
        ):
            self.add_error("reference", f"{team} already has a case with this reference.")
        return cleaned

    def validate_unique(self):
        # Checked in clean() with a clinician-friendly message.
        pass


class CaseSearchForm(forms.Form):
    q = forms.CharField(label="Clinic reference", required=False, max_length=40)

    def clean_q(self) -> str:
        return clean_text(self.cleaned_data.get("q", ""))


STATUS_FILTERS = [
    ("", "All cases"),
    ("draft", "Has a draft"),
    ("signed", "All signed"),
    ("follow_up_due", "Follow-up due"),
]


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)


class RowListWidget(forms.Widget):
    """Rows of small text inputs (name-i-column), with spare empty rows to fill in."""

    template_name = "checklists/widgets/row_list.html"
    spare_rows = 3

    def __init__(self, columns: list[tuple[str, str]], attrs=None):
        self.columns = columns
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
        context["widget"]["rows"] = [
            (index, [(col, label, (row or {}).get(col, "")) for col, label in self.columns])
            for index, row in enumerate(rows)
        ]
        return context


class RowListField(forms.Field):
    def __init__(self, columns: list[tuple[str, str]], key_column: str, **kwargs):
        self.columns = columns
        self.key_column = key_column
        kwargs.setdefault("widget", RowListWidget(columns))
        super().__init__(**kwargs)

    def to_python(self, value):
        rows = []
        for row in value or []:
            cleaned = {col: clean_text(str(row.get(col, "")))[:120] for col, _ in self.columns}
            if any(cleaned.values()):
                if not cleaned[self.key_column]:
                    raise ValidationError(
                        f"Each row needs a {dict(self.columns)[self.key_column].lower()}."
                    )
                rows.append(cleaned)
        return rows


class JurisdictionInput(forms.TextInput):
    """A text box that suggests the legal table's places as you type (a datalist)."""

    template_name = "checklists/widgets/jurisdiction.html"

    def __init__(self, places=(), attrs=None):
        self.places = list(places)
        super().__init__(attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["places"] = self.places
        return context


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


def condition_text(item: Item, items_by_key: dict[str, Item]) -> str:
    """A show-when condition in words, for readers without JavaScript."""
    condition = item.show_when
    if not condition or condition["item"] not in items_by_key:
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
        return f"Answer only if “{source.prompt}” has an answer."
    if condition["op"] == "not_equals":
        return f"Answer only if the answer to “{source.prompt}” is not {labels[0]}."
    return f"Answer only if the answer to “{source.prompt}” includes {' or '.join(labels)}."


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
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == ItemKind.JURISDICTION:
        return forms.CharField(max_length=60, widget=JurisdictionInput(places), **common)
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
        self.place_codes = {code for code, _ in places}
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
        """What the template needs per item: the bound field, the item, its citations."""
        return [
            {
                "item": item,
                "show_value": json.dumps(item.show_when.get("value")) if item.show_when else "",
                "condition_text": condition_text(item, items_by_key),
                "field": self[item.key],
                "citations": citations.get(item.id, []),
                "is_group": isinstance(
                    self.fields[item.key].widget, forms.RadioSelect | forms.CheckboxSelectMultiple
                ),
                "is_rows": isinstance(self.fields[item.key].widget, RowListWidget),
            }
            for item in self.items
        ]

    def clean(self):
        cleaned = super().clean()
        for item in self.items:
            if item.kind == ItemKind.JURISDICTION and cleaned.get(item.key):
                code = clean_text(cleaned[item.key]).upper().split(" ")[0]
                if not JURISDICTION_RE.fullmatch(code):
                    self.add_error(item.key, "Use a code such as US-TX, US-CA-SAN-DIEGO or GB.")
                elif self.place_codes and code not in self.place_codes:
                    self.add_error(
                        item.key,
                        f"{code} is not in the legal table. Choose a "
                        "listed place, or the country if the region is not listed.",
                    )
                else:
                    cleaned[item.key] = code
            elif item.kind in TEXT_LIMITS and cleaned.get(item.key):
                try:
                    cleaned[item.key] = clean_text(cleaned[item.key])
                except ValidationError as error:
                    self.add_error(item.key, error)
        return cleaned

    def values(self) -> dict[str, Any]:
        return {item.key: to_storage(item, self.cleaned_data.get(item.key)) for item in self.items}


ATTESTATION = (
    "I reviewed every answer and caution on this checklist with the patient, and it is "
    "complete and accurate to the best of my knowledge."
)


def ack_field_prefix(flag_code: str) -> str:
    """A stable, HTML-safe field prefix for a flag's acknowledgement."""
    return "ack_" + hashlib.sha256(flag_code.encode()).hexdigest()[:12]


class SignForm(forms.Form):
    """The signature's inputs. The password and the code are checked by sign_response,
    which refuses with the reason shown here by show_refusal."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Signing is a legal act: confirm it is you.",
    )
    attest = forms.BooleanField(label=ATTESTATION, required=True)

    def __init__(self, *args, user, flags=(), **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["attest"].error_messages["required"] = "Tick the attestation to sign."
        # With a second factor set up, signing asks for a fresh code as well as the password.
        self.needs_code = mfa.needs_code_to_sign(user)
        if self.needs_code:
            self.fields["otp_token"] = otp_code_field()
        self.ack_flags = [flag for flag in flags if flag.needs_acknowledgement]
        reasons = [("", "Choose a reason"), *Acknowledgement.Reason.choices]
        for flag in self.ack_flags:
            prefix = ack_field_prefix(flag.code)
            self.fields[f"{prefix}_reason"] = forms.ChoiceField(
                label=f"Reason for going ahead despite: {flag.title}",
                choices=reasons,
                error_messages={"required": "Choose a reason to acknowledge this caution."},
            )
            self.fields[f"{prefix}_comment"] = forms.CharField(
                label="Comment (required when the reason is Other)",
                required=False,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def ack_rows(self) -> list[dict]:
        """What the template needs per flag: the flag and its two bound fields."""
        return [
            {
                "flag": flag,
                "reason": self[f"{ack_field_prefix(flag.code)}_reason"],
                "comment": self[f"{ack_field_prefix(flag.code)}_comment"],
            }
            for flag in self.ack_flags
        ]

    def clean(self):
        cleaned = super().clean()
        for flag in self.ack_flags:
            prefix = ack_field_prefix(flag.code)
            comment = cleaned.get(f"{prefix}_comment", "")
            try:
                cleaned[f"{prefix}_comment"] = clean_text(comment)
            except ValidationError as error:
                self.add_error(f"{prefix}_comment", error)
                continue
            if cleaned.get(f"{prefix}_reason") == "other" and not cleaned[f"{prefix}_comment"]:
                self.add_error(f"{prefix}_comment", "Explain the reason when you choose Other.")
        return cleaned

    def acknowledgements(self) -> dict[str, tuple[str, str]]:
        """{flag code: (reason, comment)} for a valid form."""
        return {
            flag.code: (
                self.cleaned_data[f"{ack_field_prefix(flag.code)}_reason"],
                self.cleaned_data[f"{ack_field_prefix(flag.code)}_comment"],
            )
            for flag in self.ack_flags
        }

    def show_refusal(self, refusal: SignRefused) -> None:
        """Show why sign_response refused on the field it is about (the password, the
        code) or above the form."""
        field = {"password": "password", "code": "otp_token"}.get(refusal.field or "")
        self.add_error(field, str(refusal))


class LotForm(forms.Form):
    """A product and the lot on its label; the supplier and product are reused if known."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    supplier = PlainTextField(max_length=120, help_text="As printed on the product.")
    product = PlainTextField(max_length=120, label="Product name")
    substance = forms.ChoiceField(choices=[("kratom", "Kratom"), ("melatonin", "Melatonin")])
    form = forms.ChoiceField(choices=Product.Form.choices, label="Form")
    labelled_amount_mg = forms.FloatField(
        required=False,
        min_value=0,
        max_value=100000,
        label="Labelled amount per dose (mg)",
        help_text="Needed to check melatonin content against the label.",
    )
    lot_number = PlainTextField(max_length=60, label="Lot on the label")

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].widget = forms.HiddenInput()


MICROBE_CHOICES = [
    ("", "Not reported"),
    ("absent", "Absent / not detected"),
    ("detected", "Detected"),
]


class COAForm(forms.Form):
    """A certificate of analysis for one lot: who tested it, when, and each result."""

    lab_name = PlainTextField(max_length=160, label="Testing laboratory")
    accreditation_id = PlainTextField(
        max_length=80,
        required=False,
        label="ISO/IEC 17025 accreditation number",
        help_text="Leave empty if the COA shows none.",
    )
    tested_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="Date testing was completed"
    )
    coa_lot_number = PlainTextField(max_length=60, label="Lot printed on the COA")
    pdf = forms.FileField(label="The COA as a PDF (at most 10 MB)", required=False)

    def __init__(self, *args, limits, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = list(limits)
        for limit in self.limits:
            label = f"{limit.label}" + (
                f" ({limit.unit})" if limit.unit and limit.comparison != "absent" else ""
            )
            if limit.comparison == "absent":
                field = forms.ChoiceField(choices=MICROBE_CHOICES, required=False, label=label)
            else:
                field = forms.FloatField(required=False, min_value=0, label=label)
            self.fields[f"result_{limit.analyte}"] = field

    def clean_tested_on(self):
        tested = self.cleaned_data["tested_on"]
        if tested > datetime.date.today():
            raise ValidationError("The test date cannot be in the future.")
        return tested

    def clean_pdf(self):
        upload = self.cleaned_data.get("pdf")
        if upload:
            check_coa_pdf(upload)
        return upload

    def results(self) -> dict:
        found = {}
        for limit in self.limits:
            value = self.cleaned_data.get(f"result_{limit.analyte}")
            if value not in (None, ""):
                found[limit.analyte] = value
        return found


class AmendForm(forms.Form):
    reason = PlainTextField(
        label="Why does this checklist need correcting?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the new revision and in the audit trail.",
    )


class ReturnForm(forms.Form):
    comment = PlainTextField(
        label="What should the clinician correct?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User name")
    case = forms.IntegerField(required=False, min_value=1, label="Case id")
    action = forms.ChoiceField(required=False, label="Action")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import AuditEvent

        self.fields["action"].choices = [("", "Any action"), *AuditEvent.Action.choices]

    def clean_user(self) -> str:
        return clean_text(self.cleaned_data.get("user", ""))

    def filters(self) -> dict:
        """The cleaned filters that were given, for the queryset and the audit record."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class CaseEditForm(CaseForm):
    """The optional details of an existing case; its team and reference stay fixed."""

    team = None

    class Meta(CaseForm.Meta):
        fields = ["initials", "birth_year", "jurisdiction"]

    def __init__(self, *args, **kwargs):
        forms.ModelForm.__init__(self, *args, **kwargs)
        self.fields["birth_year"].widget = forms.NumberInput(
            attrs={"min": 1900, "inputmode": "numeric"}
        )

    def clean(self):
        return forms.ModelForm.clean(self)


class ExportFilterForm(forms.Form):
    """Query parameters of /exports/responses.csv: ids, dates and codes only."""

    date_from = forms.DateField(required=False, label="Started on or after")
    date_to = forms.DateField(required=False, label="Started on or before")
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ChecklistResponse.Status.choices], required=False
    )
    team = forms.IntegerField(required=False, min_value=1)
    serious = forms.BooleanField(required=False, label="Only with major or contraindicated flags")
    format = forms.ChoiceField(
        choices=[("", "One row per checklist"), ("long", "One row per answer")], required=False
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise ValidationError("The start date is after the end date.")
        return data

    def filters(self) -> ExportFilters:
        data = self.cleaned_data
        return ExportFilters(
            started_from=data["date_from"],
            started_to=data["date_to"],
            status=data["status"],
            team_id=data["team"],
            serious_only=data["serious"],
        )


class RestartForm(forms.Form):
    """The lock version of the draft the page showed, so a restart never races a save."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
