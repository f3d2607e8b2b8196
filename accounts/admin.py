"""The second-factor devices in the admin, audited.

An administrator removing a lost authenticator (the way back in for someone whose phone is
gone) or adding a device changes the owner's account: each is an event about the owner,
made by the administrator from their address, and the owner is told at their next login
(events). django-otp registers its own admin classes; they are imported here first
(`accounts` comes before the otp apps in INSTALLED_APPS, so autodiscover reaches this module
earlier) and replaced by subclasses that record.
"""

from __future__ import annotations

from django.contrib import admin
from django_otp.plugins.otp_static import admin as static_admin
from django_otp.plugins.otp_totp import admin as totp_admin

from . import events

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
