"""The second-factor devices and the password an administrator sets, in the admin, audited.

An administrator removing a lost authenticator (the way back in for someone whose phone is
gone) or adding a device changes the owner's account: each is an event about the owner,
made by the administrator from their address, and the owner is told at their next login
(events). django-otp registers its own admin classes; they are imported here first
(`accounts` comes before the otp apps in INSTALLED_APPS, so autodiscover reaches this module
earlier) and replaced by subclasses that record.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import get_user_model
from django_otp.plugins.otp_static import admin as static_admin
from django_otp.plugins.otp_totp import admin as totp_admin

from . import events, profiles
from .models import Profile

Action = events.Action


class AuditedDeviceAdmin:
    """Records every device an administrator adds, confirms, unconfirms or deletes."""

    kind = ""  # in the event's detail
    added_action = Action.MFA_ENROLLED

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and "confirmed" not in form.changed_data:
            return
        if obj.confirmed:
            self._record(request, self.added_action, obj)
        elif change:
            self._record(request, Action.MFA_REMOVED, obj)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self._record(request, Action.MFA_REMOVED, obj)

    def delete_queryset(self, request, queryset) -> None:
        devices = list(queryset.select_related("user"))
        super().delete_queryset(request, queryset)
        for device in devices:
            self._record(request, Action.MFA_REMOVED, device)

    def _record(self, request, action: str, device) -> None:
        events.record(
            action,
            owner=device.user,
            actor=request.user,
            ip=events.client_ip(request),
            device=self.kind,
            by_admin=True,
        )


class TOTPDeviceAdmin(AuditedDeviceAdmin, totp_admin.TOTPDeviceAdmin):
    kind = "authenticator"


class StaticDeviceAdmin(AuditedDeviceAdmin, static_admin.StaticDeviceAdmin):
    kind = "recovery codes"
    added_action = Action.RECOVERY_CODES_ISSUED


for model, model_admin in (
    (totp_admin.TOTPDevice, TOTPDeviceAdmin),
    (static_admin.StaticDevice, StaticDeviceAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 1  # a blank one for a user without a profile; left blank, nothing is saved
    max_num = 1


class UserAdmin(auth_admin.UserAdmin):
    """Django's user admin, with the password an administrator sets written as an event
    about the owner's account: the owner is told of it at their next login, as of any
    other change to their password (events.TOLD_AT_NEXT_LOGIN). The profile (the name a
    signature carries) is edited inline; a change is audited as the owner's own is."""

    inlines = [ProfileInline]

    def save_formset(self, request, form, formset, change) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is Profile and (
            changed := sorted(formset.forms[0].changed_data if formset.forms else [])
        ):
            profiles.record_change(
                owner=form.instance,
                changed=changed,
                ip=events.client_ip(request),
                actor=request.user,
            )

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            events.record(
                Action.PASSWORD_CHANGED,
                owner=self.get_object(request, unquote(id)),
                actor=request.user,
                ip=events.client_ip(request),
                form="admin",
                by_admin=True,
            )
        return response


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), UserAdmin)
