"""What django-axes records about a failed login, the lockout in the audit trail, and the
wrong passwords and codes of a signed-in session counted toward the same lockout.

The receiver writes through `checklists.audit` (the one audit trail): the only reason this
module imports from `checklists`.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

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


# --- Wrong passwords and codes in a signed-in session ------------------------------------

SIGNED_OUT = (
    "Too many wrong passwords or codes: you were signed out, and logging in to this account "
    "is paused for 15 minutes. If these were not your attempts, tell your administrator."
)


def count_refusal(request, refused: str | None) -> HttpResponse | None:
    """Count a wrong password or code given in a signed-in session (the sign, password and
    second-factor forms; `refused` says which, None when neither was wrong) toward the same
    django-axes lockout as the login. At the limit the session ends, as the login now
    refuses the account, and the answer is the way to the login page; otherwise None.

    Without this a stolen session could ask the sign form for passwords as often as it
    liked (issue 15: 30 guesses, no lockout).
    """
    if refused is None:
        return None
    if not _count_failure(request, request.user):
        return None
    logout(request)
    messages.error(request, SIGNED_OUT)
    return redirect(settings.LOGIN_URL)


def _count_failure(request, user) -> bool:
    """Record one failure for `user` with django-axes; whether the account is now locked.

    axes is shown the address, the browser and the path, never the form: the posted fields
    of a sign form (a clinician's comments) must not land in axes' table. During a lockout
    the failure is not recorded again, so it does not stretch the cool-off (as at login),
    and axes' user_locked_out signal still reaches the audit trail (`on_lockout`).
    """
    seen = HttpRequest()
    seen.method, seen.path, seen.path_info = "POST", request.path, request.path_info
    seen.META = {key: request.META[key] for key in AXES_SEES if key in request.META}
    credentials = {get_user_model().USERNAME_FIELD: user.get_username()}
    seen.axes_locked_out = AxesProxyHandler.is_locked(seen, credentials)
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=seen)
    return seen.axes_locked_out


# The request headers axes reads: the peer address (AXES_IPWARE_META_PRECEDENCE_ORDER),
# the browser, what it accepts and the path.
AXES_SEES = ("REMOTE_ADDR", "HTTP_USER_AGENT", "HTTP_ACCEPT", "PATH_INFO")
