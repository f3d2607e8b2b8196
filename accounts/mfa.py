"""The second factor: who needs it, enrolment, recovery codes and checking a code.

Devices and token checks are django-otp's: a TOTP device (an authenticator app) and a
static device holding single-use recovery codes. django-otp refuses a TOTP code already
used (so a code typed at login cannot sign a checklist too) and slows guessing down by
doubling the wait after each wrong code, per device. Enrolling, new recovery codes, a
recovery code spent and a wrong code are written to the audit trail (`events`).
"""

from __future__ import annotations

from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.db import transaction
from django.utils.safestring import SafeString, mark_safe
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import events
from .events import Action

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


class CodeRefused(Exception):
    """The code was wrong, already used, or came too soon after wrong ones."""


def is_enrolled(user) -> bool:
    """Whether the user has a confirmed authenticator app (recovery codes come with it)."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def pending_step(user) -> str | None:
    """What a signed-in user must do before anything else: "verify", "setup" or nothing.

    Once enrolled, the second factor is asked for at every login, demo mode included.
    """
    if getattr(user, "is_verified", lambda: False)():
        return None
    if is_enrolled(user):
        return "verify"
    if settings.MFA_REQUIRED:
        return "setup"
    return None


def needs_code_to_sign(user) -> bool:
    """Signing asks for a code whenever the user has a second factor."""
    if hasattr(user, "otp_device"):
        # Set by django-otp's middleware: a session verified by a device means one is set
        # up, and an enrolled user never gets this far without verifying.
        return user.otp_device is not None
    return is_enrolled(user)


def normalise(code: str) -> str:
    return "".join((code or "").split()).replace("-", "").lower()


def _try(device: Device, code: str) -> str | None:
    """None when `device` accepts `code`, otherwise why not."""
    allowed, detail = device.verify_is_allowed()
    if not allowed:
        until = (detail or {}).get("locked_until")
        return "Too many wrong codes. " + (
            f"Try again after {until:%H:%M:%S} UTC." if until else "Try again later."
        )
    return None if device.verify_token(code) else "That code is not right."


def verify_code(user, code: str, *, form: str, ip: str | None = None) -> Device:
    """The user's device that accepts `code`: six digits go to the authenticator app,
    anything else to the recovery codes (each works once). Raises CodeRefused.

    Only the device the code is meant for is tried, so a typo in an app code does not
    slow down the recovery codes, and the other way round. A wrong code and a recovery
    code spent are written to the audit trail (`form` says where: "login", "sign", ...).
    """
    code = normalise(code)
    model = TOTPDevice if len(code) == 6 and code.isdigit() else StaticDevice
    refusal = "That code is not right."
    # The failure count django-otp writes must be committed even though the caller is told
    # no, so the refusal is raised after the transaction, not inside it.
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            refusal = _try(device, code)
            if refusal is None:
                if model is StaticDevice:
                    left = remaining_recovery_codes(user)
                    events.record(
                        Action.RECOVERY_CODE_USED, owner=user, ip=ip, form=form, left=left
                    )
                return device
    events.record(Action.MFA_CODE_REFUSED, owner=user, ip=ip, form=form)
    raise CodeRefused(refusal)


def pending_device(user) -> TOTPDevice:
    """The authenticator being set up: the same secret until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def qr_svg(device: TOTPDevice) -> SafeString:
    """The device's otpauth:// URL as inline SVG (drawn here: no image request, no network)."""
    return mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=5))  # noqa: S308


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def check_new_code(device: TOTPDevice, code: str) -> None:
    """Raise CodeRefused unless `code` comes from the authenticator being set up: it proves
    the app holds the secret (EnrolForm asks it before any code of the current one)."""
    refusal = _try(device, normalise(code))
    if refusal:
        raise CodeRefused(f"{refusal} Check the time on your phone and try again.")


def confirm_device(*, request, device: TOTPDevice, ip: str | None) -> list[str]:
    """Confirm a new authenticator (once EnrolForm has checked a code from it, and the
    password and a current code when one is replaced), retire any earlier one, issue fresh
    recovery codes and mark the session verified. Returns the codes (shown once)."""
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        replaced, _ = TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
        codes = new_recovery_codes(device.user)
        events.record(
            Action.MFA_ENROLLED,
            owner=device.user,
            ip=ip,
            replaced=bool(replaced),
            recovery_codes=len(codes),
        )
    complete_login(request, device)
    return codes


@transaction.atomic
def renew_recovery_codes(*, user, ip: str | None) -> list[str]:
    """New recovery codes asked for on their own (after the password and a current code)."""
    codes = new_recovery_codes(user)
    events.record(Action.RECOVERY_CODES_ISSUED, owner=user, ip=ip, count=len(codes))
    return codes


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones."""
    static, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": RECOVERY_NAME, "confirmed": True}
    )
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def remaining_recovery_codes(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def complete_login(request, device: Device) -> None:
    """Mark the session verified by `device`, under a new session key (the session has
    just gained privileges, so a key seen before this moment must not carry them)."""
    request.session.cycle_key()
    django_otp.login(request, device)
