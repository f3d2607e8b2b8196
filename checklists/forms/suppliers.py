"""Product lots and their certificates of analysis."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError

from ..models import (
    Product,
    Team,
)
from ..suppliers.certificate_pdf import check_coa_pdf
from .fields import PlainTextField


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
    units_per_dose = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        label="Units per dose",
        help_text="Gummies, tablets or capsules in one labelled dose (melatonin per gummy).",
    )
    serving_size_g = forms.FloatField(
        required=False,
        min_value=0.001,
        max_value=1000,
        label="Serving size (g)",
        help_text="One serving in grams of product (converts 7-OH per gram and per serving).",
    )
    daily_amount_g = forms.FloatField(
        required=False,
        min_value=0.001,
        max_value=1000,
        label="Labelled daily amount (g)",
        help_text="The most the label says to take in a day, in grams (metals as a daily intake).",
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

    def refused_pdf_reason(self) -> str | None:
        """Why the uploaded PDF was refused (the check's code, for the audit trail), or None
        when the PDF passed or none was sent. Call after is_valid()."""
        refused = self.errors.as_data().get("pdf")
        return (refused[0].code or "refused") if refused else None

    def results(self) -> dict:
        found = {}
        for limit in self.limits:
            value = self.cleaned_data.get(f"result_{limit.analyte}")
            if value not in (None, ""):
                found[limit.analyte] = value
        return found
