"""Who a user is when they sign: their name and professional credentials (issue 19).

A signature on a clinical record names a person, not a login. The profile is the user's
own to edit (and the admin's); what a signed checklist shows is frozen on it at signing
(`ChecklistResponse.signed_as`), so a later edit never rewrites a signed record.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Credential(models.TextChoices):
    MD = "MD", "MD (physician)"
    DO = "DO", "DO (osteopathic physician)"
    PHARMD = "PharmD", "PharmD (pharmacist)"
    NP = "NP", "NP (nurse practitioner)"
    PA = "PA", "PA (physician assistant)"
    RN = "RN", "RN (registered nurse)"
    OTHER = "other", "Other (write it in)"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    full_name = models.CharField(max_length=120, help_text="As it should appear on a signature.")
    credential = models.CharField(
        "professional credentials", max_length=10, choices=Credential.choices, blank=True
    )
    credential_other = models.CharField(
        "other credentials",
        max_length=60,
        blank=True,
        help_text='When "Other": the credentials as written after your name.',
    )
    registration_number = models.CharField(
        max_length=40, blank=True, help_text="Optional: your licence or registration number."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(credential="other") | ~Q(credential_other=""),
                name="other_credential_written_in",
            ),
            models.CheckConstraint(condition=~Q(full_name=""), name="profile_has_full_name"),
        ]

    def __str__(self) -> str:
        return self.signature()

    @property
    def credentials(self) -> str:
        """The credentials as written after the name ("PharmD", or the free text)."""
        if self.credential == Credential.OTHER:
            return self.credential_other.strip()
        return self.credential

    def signature(self) -> str:
        """ "Dana Reyes, PharmD": how every signed record names this person."""
        return ", ".join(part for part in (self.full_name.strip(), self.credentials) if part)

    def frozen(self) -> dict[str, str]:
        """What a signed checklist keeps of the signer (`signed_as`)."""
        return {
            "name": self.full_name.strip(),
            "credentials": self.credentials,
            "registration_number": self.registration_number.strip(),
        }


def signer_identity(user) -> dict[str, str]:
    """The signer as frozen at signing: the profile's name and credentials, or the
    username alone when the user has no profile."""
    try:
        profile = user.profile
    except Profile.DoesNotExist:
        return {"name": user.get_username(), "credentials": "", "registration_number": ""}
    return profile.frozen()


def signature_text(identity: dict | None, fallback: str = "") -> str:
    """ "Name, credentials" from a frozen identity; `fallback` (the username) without one."""
    if not identity or not identity.get("name"):
        return fallback
    return ", ".join(p for p in (identity["name"], identity.get("credentials", "")) if p)


def signature_for(user) -> str:
    """How `user` would be named on a checklist signed now (the signing page says so)."""
    return signature_text(signer_identity(user), user.get_username())
