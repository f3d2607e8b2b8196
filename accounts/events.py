"""The account's own events in the audit trail, and the owner told of them at the next login.

A password or second factor changed by someone at an unlocked clinic computer is noticed
only if the owner hears of it: at their next login, each change to their account since the
login before is shown to them, with when and from which address. Every such event is
written with the account as its object (and the person who made it as its user, who may be
an administrator), so one query finds them.

The owner is told once the second factor is given (`deliver`, from the second-factor
middleware): an address is not for someone who has only the password.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.utils import timezone

from checklists import audit
from checklists.audit import client_ip
from checklists.models import AuditEvent

__all__ = ["client_ip", "deliver", "record", "remember_changes"]

Action = AuditEvent.Action

# What the owner is told at their next login, by action.
TOLD_AT_NEXT_LOGIN = {
    Action.PASSWORD_CHANGED: "Your password was changed",
    Action.MFA_ENROLLED: "Your second factor was set up or replaced",
    Action.MFA_REMOVED: "Your second factor was removed",
    Action.RECOVERY_CODES_ISSUED: "New recovery codes were made for your account",
}
NOTICES = "account_notices"  # session key: the sentences waiting for the second factor
MOST_NOTICES = 5


def record(action: str, *, owner, ip: str | None, actor=None, **detail) -> AuditEvent:
    """An event about `owner`'s account, made by `actor` (an administrator) or by the owner."""
    return audit.record(action, user=actor or owner, obj=owner, ip=ip, detail=detail)


def remember_changes(sender, request, user, **kwargs) -> None:
    """At login: the changes to the account since the previous login, kept in the session
    for `deliver`. Connected before Django's own receiver that moves `last_login` on (this
    app's ready() runs before django.contrib.auth's), so `last_login` is still the previous
    login here; tests/test_account_takeover.py proves it."""
    since = user.last_login
    if since is None or getattr(request, "session", None) is None:
        return
    events = AuditEvent.objects.filter(
        object_type=get_user_model()._meta.model_name,
        object_id=str(user.pk),
        action__in=list(TOLD_AT_NEXT_LOGIN),
        at__gt=since,
    ).order_by("-at")[:MOST_NOTICES]
    notices = [_sentence(event) for event in events]
    if notices:
        request.session[NOTICES] = notices


def _sentence(event: AuditEvent) -> str:
    when = timezone.localtime(event.at)
    return (
        f"{TOLD_AT_NEXT_LOGIN[event.action]} on {when:%d %B %Y at %H:%M} {when.tzname()} "
        f"from {event.ip_address or 'an unknown address'}. If this was not you, tell your "
        "administrator."
    )


def deliver(request) -> None:
    """Show the waiting notices (once) on the first page after the second factor."""
    for sentence in request.session.pop(NOTICES, None) or []:
        messages.warning(request, sentence)
