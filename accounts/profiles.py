"""Writing a user's profile (name, credentials, registration number), audited.

One write function for the user's own page and the admin's inline, so that each change
of the name a signature will carry is on record with who made it.
"""

from __future__ import annotations

from django.db import transaction

from . import events
from .models import Profile

FIELDS = ("full_name", "credential", "credential_other", "registration_number")


@transaction.atomic
def save_profile(*, owner, values: dict, ip: str | None, actor=None) -> Profile:
    """Create or change `owner`'s profile with `values` (FIELDS); audited as
    `profile_changed` with the fields changed (not their values: the trail is read by
    auditors, the profile page by its owner and the admin)."""
    profile = Profile.objects.filter(user=owner).first() or Profile(user=owner)
    changed = [name for name in FIELDS if getattr(profile, name) != values.get(name, "")]
    if not changed and profile.pk:
        return profile
    for name in FIELDS:
        setattr(profile, name, values.get(name, ""))
    profile.full_clean()
    profile.save()
    record_change(owner=owner, changed=changed, ip=ip, actor=actor)
    return profile


def record_change(*, owner, changed: list[str], ip: str | None, actor=None) -> None:
    events.record(
        events.Action.PROFILE_CHANGED,
        owner=owner,
        actor=actor,
        ip=ip,
        changed=changed,
        **({"by_admin": True} if actor is not None else {}),
    )
