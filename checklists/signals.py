"""Audit events for authentication, permission, team and staff changes.

Django reports these through signals, so signals are where they are heard; each receiver
only records an event (no other behaviour lives here). The django-axes lockout is heard in
accounts/lockout.py, beside the rest of the lockout.

Changes to people (groups, permissions, team membership, staff and superuser status) are
charged to the request being handled, its user and address, whatever path made them (the
admin, the shell, a command: see checklists/audit.py for why a context variable and not
the admin's hooks); made outside a request, they say so.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_save, pre_save
from django.dispatch import receiver

from . import audit
from .models import AuditEvent, Team

User = get_user_model()

M2M_DONE = ("post_add", "post_remove", "post_clear")


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
    if action in M2M_DONE:
        audit.record_by_current_actor(
            AuditEvent.Action.GROUPS_CHANGED,
            obj=instance,
            detail={**_who(instance), "change": action, "groups": sorted(pk_set or [])},
        )


@receiver(m2m_changed, sender=Group.permissions.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
def on_permissions_changed(sender, instance, action, pk_set, **kwargs):
    if action in M2M_DONE:
        audit.record_by_current_actor(
            AuditEvent.Action.PERMISSIONS_CHANGED,
            obj=instance,
            detail={**_who(instance), "change": action, "permissions": sorted(pk_set or [])},
        )


# --- Team membership -----------------------------------------------------------------------


@receiver(m2m_changed, sender=Team.members.through)
def on_team_members_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """One event per team whose members changed, about the team (so the team's auditors see
    it, also once the person removed is no longer a member): who was added or removed.

    Heard from either side: `team.members.add(user)` (the Team admin) and
    `user.teams.add(team)`. A clear is heard before it happens, to know whom it removes."""
    if action == "pre_clear":
        instance._audit_cleared = list(instance.teams.all() if reverse else instance.members.all())
        return
    if action not in M2M_DONE:
        return
    change = "added" if action == "post_add" else "removed"
    if action == "post_clear":
        others = instance.__dict__.pop("_audit_cleared", [])
    else:
        others = list(model._default_manager.filter(pk__in=pk_set or ()).order_by("pk"))
    if reverse:  # the instance is a user; one event for each of the teams
        for team in others:
            _record_membership(team, change, [instance])
    elif others:
        _record_membership(instance, change, others)


def _record_membership(team: Team, change: str, users) -> None:
    audit.record_by_current_actor(
        AuditEvent.Action.TEAM_MEMBERSHIP_CHANGED,
        obj=team,
        detail={
            "team": team.name,
            change: [{"id": u.pk, "username": u.get_username()} for u in users],
        },
    )


# --- Staff and superuser status ------------------------------------------------------------

STAFF_FLAGS = ("is_staff", "is_superuser")


def _flags_saved(update_fields) -> tuple[str, ...]:
    return tuple(f for f in STAFF_FLAGS if update_fields is None or f in update_fields)


@receiver(pre_save, sender=User)
def remember_staff_flags(sender, instance, raw, update_fields, **kwargs):
    """The flags as stored, read just before a save that writes them (one query, only for
    saves that may change them: a sign-in's `last_login` save does not)."""
    flags = _flags_saved(update_fields)
    stored = None
    if not raw and flags and instance.pk is not None:
        stored = User.objects.filter(pk=instance.pk).values(*flags).first()
    instance._audit_staff_stored = stored or {}


@receiver(post_save, sender=User)
def on_staff_flags_saved(sender, instance, created, update_fields, raw, **kwargs):
    """Admin access and every permission: a change of is_staff or is_superuser, or a new
    user created with either, is written with the old and new values. (A queryset
    `update()` bypasses save and so this receiver; nothing in the app does that to users.)"""
    if raw:
        return
    stored = instance.__dict__.pop("_audit_staff_stored", {})
    changes = {}
    for flag in _flags_saved(update_fields):
        old, new = stored.get(flag, False), getattr(instance, flag)
        if old != new:
            changes[flag] = [old, new]
    if changes:
        audit.record_by_current_actor(
            AuditEvent.Action.STAFF_STATUS_CHANGED,
            obj=instance,
            detail={**_who(instance), **changes, **({"created": True} if created else {})},
        )
