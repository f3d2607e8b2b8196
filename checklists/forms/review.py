"""The forms of the content workflow's deliberate steps (issue 21): submitting says what
changed and why, approving states that each change was reviewed, sending back says what
the author should change. Each cleans to the keyword arguments of its workflow service."""

from __future__ import annotations

from django import forms

from .fields import PlainTextField

SUMMARY_HELP = (
    "What changed and why, in a few sentences a colleague can check against the diff "
    "(“Added ‘gummy’ to the melatonin forms and a caution for it: gummies vary most in "
    "content, per the USP study”)."
)


class SubmitForm(forms.Form):
    summary = PlainTextField(
        label="Change summary",
        max_length=2000,
        help_text=SUMMARY_HELP,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ApproveForm(forms.Form):
    reviewed = forms.BooleanField(
        label="I reviewed each change listed above",
        error_messages={"required": "Tick that you reviewed each change before approving."},
    )
    comment = PlainTextField(
        label="Comment (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SendBackForm(forms.Form):
    comment = PlainTextField(
        label="What the author should change",
        max_length=2000,
        help_text="Required: the author sees it on the version page.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what the author should change before sending it back."},
    )


# The form each workflow step binds its POST to (steps without one take no input).
STEP_FORMS: dict[str, type[forms.Form]] = {
    "submit": SubmitForm,
    "approve": ApproveForm,
    "return": SendBackForm,
}
