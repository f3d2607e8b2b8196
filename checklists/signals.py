"""Audit events for authentication and permission changes.

Django reports these through signals, so signals are where they are heard; each receiver
only records an event (no other behaviour lives here). The django-axes lockout is heard in
accounts/lockout.py, beside the rest of the lockout.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from . import audit
from .models import AuditEvent

User = get_user_model()


def _ip(request) -> str | None:
    return audit.client_ip(request) if request is not None else None


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit.record(AuditEvent.Action.LOGIN, user=user, ip=_ip(request))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    audit.record(AuditEvent.Action.LOGOUT, user=user, ip=_ip(request))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # The username tried is kept (truncated), never the password.
    tried = str(credentials.get("username", ""))[:150]
    audit.record(AuditEvent.Action.LOGIN_FAILED, ip=_ip(request), detail={"username": tried})


def _who(instance) -> dict:
    return {"object": str(instance)[:150]}


@receiver(m2m_changed, sender=User.groups.through)
def on_groups_changed(sender, instance, action, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        audit.record(
            AuditEvent.Action.GROUPS_CHANGED,
            obj=instance,
            detail={**_who(instance), "change": action, "groups": sorted(pk_set or [])},
        )


@receiver(m2m_changed, sender=Group.permissions.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def on_permissions_changed(sender, instance, action, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        audit.record(
            AuditEvent.Action.PERMISSIONS_CHANGED,
            obj=instance,
            detail={**_who(instance), "change": action, "permissions": sorted(pk_set or [])},
        )
