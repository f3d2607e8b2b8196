"""The editors' "re-verify" form for a legal row: the source read, the day, what it says.
Drawn by Django's admin; the rules (dates, the two-person rule) are the write function's
(authoring/proposals.propose_reverification)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils import timezone

from ..models import Source
from .fields import PlainTextField


class ReverifyForm(forms.Form):
    """What an editor read to confirm a legal row still holds."""

    sources = forms.ModelMultipleChoiceField(
        queryset=Source.objects.order_by("key"),
        widget=FilteredSelectMultiple("sources", is_stacked=False),
        help_text="The statute, rule or regulator's page you read. A source not listed yet is "
        "proposed first on the Sources page.",
    )
    checked_on = forms.DateField(
        label="Date checked",
        help_text="The day you read the source (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = PlainTextField(
        label="What the source says",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="In your own words, and anything that changes soon. A second editor reads "
        "it before the row's verification date moves.",
    )

    def __init__(self, *args, row=None, **kwargs):
        if row is not None:  # a bound form ignores the initial values
            kwargs.setdefault(
                "initial",
                {"sources": list(row.sources.all()), "checked_on": timezone.localdate()},
            )
        super().__init__(*args, **kwargs)
