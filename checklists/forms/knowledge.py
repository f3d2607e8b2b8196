"""The editors' forms around a knowledge proposal: the reason every proposal carries, and a
second editor's (or the proposer's) decision. Drawn by Django's admin."""

from __future__ import annotations

from django import forms
from django.forms.models import BaseInlineFormSet

from ..models import LabLimit, Problem, Substance, SubstanceAlias, normalise_name
from .fields import PlainTextField, SuggestingInput

REASON_HELP = (
    "What changed and why. Saving does not change the knowledge: a second editor reads this "
    "and must approve it before clinicians see it."
)


class ProposalReasonField(PlainTextField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Reason for this change")
        kwargs.setdefault("help_text", REASON_HELP)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3}))
        super().__init__(**kwargs)


class KnowledgeProposalForm(forms.ModelForm):
    """The admin form of a knowledge table, with the reason its proposal needs."""

    proposal_reason = ProposalReasonField()


class SubstanceProposalForm(KnowledgeProposalForm):
    """A substance's admin form: a product's ingredients, classes and sources, a class's
    sources and every row's review-by date are checked by the model's rules (issue 17)
    when the editor saves, not only at approval."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind"):
            row = Substance(pk=self.instance.pk, kind=cleaned["kind"])
            sources = cleaned.get("sources") or []
            for reason in row.ingredient_problems(
                cleaned.get("ingredients") or [], cleaned.get("classes") or [], sources
            ) + row.reference_problems(sources, cleaned.get("review_by")):
                self.add_error(None, reason)
        return cleaned


class LabLimitProposalForm(KnowledgeProposalForm):
    """A lab limit's problem is picked from the problem catalogue (issue 21): typed as a
    key, a typo filed every failed result under a problem that does not exist."""

    problem_on_fail = forms.ChoiceField(
        required=False,
        label="Problem a failed result is filed under",
        help_text="Left empty: product quality.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["problem_on_fail"].choices = [("", "Product quality (default)")] + list(
            Problem.objects.order_by("title").values_list("key", "title")
        )
        # Analytes and panels are keys a certificate's results are matched by: the ones in
        # use are suggested, so "kratom-adulterant" does not start a second panel.
        for name in ("analyte", "panel"):
            if name in self.fields:
                used = LabLimit.objects.exclude(**{name: ""}).order_by(name)
                self.fields[name].widget = SuggestingInput(
                    used.values_list(name, flat=True).distinct(),
                    self.fields[name].widget.attrs,
                )


class ProposalReasonForm(forms.Form):
    """The reason asked on the delete pages (one row, or the selected rows)."""

    proposal_reason = ProposalReasonField()


class DecisionForm(forms.Form):
    """A comment on approving (optional), rejecting (the service requires one) or
    withdrawing a proposal."""

    comment = PlainTextField(
        label="Comment", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class AliasFormSet(BaseInlineFormSet):
    """A substance's names: each may name one substance only, once case and punctuation
    are ignored (the database's rule), said as a form error rather than at approval."""

    def clean(self):
        super().clean()
        names = [
            form.cleaned_data["name"]
            for form in self.forms
            if form.cleaned_data.get("name") and not form.cleaned_data.get("DELETE")
        ]
        normalised = [normalise_name(name) for name in names]
        if len(set(normalised)) != len(normalised):
            raise forms.ValidationError("Two of these names are the same once case is ignored.")
        taken = SubstanceAlias.objects.filter(normalised__in=normalised)
        if self.instance.pk:
            taken = taken.exclude(substance_id=self.instance.pk)
        found = [f"{alias.name} ({alias.substance})" for alias in taken.select_related("substance")]
        if found:
            raise forms.ValidationError(
                f"Already the name of another substance: {', '.join(found)}."
            )
