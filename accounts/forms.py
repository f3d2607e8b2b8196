"""Forms for the second factor and the password: giving a code at login, setting up the app,
and proving it is you again before the factor, the recovery codes or the password change.

They validate; `mfa` and `passwords` check the code and the password (and write the audit
events of a wrong one). `otp_code_field` is shared with the signing form
(checklists/forms/signing.py), which asks for a fresh code too.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError

from . import mfa, passwords
from .models import Profile


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

    def __init__(self, *args, user, ip: str | None = None, **kwargs):
        self.user = user
        self.ip = ip
        self.device = None
        super().__init__(*args, **kwargs)

    def clean_otp_token(self) -> str:
        code = self.cleaned_data["otp_token"]
        try:
            self.device = mfa.verify_code(self.user, code, form="login", ip=self.ip)
        except mfa.CodeRefused as refusal:
            raise ValidationError(str(refusal)) from None
        return code


class ItIsYouMixin:
    """Asks a signed-in user to prove it is them before a change that would let someone
    keep the account: the password and, once a second factor is set up, a current code from
    it (or an unused recovery code). An open session alone is not enough (issue 15).

    `refused` names what was wrong ("password" or "code", else None) for the lockout count
    (lockout.count_refusal); `purpose` names the form in the audit trail.
    """

    purpose = ""
    password_field = "password"  # noqa: S105  (a field name, not a password)

    def ask_it_is_you(self, *, user, ip: str | None, ask_code: bool) -> None:
        self.user, self.ip, self.refused = user, ip, None
        if ask_code:
            self.fields["current_code"] = otp_code_field(
                "Code from your current authenticator app (or a recovery code)"
            )

    def check_password(self) -> str:
        password = self.cleaned_data[self.password_field]
        if not passwords.confirm(self.user, password, form=self.purpose, ip=self.ip):
            self.refused = "password"
            raise ValidationError("That password is not right.", code="password_incorrect")
        return password

    def check_code_last(self) -> None:
        """From clean(), once every other field holds: a code is good once, so it is not
        spent on a form refused for another reason, nor tried after a wrong password."""
        if "current_code" not in self.fields or self.errors:
            return
        try:
            mfa.verify_code(
                self.user, self.cleaned_data["current_code"], form=self.purpose, ip=self.ip
            )
        except mfa.CodeRefused as refusal:
            self.refused = "code"
            self.add_error("current_code", str(refusal))


class ItIsYouForm(ItIsYouMixin, forms.Form):
    """The password and a current code on their own (new recovery codes)."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, purpose: str, ip: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.purpose = purpose
        self.ask_it_is_you(user=user, ip=ip, ask_code=mfa.is_enrolled(user))

    def clean_password(self) -> str:
        return self.check_password()

    def clean(self):
        cleaned = super().clean()
        self.check_code_last()
        return cleaned


class EnrolForm(ItIsYouForm):
    """Setting up the authenticator app: the first code it shows proves it holds the
    secret. Replacing one also asks the password and a current code; a first one from a
    session already in use asks the password (mfa_setup says which). The new app's code is
    checked before the current one, so a typo in it does not spend a recovery code."""

    otp_token = otp_code_field("The six-digit code your app shows now")

    def __init__(self, *args, user, device, ask_password: bool, ip: str | None = None, **kwargs):
        self.device = device
        super().__init__(*args, user=user, purpose="mfa_setup", ip=ip, **kwargs)
        if not ask_password:
            del self.fields["password"]
        self.order_fields(["password", "current_code", "otp_token"])

    def clean_otp_token(self) -> str:
        code = self.cleaned_data["otp_token"]
        if self.refused:
            return code  # a wrong password: the new app's code is kept for the next try
        try:
            mfa.check_new_code(self.device, code)
        except mfa.CodeRefused as refusal:
            raise ValidationError(str(refusal)) from None
        return code


class PasswordChangeForm(ItIsYouMixin, auth_forms.PasswordChangeForm):
    """Django's password change, with a current code once a second factor is set up, and a
    wrong old password written to the audit trail and counted toward the lockout."""

    purpose = "password_change"
    password_field = "old_password"  # noqa: S105  (a field name)

    def __init__(self, user, *args, ip: str | None = None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.ask_it_is_you(user=user, ip=ip, ask_code=mfa.is_enrolled(user))
        self.order_fields(["old_password", "current_code"])

    def clean_old_password(self) -> str:
        return self.check_password()

    def clean(self):
        cleaned = super().clean()
        self.check_code_last()
        return cleaned


class ProfileForm(forms.ModelForm):
    """The name and credentials a signature carries; "Other" needs its text, and the text
    is dropped for any other choice (it would otherwise linger unseen)."""

    class Meta:
        model = Profile
        fields = ["full_name", "credential", "credential_other", "registration_number"]

    def clean(self):
        data = super().clean()
        if data.get("credential") == "other" and not (data.get("credential_other") or "").strip():
            self.add_error("credential_other", 'Write your credentials in when you choose "Other".')
        elif data.get("credential") != "other":
            data["credential_other"] = ""
        return data
