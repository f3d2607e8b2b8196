"""Signing, amending, returning and restarting a checklist."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError

from accounts import mfa
from accounts.forms import otp_code_field
from accounts.models import signature_for

from ..models import (
    Acknowledgement,
)
from .fields import PlainTextField, clean_text

if TYPE_CHECKING:
    from ..cases.signing import SignRefused


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

    def __init__(self, *args, user, flags=(), carried=None, **kwargs):
        """`carried`: {problem code: the amended revision's Acknowledgement} for problems an
        amendment left unchanged; their fields start with its reason and comment."""
        self.user = user
        # "Signing as Dana Reyes, PharmD": the name the signed record will carry.
        self.signing_as = signature_for(user)
        self.carried = carried or {}
        super().__init__(*args, **kwargs)
        self.fields["attest"].error_messages["required"] = "Tick the attestation to sign."
        # With a second factor set up, signing asks for a fresh code as well as the password.
        self.needs_code = mfa.needs_code_to_sign(user)
        if self.needs_code:
            self.fields["otp_token"] = otp_code_field()
        self.ack_flags = [flag for flag in flags if flag.needs_acknowledgement]
        for flag in self.ack_flags:
            prefix = ack_field_prefix(flag.code)
            # Radios, not a list to open: every reason in view, one click to choose (issue
            # 18: the intake's clicks), and none chosen until the clinician chooses.
            # The caution's title heads its group on the page (the group's legend), so the
            # reasons are not introduced by it a second time; the error names it instead.
            self.fields[f"{prefix}_reason"] = forms.ChoiceField(
                label="Reason for going ahead",
                choices=Acknowledgement.Reason.choices,
                widget=forms.RadioSelect,
                error_messages={"required": f"Choose a reason to acknowledge “{flag.title}”."},
            )
            self.fields[f"{prefix}_comment"] = forms.CharField(
                label="Comment (required when the reason is Other)",
                required=False,
                max_length=1000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            if flag.code in self.carried:
                ack = self.carried[flag.code]
                self.fields[f"{prefix}_reason"].initial = ack.reason
                self.fields[f"{prefix}_comment"].initial = ack.comment
                self.fields[f"{prefix}_reason"].help_text = (
                    f"Carried from revision {ack.response.revision} (the problem is unchanged); "
                    "change it if it no longer applies."
                )

    def ack_rows(self) -> list[dict]:
        """What the template needs per flag: the flag and its two bound fields."""
        return [
            {
                "flag": flag,
                "carried": self.carried.get(flag.code),
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

    def acknowledgement_missing(self) -> bool:
        """Whether a serious caution lacks a valid acknowledgement (the view audits it as a
        refused signing)."""
        return any(
            f"{ack_field_prefix(flag.code)}_{part}" in self.errors
            for flag in self.ack_flags
            for part in ("reason", "comment")
        )

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


class RestartForm(forms.Form):
    """The lock version of the draft the page showed, so a restart never races a save."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
