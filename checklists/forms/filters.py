"""Search and filter forms: the case list, the audit trail, the bulk export."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from ..exports.csv import ExportFilters
from ..models import AuditEvent, ChecklistResponse
from .fields import clean_text

# Ids are 64-bit in the database: a larger number is refused here (400) instead of
# overflowing in the query (SQLite: a 500 after the export's audit event was written).
MAX_ID = 2**63 - 1
# Dates a filter takes: any record's, and short of the calendar's end (the export's "to"
# counts up to the next day, which 9999-12-31 does not have).
EARLIEST_DATE, LATEST_DATE = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


def filter_date_field(**kwargs) -> forms.DateField:
    """A plain DateField (hypothesis knows it by its type) held to the bounds above."""
    bounds = f"Give a date from {EARLIEST_DATE} to {LATEST_DATE}."
    return forms.DateField(
        validators=[
            MinValueValidator(EARLIEST_DATE, message=bounds),
            MaxValueValidator(LATEST_DATE, message=bounds),
        ],
        **kwargs,
    )


class CaseSearchForm(forms.Form):
    q = forms.CharField(label="Clinic reference", required=False, max_length=40)

    def clean_q(self) -> str:
        return clean_text(self.cleaned_data.get("q", ""))


STATUS_FILTERS = [
    ("", "All cases"),
    ("my_drafts", "My drafts"),
    ("follow_up_due", "Follow-up due (today or earlier)"),
    ("serious", "Serious cautions (contraindicated or major at signing)"),
    ("draft", "Has a draft"),
    ("signed", "All signed"),
]


class CaseFilterForm(forms.Form):
    """The case list's "Show" select (?status=): an unknown value shows every case, with a
    message saying so, rather than an error page."""

    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)

    def status_or_all(self) -> str:
        return self.cleaned_data["status"] if self.is_valid() else ""


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User name")
    case = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID, label="Case id")
    action = forms.ChoiceField(required=False, label="Action")
    date_from = filter_date_field(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = filter_date_field(
        required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action"), *AuditEvent.Action.choices]

    def clean_user(self) -> str:
        return clean_text(self.cleaned_data.get("user", ""))

    def filters(self) -> dict:
        """The cleaned filters that were given, for the queryset and the audit record."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class ExportFilterForm(forms.Form):
    """Query parameters of /exports/responses.csv: ids, dates and codes only."""

    date_from = filter_date_field(required=False, label="Started on or after")
    date_to = filter_date_field(required=False, label="Started on or before")
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ChecklistResponse.Status.choices], required=False
    )
    team = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
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


class VersionDiffForm(forms.Form):
    """The admin's version diff: which other version to compare with (?against=id)."""

    against = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
