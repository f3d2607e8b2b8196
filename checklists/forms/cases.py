"""A patient case: new and changed."""

from __future__ import annotations

import datetime
import re

from django import forms
from django.core.exceptions import ValidationError

from ..models import (
    Jurisdiction,
    PatientCase,
    Team,
)
from .fields import PlaceField, clean_text

PLACE_HELP = (
    "Where the patient lives: a country or US state by name or code (Texas, TX, US-TX, GB);"
    " choose it from the list as you type."
)


def place_field() -> PlaceField:
    """The case's place, resolved against the legal table (one query): an unknown place
    saved here would only be refused later, in the checklist."""
    return PlaceField(
        places=Jurisdiction.objects.choices(),
        required=False,
        label="Jurisdiction",
        help_text=PLACE_HELP,
    )


class CaseForm(forms.ModelForm):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)

    class Meta:
        model = PatientCase
        fields = ["team", "reference", "initials", "birth_year", "jurisdiction"]
        help_texts = {
            "initials": "Optional, up to 4 letters.",
            "birth_year": "Optional. Only the year is stored.",
        }

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].widget = forms.HiddenInput()
        self.fields["birth_year"].widget = forms.NumberInput(
            attrs={"min": 1900, "inputmode": "numeric"}
        )
        self.fields["jurisdiction"] = place_field()

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

    def place_label(self) -> str:
        """The cleaned place as "Texas (US-TX)", for the message that confirms it."""
        code = self.cleaned_data.get("jurisdiction")
        return self.fields["jurisdiction"].widget.format_value(code) if code else ""

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
        self.fields["jurisdiction"] = place_field()

    def clean(self):
        return forms.ModelForm.clean(self)
