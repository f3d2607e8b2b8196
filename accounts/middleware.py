"""The session's life and the second factor, applied to every request."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from . import events, mfa, sessions

TIMEOUT_MESSAGES = {
    "idle": "You were signed out after 30 minutes without activity. Log in again to go on.",
    "absolute": "Your session reached its 12-hour limit. Log in again to go on.",
}


class SessionTimeoutMiddleware:
    """Ends a signed-in session after 30 minutes idle or 12 hours in all (settings), deleting
    it server-side, and sends the user to the login page with the reason."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            reason = sessions.expiry_reason(request.session)
            if reason:
                logout(request)
                messages.info(request, TIMEOUT_MESSAGES[reason])
                return redirect_to_login(request.get_full_path())
            sessions.touch(request.session)
        return self.get_response(request)


# The pages a signed-in user may reach before giving the second factor, by pending step.
SECOND_FACTOR_PAGES = {
    "verify": {"mfa_verify", "logout"},
    "setup": {"mfa_setup", "logout"},
}


class SecondFactorMiddleware:
    """Until the second factor is given, a signed-in user reaches only the page that asks
    for it (or sets it up) and logout. The admin is covered like every other page. Once it
    is given, the changes to the account since the previous login are shown (events)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.user.is_authenticated:
            return None
        step = mfa.pending_step(request.user)
        if step is None:
            events.deliver(request)
            return None
        if request.resolver_match.view_name in SECOND_FACTOR_PAGES[step]:
            return None
        return redirect_to_login(request.get_full_path(), login_url=reverse(f"mfa_{step}"))
