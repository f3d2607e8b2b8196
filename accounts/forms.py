"""Forms for the second factor: giving a code at login, and setting up the app.

They only validate; `mfa` checks the code. `otp_code_field` is shared with the signing form
(checklists/forms.py), which asks for a fresh code too.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from . import mfa


def otp_code_field(label: str = "Code from your authenticator app") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=32,
        help_text="Six digits from the app, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}
        ),
    )


class SecondFactorForm(forms.Form):
    """The second step of logging in: a code from the app or a recovery code."""

    otp_token = otp_code_field()

    def __init__(self, *args, user, **kwargs):
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean_otp_token(self) -> str:
        code = self.cleaned_data["otp_token"]
        try:
            self.device = mfa.verify_code(self.user, code)
        except mfa.CodeRefused as refusal:
            raise ValidationError(str(refusal)) from None
        return code


class EnrolForm(forms.Form):
    """Setting up the authenticator app: the first code it shows proves it holds the secret
    (checked by mfa.confirm_device in the view, which also issues the recovery codes)."""

    otp_token = otp_code_field("The six-digit code your app shows now")
