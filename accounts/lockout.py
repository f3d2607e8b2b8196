"""What django-axes records about a failed login, and the lockout in the audit trail.

The receiver writes through `checklists.audit` (the one audit trail): the only reason this
module imports from `checklists`.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.dispatch import receiver

from checklists import audit
from checklists.models import AuditEvent


def username_for_lockout(request, credentials: dict | None) -> str | None:
    """The username as typed, cut to the longest a real account can have.

    Django's login forms do not enforce the username's length, so a megabyte of "username"
    reached axes, whose 255-character column refused it (a 500 on PostgreSQL). No account
    has a longer name, so cutting cannot merge two real accounts' counts.
    """
    field = get_user_model().USERNAME_FIELD
    if credentials and credentials.get(field) is not None:
        username = credentials[field]
    else:
        username = request.POST.get(field) if request is not None else None
    if username is None:
        return None
    return str(username)[: get_user_model()._meta.get_field(field).max_length]


@receiver(user_locked_out)
def on_lockout(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    # django-axes sends this when an attempt reaches the limit and again for every attempt
    # refused during the cool-off, so the trail shows how long someone kept trying.
    audit.record(
        AuditEvent.Action.LOCKOUT,
        ip=(audit.client_ip(request) if request is not None else None) or ip_address,
        detail={"username": str(username or "")[:150]},
    )
